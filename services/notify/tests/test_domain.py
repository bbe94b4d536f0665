"""Notification templates and recipients, without a broker or a database."""
from datetime import datetime, timedelta, timezone

import pytest

from services.notify import domain
from services.notify.domain import Message

UTC = timezone.utc


# --- Beijing time ----------------------------------------------------------------------

@pytest.mark.parametrize("moment, shown", [
    (datetime(2024, 11, 21, 12, 30, tzinfo=UTC), "11月21日 20:30"),
    (datetime(2024, 11, 21, 15, 59, tzinfo=UTC), "11月21日 23:59"),
    (datetime(2024, 11, 21, 16, 0, tzinfo=UTC), "11月22日 00:00"),  # past midnight in Beijing
    (datetime(2024, 12, 31, 16, 5, tzinfo=UTC), "1月1日 00:05"),  # a new year in Beijing
    (datetime(2024, 2, 28, 20, 0, tzinfo=UTC), "2月29日 04:00"),  # leap day
    (datetime(2024, 3, 5, 1, 7, 59, tzinfo=UTC), "3月5日 09:07"),  # seconds are dropped
    (datetime(2024, 3, 5, 9, 7, tzinfo=timezone(timedelta(hours=8))), "3月5日 09:07"),
    (datetime(2024, 7, 1, 0, 0, tzinfo=timezone(timedelta(hours=-5))), "7月1日 13:00"),
])
def test_times_are_shown_in_beijing_time(moment, shown):
    assert domain.beijing_time(moment) == shown


# --- team opened ---------------------------------------------------------------------

def test_the_leader_is_told_the_team_is_open_with_its_share_link():
    deadline = datetime(2024, 11, 21, 12, 30, tzinfo=UTC)
    assert domain.team_opened(7, 3, deadline, "AbC_12-x") == [Message(
        user_id=7, kind="team_opened", title="开团成功",
        body="你的拼团已开团，还差2人成团，快分享给好友吧！截止时间 11月21日 20:30",
        link="/api/v1/teams/share/AbC_12-x")]


@pytest.mark.parametrize("team_size, missing", [(2, 1), (3, 2), (10, 9)])
def test_the_opening_message_counts_the_seats_after_the_leader(team_size, missing):
    [message] = domain.team_opened(7, team_size, datetime(2024, 1, 1, tzinfo=UTC), "t")
    assert message.body.startswith(f"你的拼团已开团，还差{missing}人成团，")


# --- someone joined -----------------------------------------------------------------------

def test_the_leader_hears_of_a_friend_who_joined():
    assert domain.someone_joined(team_id=5, joiner_id=8, leader_id=7, member_count=2,
                                 team_size=4) == [Message(
        user_id=7, kind="team_joined", title="新伙伴参团",
        body="有新伙伴加入了你的拼团，还差2人成团", link="/api/v1/teams/5")]


@pytest.mark.parametrize("member_count, team_size, missing", [
    (2, 3, 1), (2, 5, 3), (4, 5, 1), (2, 10, 8)])
def test_the_join_message_counts_the_seats_still_missing(member_count, team_size, missing):
    [message] = domain.someone_joined(5, 8, 7, member_count, team_size)
    assert message.body == f"有新伙伴加入了你的拼团，还差{missing}人成团"


def test_the_leaders_own_payment_is_no_news_to_them():
    assert domain.someone_joined(5, joiner_id=7, leader_id=7, member_count=1, team_size=3) == []


@pytest.mark.parametrize("member_count, team_size", [(2, 2), (3, 3), (4, 3)])
def test_the_seat_that_fills_the_team_is_left_to_the_success_message(member_count, team_size):
    assert domain.someone_joined(5, 8, 7, member_count, team_size) == []


def test_only_the_leader_hears_of_a_join_never_the_joiner():
    messages = domain.someone_joined(5, 8, 7, 2, 3)
    assert [m.user_id for m in messages] == [7]


# --- team outcomes ------------------------------------------------------------------------

def test_every_member_hears_the_team_succeeded():
    assert domain.team_succeeded(5, [7, 8, 9]) == [
        Message(user_id, "team_succeeded", "拼团成功", "拼团成功，商家将尽快发货",
                "/api/v1/teams/5") for user_id in (7, 8, 9)]


