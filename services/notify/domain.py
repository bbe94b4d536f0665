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
ORDER_SHIPPED = "order_shipped"
STOCK_LOW = "stock_low"
REVIEW_REPLIED = "review_replied"
FEEDBACK_ANSWERED = "feedback_answered"
KINDS = (TEAM_OPENED, TEAM_JOINED, TEAM_SUCCEEDED, TEAM_FAILED, REFUND_COMPLETED, ORDER_SHIPPED,
         STOCK_LOW, REVIEW_REPLIED, FEEDBACK_ANSWERED)
FEEDBACK_LABELS = {"open": "待处理", "processing": "处理中", "resolved": "已解决"}


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


def admin_product_link(product_id):
    return f"/admin/v1/products/{product_id}"


def review_link(review_id):
    return f"/api/v1/reviews/{review_id}"


def feedback_link(feedback_id):
    return f"/api/v1/feedback/{feedback_id}"


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


def order_shipped(user_id, order_id, carrier, tracking_no):
    return [Message(user_id, ORDER_SHIPPED, "订单已发货",
                    f"订单已发货 {carrier} {tracking_no}", order_link(order_id))]


def stock_low(merchant_id, product_id, title, spec, stock):
    """To the merchant of the product: a SKU fell to its low-stock threshold."""
    name = " ".join(part for part in (title, spec) if part)
    left = "已售罄" if stock <= 0 else f"仅剩 {stock} 件"
    return [Message(merchant_id, STOCK_LOW, "库存不足", f"库存不足：{name} {left}",
                    admin_product_link(product_id))]


def review_replied(user_id, review_id):
    return [Message(user_id, REVIEW_REPLIED, "商家回复", "商家回复了你的评价",
                    review_link(review_id))]


def feedback_answered(user_id, feedback_id, status):
    return [Message(user_id, FEEDBACK_ANSWERED, "反馈有回复",
                    f"你的投诉与建议有了新回复（{FEEDBACK_LABELS[status]}）",
                    feedback_link(feedback_id))]
