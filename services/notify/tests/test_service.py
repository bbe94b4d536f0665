"""The notify service in a real container, on the real RabbitMQ and PostgreSQL: events
published as other services' envelopes become one message per event and user."""
import time

import pytest
import sqlalchemy as sa
from kombu import Connection

from contract import events
from contract.examples import example
from plumbing import deadletters
from plumbing.entrypoints import queue_names
from plumbing.errors import BadRequest
from plumbing.testing import event_envelope, publish_envelope, wait_until

LEADER, FRIEND, OTHER_FRIEND, STRANGER = 7, 8, 9, 10


@pytest.fixture
def notify(start_service):
    return start_service("notify")


@pytest.fixture
def db(engine_of):
    return engine_of("notify")


envelope = event_envelope


publish = publish_envelope

def team_opened(team_size=3, **overrides):
    return envelope(example(events.TeamOpened, **{

        "team_id": 5, "campaign_id": 2, "product_id": 3, "leader_id": LEADER,
        "opened_at": "2024-11-21T12:00:00Z", "deadline": "2024-11-21T12:30:00Z",
        "share_token": "AbC_12-x", "team_size": team_size,
        **overrides}))


def seat_paid(user_id, member_count, team_size=3):
    return envelope(example(events.SeatPaid, **{
        "team_id": 5, "order_id": 100 + user_id, "user_id": user_id,
                                  "member_count": member_count, "team_size": team_size,
                                  "leader_id": LEADER}))


def team_succeeded(team_id=5, user_ids=(LEADER, FRIEND, OTHER_FRIEND)):
    return envelope(example(events.TeamSucceeded, **{
        "team_id": team_id, "order_ids": [101, 102, 103],
                                       "user_ids": list(user_ids)}))


def handled(db, *event_ids):
    """True once every event's handler has committed (its inbox row is written in the
    same transaction as the messages)."""
    with db.connect() as conn:
        found = conn.execute(sa.text("SELECT count(DISTINCT event_id) FROM inbox "
                                     "WHERE event_id = ANY(:ids)"), {"ids": list(event_ids)})
        return found.scalar_one() == len(event_ids)


def deliver(amqp_uri, db, source, *messages):
    for message in messages:
        publish(amqp_uri, source, message)
    assert wait_until(lambda: handled(db, *[m["event_id"] for m in messages]))


def stored(db, user_id=None):
    with db.connect() as conn:
        rows = conn.execute(sa.text("SELECT user_id, kind, source_event_id FROM notifications "
                                    "ORDER BY id"))
        return [tuple(row) for row in rows if user_id is None or row[0] == user_id]


def inbox_of(rpc, user_id, **kwargs):
    return rpc.notify.list_notifications(user_id, **kwargs)


def waiting_in(amqp_uri, queue):
    with Connection(amqp_uri) as conn:
        return conn.channel().queue_declare(queue, passive=True).message_count


# --- one message per template --------------------------------------------------------

def test_the_leader_is_told_the_team_opened_with_its_share_link(notify, rpc, amqp_uri, db):
    deliver(amqp_uri, db, "teams", team_opened(team_size=3))
    inbox = inbox_of(rpc, LEADER)
    [item] = inbox["items"]
    assert item["created_at"].endswith("Z") and isinstance(item["id"], int)
    assert {k: v for k, v in item.items() if k not in ("id", "created_at")} == {
        "kind": "team_opened", "title": "开团成功",
        "body": "你的拼团已开团，还差2人成团，快分享给好友吧！截止时间 11月21日 20:30",
        "link": "/api/v1/teams/share/AbC_12-x", "read": False}
    assert (inbox["unread"], inbox["total"], inbox["page"], inbox["page_size"]) == (1, 1, 1, 20)


def test_only_the_leader_hears_of_a_friend_joining(notify, rpc, amqp_uri, db):
    deliver(amqp_uri, db, "teams", seat_paid(LEADER, member_count=1),  # the leader's own
            seat_paid(FRIEND, member_count=2),
            seat_paid(OTHER_FRIEND, member_count=3))  # fills the team: success says it
    [item] = inbox_of(rpc, LEADER)["items"]
    assert (item["kind"], item["title"], item["body"], item["link"]) == (
        "team_joined", "新伙伴参团", "有新伙伴加入了你的拼团，还差1人成团", "/api/v1/teams/5")
    assert [user for user, _, _ in stored(db)] == [LEADER]