def test_every_member_hears_the_team_failed_and_the_refund_started():
    assert domain.team_failed(5, [7, 8]) == [
        Message(user_id, "team_failed", "拼团失败", "拼团未成功，已为你发起退款，款项将原路退回",
                "/api/v1/teams/5") for user_id in (7, 8)]


@pytest.mark.parametrize("template", [domain.team_succeeded, domain.team_failed])
def test_a_member_listed_twice_gets_one_message(template):
    assert [m.user_id for m in template(5, [8, 7, 8, 7, 9])] == [8, 7, 9]


@pytest.mark.parametrize("template", [domain.team_succeeded, domain.team_failed])
def test_no_members_means_no_messages(template):
    assert template(5, []) == []


# --- refund -------------------------------------------------------------------------------

@pytest.mark.parametrize("amount, shown", [
    (1, "¥0.01"), (10, "¥0.10"), (99, "¥0.99"), (100, "¥1.00"), (2990, "¥29.90"),
    (12345, "¥123.45"), (100000000, "¥1000000.00")])
def test_the_refund_message_shows_yuan(amount, shown):
    assert domain.refund_completed(7, 42, amount) == [Message(
        user_id=7, kind="refund_completed", title="退款到账", body=f"退款已到账：{shown}",
        link="/api/v1/orders/42")]


# --- shipping, stock, reviews, feedback --------------------------------------------------

def test_the_shopper_hears_their_order_shipped_with_carrier_and_number():
    assert domain.order_shipped(7, 42, "顺丰速运", "SF1234567890") == [Message(
        user_id=7, kind="order_shipped", title="订单已发货", body="订单已发货 顺丰速运 SF1234567890",
        link="/api/v1/orders/42")]


def test_the_merchant_hears_of_low_stock_with_the_product_spec_and_units_left():
    assert domain.stock_low(1, 3, "烟台红富士苹果 5斤装", "5斤 / 单果70-75mm", 4) == [Message(
        user_id=1, kind="stock_low", title="库存不足",
        body="库存不足：烟台红富士苹果 5斤装 5斤 / 单果70-75mm 仅剩 4 件",
        link="/admin/v1/products/3")]


def test_a_sold_out_sku_and_a_product_without_spec_read_naturally():
    [sold_out] = domain.stock_low(1, 3, "砀山酥梨", "", 0)
    assert sold_out.body == "库存不足：砀山酥梨 已售罄"
    [one_left] = domain.stock_low(1, 3, "砀山酥梨", "默认", 1)
    assert one_left.body == "库存不足：砀山酥梨 默认 仅剩 1 件"


def test_the_reviewer_hears_the_merchant_replied():
    assert domain.review_replied(7, 9) == [Message(
        user_id=7, kind="review_replied", title="商家回复", body="商家回复了你的评价",
        link="/api/v1/reviews/9")]


@pytest.mark.parametrize("status, label", [("processing", "处理中"), ("resolved", "已解决"),
                                           ("open", "待处理")])
def test_the_shopper_hears_their_feedback_was_answered_and_its_status(status, label):
    assert domain.feedback_answered(7, 5, status) == [Message(
        user_id=7, kind="feedback_answered", title="反馈有回复",
        body=f"你的投诉与建议有了新回复（{label}）", link="/api/v1/feedback/5")]


def test_every_template_makes_a_kind_of_its_own():
    deadline = datetime(2024, 1, 1, tzinfo=UTC)
    made = [domain.team_opened(1, 2, deadline, "t"), domain.someone_joined(1, 2, 1, 1, 3),
            domain.team_succeeded(1, [1]), domain.team_failed(1, [1]),
            domain.refund_completed(1, 1, 1), domain.order_shipped(1, 1, "顺丰速运", "SF1"),
            domain.stock_low(1, 1, "t" * 200, "s" * 100, 1), domain.review_replied(1, 1),
            domain.feedback_answered(1, 1, "resolved")]
    assert [messages[0].kind for messages in made] == list(domain.KINDS)
    assert all(len(m.kind) <= 32 and len(m.title) <= 100 for messages in made for m in messages)
