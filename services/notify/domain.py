"""Notification rules: who hears of an event and what they read. Pure functions, no I/O.

Each function turns one event into its messages, at most one per user: the store
keys a message by (event id, user, kind), so an event delivered again adds nothing.
Texts are Chinese, for shoppers; times are shown in Beijing time.
"""
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from plumbing.money import yuan

SHOPPERS_ZONE = ZoneInfo("Asia/Shanghai")

TEAM_OPENED = "team_opened"
TEAM_JOINED = "team_joined"
TEAM_SUCCEEDED = "team_succeeded"
TEAM_FAILED = "team_failed"
REFUND_COMPLETED = "refund_completed"
KINDS = (TEAM_OPENED, TEAM_JOINED, TEAM_SUCCEEDED, TEAM_FAILED, REFUND_COMPLETED)

MAX_PAGE_SIZE = 50


@dataclass(frozen=True)
class Message:
    user_id: int
    kind: str
    title: str
    body: str
    link: str | None


# --- links and formats ---------------------------------------------------------------

def share_link(share_token):
    return f"/api/v1/teams/share/{share_token}"


def team_link(team_id):
    return f"/api/v1/teams/{team_id}"


def order_link(order_id):
    return f"/api/v1/orders/{order_id}"


def beijing_time(moment):
    """An aware datetime as a shopper in China reads it: 11月21日 20:30."""
    local = moment.astimezone(SHOPPERS_ZONE)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _distinct(user_ids):
    """Each user once, in the order given: a member listed twice still gets one message."""
    return list(dict.fromkeys(user_ids))


# --- templates, one per event ----------------------------------------------------------

def team_opened(leader_id, team_size, deadline, share_token):
    """The leader's payment opened the team: they are its one member so far."""
    missing = team_size - 1
    return [Message(leader_id, TEAM_OPENED, "开团成功",
                    f"你的拼团已开团，还差{missing}人成团，快分享给好友吧！"
                    f"截止时间 {beijing_time(deadline)}",
                    share_link(share_token))]


def someone_joined(team_id, joiner_id, leader_id, member_count, team_size):
    """The leader hears of each friend who paid. Not of their own payment (that opened
    the team), nor of the seat that fills the team: "team succeeded" says it then."""
    if joiner_id == leader_id or member_count >= team_size:
        return []
    return [Message(leader_id, TEAM_JOINED, "新伙伴参团",
                    f"有新伙伴加入了你的拼团，还差{team_size - member_count}人成团",
                    team_link(team_id))]


def team_succeeded(team_id, user_ids):
    return [Message(user_id, TEAM_SUCCEEDED, "拼团成功", "拼团成功，商家将尽快发货",
                    team_link(team_id))
            for user_id in _distinct(user_ids)]


def team_failed(team_id, user_ids):
    """`user_ids` of a failed team are its paid members: those whose money comes back."""
    return [Message(user_id, TEAM_FAILED, "拼团失败",
                    "拼团未成功，已为你发起退款，款项将原路退回", team_link(team_id))
            for user_id in _distinct(user_ids)]


def refund_completed(user_id, order_id, amount):
    return [Message(user_id, REFUND_COMPLETED, "退款到账", f"退款已到账：¥{yuan(amount)}",
                    order_link(order_id))]