def test_every_member_hears_the_outcome(notify, rpc, amqp_uri, db):
    deliver(amqp_uri, db, "teams", team_succeeded(team_id=5),
            envelope(example(events.TeamFailed, **{
        "team_id": 6, "paid_order_ids": [201, 202],
                                     "unpaid_order_ids": [203],
                                     "user_ids": [LEADER, FRIEND, FRIEND]})))
    assert sorted((user, kind) for user, kind, _ in stored(db)) == [
        (LEADER, "team_failed"), (LEADER, "team_succeeded"), (FRIEND, "team_failed"),
        (FRIEND, "team_succeeded"), (OTHER_FRIEND, "team_succeeded")]
    failed = next(i for i in inbox_of(rpc, FRIEND)["items"] if i["kind"] == "team_failed")
    assert (failed["title"], failed["body"], failed["link"]) == (
        "拼团失败", "拼团未成功，已为你发起退款，款项将原路退回", "/api/v1/teams/6")
    [succeeded] = inbox_of(rpc, OTHER_FRIEND)["items"]
    assert (succeeded["title"], succeeded["body"], succeeded["link"]) == (
        "拼团成功", "拼团成功，商家将尽快发货", "/api/v1/teams/5")


def test_a_completed_refund_shows_its_amount(notify, rpc, amqp_uri, db):
    deliver(amqp_uri, db, "payments", envelope(example(events.RefundSucceeded, **{

        "refund_id": 3, "order_id": 42, "amount": 12345, "user_id": FRIEND})))
    [item] = inbox_of(rpc, FRIEND)["items"]
    assert (item["kind"], item["title"], item["body"], item["link"]) == (
        "refund_completed", "退款到账", "退款已到账：¥123.45", "/api/v1/orders/42")


def test_shipping_stock_reviews_and_feedback_reach_the_right_inbox_once(notify, rpc, amqp_uri,
                                                                        db):
    merchant = 1
    shipped = envelope(example(events.OrderShipped, **{
        "order_id": 42, "user_id": FRIEND, "carrier": "顺丰速运",
                                         "tracking_no": "SF1234567890",
                                         "shipped_at": "2026-03-01T08:00:00Z"}))
    stock_low = envelope(example(events.StockLow, **{
        "merchant_id": merchant, "product_id": 3, "sku_id": 30,
                                       "title": "砀山酥梨", "spec": "5斤", "stock": 3,
                                       "threshold": 10}))
    replied = envelope(example(events.ReviewReplied, **{
        "review_id": 9, "user_id": FRIEND, "product_id": 3}))
    answered = envelope(example(events.FeedbackAnswered, **{
        "feedback_id": 5, "user_id": LEADER,
                                              "status": "resolved"}))
    deliver(amqp_uri, db, "orders", shipped)
    deliver(amqp_uri, db, "catalog", stock_low)
    deliver(amqp_uri, db, "reviews", replied, answered)
    for source, message in (("orders", shipped), ("catalog", stock_low),
                            ("reviews", replied), ("reviews", answered)):
        publish(amqp_uri, source, message)  # each delivered again: still one message
    time.sleep(0.5)
    deliver(amqp_uri, db, "reviews", envelope(example(events.ReviewReplied, **{
        "review_id": 10,
                                                                 "user_id": STRANGER})))

    def shown(user_id):
        return sorted((i["kind"], i["title"], i["body"], i["link"])
                      for i in inbox_of(rpc, user_id)["items"])

    assert shown(FRIEND) == [
        ("order_shipped", "订单已发货", "订单已发货 顺丰速运 SF1234567890", "/api/v1/orders/42"),
        ("review_replied", "商家回复", "商家回复了你的评价", "/api/v1/reviews/9")]
    assert shown(merchant) == [("stock_low", "库存不足", "库存不足：砀山酥梨 5斤 仅剩 3 件",
                                "/admin/v1/products/3")]
    assert shown(LEADER) == [("feedback_answered", "反馈有回复", "你的投诉与建议有了新回复（已解决）",
                              "/api/v1/feedback/5")]
    assert len(stored(db)) == 5  # the redeliveries added nothing


# --- once per event ------------------------------------------------------------------

def test_an_event_delivered_three_times_gives_one_message(notify, rpc, amqp_uri, db):
    event = team_succeeded(user_ids=[FRIEND])
    for _ in range(3):
        publish(amqp_uri, "teams", event)
    assert wait_until(lambda: handled(db, event["event_id"]))
    notify.stop()  # waits for running workers; anything not acked goes back to its queue
    main, retries, dlq = queue_names("teams", "team_succeeded", "notify", "on_team_succeeded")
    assert [waiting_in(amqp_uri, q) for q in (main, *retries, dlq)] == [0] * (len(retries) + 2)
    assert stored(db) == [(FRIEND, "team_succeeded", event["event_id"])]


def test_the_unique_key_holds_even_past_the_inbox(notify, rpc, amqp_uri, db):
    event = team_succeeded(user_ids=[LEADER, FRIEND])
    deliver(amqp_uri, db, "teams", event)
    with db.begin() as conn:  # as if the claim had been lost
        conn.execute(sa.text("DELETE FROM inbox"))
    deliver(amqp_uri, db, "teams", event)
    assert len(stored(db)) == 2
    assert rpc.notify.unread_count(FRIEND) == {"unread": 1}


def test_two_events_give_two_messages(notify, rpc, amqp_uri, db):
    deliver(amqp_uri, db, "teams", team_succeeded(team_id=5, user_ids=[FRIEND]),
            team_succeeded(team_id=6, user_ids=[FRIEND]))
    inbox = inbox_of(rpc, FRIEND)
    assert inbox["total"] == 2 and inbox["unread"] == 2
    assert sorted(i["link"] for i in inbox["items"]) == ["/api/v1/teams/5", "/api/v1/teams/6"]


def test_a_malformed_event_is_dead_lettered_not_dropped(notify, rpc, amqp_uri, db):
    # Built by hand: a declared event cannot be built without its user_ids.
    bad = publish(amqp_uri, "teams", {"event_id": "33333333-3333-3333-3333-333333333333",
                                      "type": "team_succeeded", "version": 1,
                                      "occurred_at": None, "data": {"team_id": 5}})
    dlq = queue_names("teams", "team_succeeded", "notify", "on_team_succeeded")[2]
    assert wait_until(lambda: waiting_in(amqp_uri, dlq) == 1)
    [parked] = deadletters.peek(amqp_uri, dlq)
    assert parked["body"]["event_id"] == bad["event_id"]
    assert "user_ids" in parked["headers"]["x-pintuan-error"]
    assert stored(db) == [] and not handled(db, bad["event_id"])


# --- reading the inbox ---------------------------------------------------------------

def test_the_inbox_pages_newest_first(notify, rpc, amqp_uri, db):
    for team_id in (1, 2, 3):  # one after another, so their order is known
        deliver(amqp_uri, db, "teams", team_succeeded(team_id=team_id, user_ids=[FRIEND]))
    first = inbox_of(rpc, FRIEND, page=1, page_size=2)
    second = inbox_of(rpc, FRIEND, page=2, page_size=2)
    assert [i["link"] for i in first["items"] + second["items"]] == [
        "/api/v1/teams/3", "/api/v1/teams/2", "/api/v1/teams/1"]
    assert (first["total"], first["unread"], second["page"], second["page_size"]) == (3, 3, 2, 2)
    assert inbox_of(rpc, STRANGER) == {"items": [], "unread": 0, "total": 0, "page": 1,
                                       "page_size": 20}


def test_marking_read_touches_only_the_users_own_messages(notify, rpc, amqp_uri, db):
    deliver(amqp_uri, db, "teams", team_succeeded(team_id=5, user_ids=[FRIEND, LEADER]),
            team_succeeded(team_id=6, user_ids=[FRIEND]))
    friends = {i["link"]: i["id"] for i in inbox_of(rpc, FRIEND)["items"]}
    [leaders] = [i["id"] for i in inbox_of(rpc, LEADER)["items"]]

    assert rpc.notify.mark_read(FRIEND, [friends["/api/v1/teams/5"], leaders, 999999]) == {
        "unread": 1}
    assert rpc.notify.unread_count(LEADER) == {"unread": 1}  # not the friend's to read
    read = {i["link"]: i["read"] for i in inbox_of(rpc, FRIEND)["items"]}
    assert read == {"/api/v1/teams/5": True, "/api/v1/teams/6": False}
    assert rpc.notify.mark_read(FRIEND, []) == {"unread": 1}

    assert rpc.notify.mark_read(FRIEND) == {"unread": 0}
    assert rpc.notify.mark_read(FRIEND) == {"unread": 0}  # again: nothing left to mark
    assert all(i["read"] for i in inbox_of(rpc, FRIEND)["items"])
    assert inbox_of(rpc, LEADER)["unread"] == 1


BAD_CALLS = [
    ("list_notifications", ("7",), "user_id"),
    ("list_notifications", (0,), "user_id"),
    ("list_notifications", (7, 0), "page"),
    ("list_notifications", (7, 1, 51), "page_size"),
    ("list_notifications", (7, 1, True), "page_size"),
    ("unread_count", (None,), "user_id"),
    ("mark_read", (7, "all"), "ids"),
    ("mark_read", (7, [1, "2"]), "ids.1"),
    ("mark_read", (7, list(range(1, 502))), "ids"),
]


def test_bad_input_is_refused(notify, rpc):
    for call, args, field in BAD_CALLS:  # one container for all: each refusal is independent
        with pytest.raises(BadRequest) as raised:
            getattr(rpc.notify, call)(*args)
        assert raised.value.code == "validation_failed", call
        assert field in raised.value.details, (call, args)
