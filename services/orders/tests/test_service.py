"""The orders service in a real container, on the real RabbitMQ and PostgreSQL.

The services it calls are small fakes defined here ("teams", "catalog", "payments",
"accounts"): they answer like the contract says, record every call, and refuse when a
test asks them to. Events from teams and payments are published as they would be.
"""
from collections import defaultdict
from datetime import datetime, timedelta

import eventlet
import pytest
import sqlalchemy as sa

from contract import events as declared
from contract.examples import example
from plumbing import clock
from plumbing.entrypoints import rpc as rpc_entrypoint
from plumbing.errors import BadRequest, Conflict, NotFound, Unavailable, Unprocessable
from plumbing.testing import outbox_events, publish_event

SHOPPER, FRIEND, STRANGER = 11, 12, 13
CAMPAIGN, SKU, PRODUCT, GROUP_PRICE = 5, 70, 7, 1990
MERCHANT, OTHER_MERCHANT = 1, 2

CALLS = defaultdict(list)  # method name -> [kwargs of each call]
REFUSALS = {}  # method name -> error to raise (once per entry in a list, else always)
BEHAVIOUR = {}  # "hold_seconds": the payment window teams grants; the product's fields


def called(method):
    return CALLS[method]


def _answer(method, **kwargs):
    CALLS[method].append(kwargs)
    refusal = REFUSALS.get(method)
    if isinstance(refusal, list):
        if refusal:
            raise refusal.pop(0)
    elif refusal is not None:
        raise refusal


class FakeTeams:
    name = "teams"
    next_team_id = 100

    def _seat(self, order_id, team_id, sku_id, quantity):
        hold = clock.now() + timedelta(seconds=BEHAVIOUR.get("hold_seconds", 900))
        # What teams answers is the product as it is now (a test may change it).
        return {"team_id": team_id, "campaign_id": CAMPAIGN, "product_id": PRODUCT,
                "merchant_id": MERCHANT, "sku_id": sku_id, "quantity": quantity,
                "unit_price": BEHAVIOUR.get("unit_price", GROUP_PRICE),
                "title": BEHAVIOUR.get("title", "烟台红富士苹果 5斤装"),
                "spec": BEHAVIOUR.get("spec", "5斤 / 单果70-75mm"),
                "hold_until": clock.isoformat(hold)}

    @rpc_entrypoint
    def open_team(self, order_id, user_id, campaign_id, sku_id, quantity):
        _answer("open_team", order_id=order_id, user_id=user_id, campaign_id=campaign_id,
                sku_id=sku_id, quantity=quantity)
        return self._seat(order_id, 100 + campaign_id, sku_id, quantity)

    @rpc_entrypoint
    def join_team(self, order_id, user_id, team_id, sku_id, quantity):
        _answer("join_team", order_id=order_id, user_id=user_id, team_id=team_id,
                sku_id=sku_id, quantity=quantity)
        return self._seat(order_id, team_id, sku_id, quantity)

    @rpc_entrypoint
    def release_seat(self, order_id):
        _answer("release_seat", order_id=order_id)
        return {"released": True}


class FakeCatalog:
    name = "catalog"

    @rpc_entrypoint
    def reserve_stock(self, reservation_id, items):
        _answer("reserve_stock", reservation_id=reservation_id, items=items)
        return {"reservation_id": reservation_id, "state": "reserved", "items": items}

    @rpc_entrypoint
    def release_reservation(self, reservation_id):
        _answer("release_reservation", reservation_id=reservation_id)
        return {"released": 0}


class FakePayments:
    name = "payments"

    @rpc_entrypoint
    def create_payment(self, order_id, user_id, amount, description):
        _answer("create_payment", order_id=order_id, user_id=user_id, amount=amount,
                description=description)
        return {"payment_id": 900 + order_id, "prepay_id": f"wx-prepay-{order_id}",
                "status": "pending"}

    @rpc_entrypoint
    def close_payment(self, order_id):
        _answer("close_payment", order_id=order_id)
        return {"order_id": order_id, "status": "closed"}


ADDRESS = {"id": 31, "recipient": "张三", "phone": "13800138000", "province": "浙江省",
           "city": "杭州市", "district": "西湖区", "detail": "文三路 100 号", "is_default": True,
           "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
OTHER_ADDRESS = {**ADDRESS, "id": 32, "recipient": "李四", "is_default": False}
SNAPSHOT = {key: ADDRESS[key] for key in ("id", "recipient", "phone", "province", "city",
                                          "district", "detail")}


class FakeAccounts:
    name = "accounts"

    @rpc_entrypoint
    def list_addresses(self, user_id):
        _answer("list_addresses", user_id=user_id)
        return [ADDRESS, OTHER_ADDRESS] if user_id == SHOPPER else []


@pytest.fixture
def fakes(start_service, container_factory, service_config):
    CALLS.clear()
    REFUSALS.clear()
    BEHAVIOUR.clear()
    for fake in (FakeTeams, FakeCatalog, FakePayments, FakeAccounts):
        container_factory(fake, service_config(fake.name)).start()


@pytest.fixture
def orders(start_service, fakes):
    return start_service("orders")


@pytest.fixture
def db(engine_of):
    return engine_of("orders")


events = outbox_events


def scalar(db, query, **params):
    with db.connect() as conn:
        return conn.execute(sa.text(query), params).scalar()


def status_of(db, order_id):
    return scalar(db, "SELECT status FROM orders WHERE id = :id", id=order_id)


def history(db, order_id):
    with db.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(
            "SELECT from_status, to_status, reason FROM order_history WHERE order_id = :id "
            "ORDER BY id"), {"id": order_id})]


def wait_for(check, timeout=5.0):
    deadline = clock.now() + timedelta(seconds=timeout)
    while clock.now() < deadline:
        if check():
            return True
        eventlet.sleep(0.05)
    return check()


publish = publish_event


def open_team(rpc, user_id=SHOPPER, **kwargs):
    return rpc.orders.place_team_order(user_id, CAMPAIGN, SKU, 2, **kwargs)


def pay(amqp_uri, order, payment_id=None, amount=None, event_id=None):
    return publish(amqp_uri, example(declared.PaymentSucceeded, **{
        "payment_id": payment_id or 900 + order["id"], "order_id": order["id"],
        "amount": order["amount"] if amount is None else amount,
        "paid_at": clock.isoformat(clock.now()), "transaction_id": f"wx-{order['id']}"}),
        event_id=event_id)


def paid_order(rpc, db, amqp_uri, user_id=SHOPPER, team_id=None):
    placed = rpc.orders.place_team_order(user_id, CAMPAIGN, SKU, 2, team_id=team_id)
    order = placed["order"]
    pay(amqp_uri, order)
    assert wait_for(lambda: status_of(db, order["id"]) == "awaiting_team")
    return order


# --- placing ---------------------------------------------------------------------------

def test_opening_a_team_places_an_order_awaiting_payment(orders, rpc, db):
    before = clock.now()
    placed = open_team(rpc)
    order = placed["order"]

    assert placed["team"] == {"id": 105, "status": "pending"}
    assert order["status"] == "pending_payment" and order["type"] == "team"
    assert (order["team_id"], order["campaign_id"], order["product_id"], order["sku_id"]) == (
        105, CAMPAIGN, PRODUCT, SKU)
    assert (order["quantity"], order["unit_price"], order["amount"]) == (2, 1990, 3980)
    assert order["title"] == "烟台红富士苹果 5斤装" and order["spec"] == "5斤 / 单果70-75mm"
    assert order["address"] == SNAPSHOT  # the default address, as it is now
    assert order["is_leader"] is True and order["team_order_ids"] == []
    deadline = datetime.fromisoformat(order["pay_deadline"])
    assert before + timedelta(seconds=899) < deadline < clock.now() + timedelta(seconds=901)

    assert called("open_team") == [{"order_id": order["id"], "user_id": SHOPPER,
                                    "campaign_id": CAMPAIGN, "sku_id": SKU, "quantity": 2}]
    assert called("reserve_stock") == [{"reservation_id": f"order-{order['id']}",
                                        "items": [{"sku_id": SKU, "quantity": 2}]}]
    assert called("release_seat") == [] and called("release_reservation") == []
    assert events(db, "order_placed") == [{
        "order_id": order["id"], "user_id": SHOPPER, "merchant_id": MERCHANT, "team_id": 105,
        "reason": None, "type": "team", "amount": 3980, "pay_deadline": order["pay_deadline"]}]
    assert history(db, order["id"]) == [("placing", "pending_payment", None)]
    assert rpc.orders.get_order(SHOPPER, order["id"]) == order


def test_joining_links_the_orders_of_one_team_by_id_and_status_only(orders, rpc, db):
    leader = open_team(rpc)["order"]
    placed = rpc.orders.place_team_order(FRIEND, None, SKU, 1, team_id=105)
    joiner = placed["order"]

    assert placed["team"] == {"id": 105, "status": "open"}
    assert called("join_team")[0] == {"order_id": joiner["id"], "user_id": FRIEND,
                                      "team_id": 105, "sku_id": SKU, "quantity": 1}
    assert joiner["amount"] == 1990 and joiner["address"] is None  # FRIEND has no address
    assert joiner["team_order_ids"] == [{"id": leader["id"], "status": "pending_payment"}]
    assert rpc.orders.get_order(SHOPPER, leader["id"])["team_order_ids"] == [
        {"id": joiner["id"], "status": "pending_payment"}]
    with pytest.raises(NotFound) as raised:  # the team mate's order itself stays private
        rpc.orders.get_order(FRIEND, leader["id"])
    assert raised.value.code == "order_not_found"


def test_a_named_address_is_snapshotted_and_must_be_the_shoppers(orders, rpc, db):
    order = open_team(rpc, address_id=32)["order"]
    assert order["address"]["id"] == 32 and order["address"]["recipient"] == "李四"
    with pytest.raises(NotFound) as raised:
        open_team(rpc, user_id=FRIEND, address_id=32)
    assert raised.value.code == "address_not_found"
    assert scalar(db, "SELECT count(*) FROM orders") == 1
    assert len(called("open_team")) == 1


def test_a_refusal_from_teams_reaches_the_shopper_and_leaves_nothing_behind(orders, rpc, db):
    REFUSALS["join_team"] = Conflict("team_full", "This team is full.")
    with pytest.raises(Conflict) as raised:
        rpc.orders.place_team_order(FRIEND, None, SKU, 1, team_id=105)
    assert raised.value.code == "team_full"

    order_id = called("join_team")[0]["order_id"]
    assert called("reserve_stock") == []
    assert called("release_seat") == [{"order_id": order_id}]
    assert called("release_reservation") == [{"reservation_id": f"order-{order_id}"}]
    assert scalar(db, "SELECT count(*) FROM orders") == 0
    assert scalar(db, "SELECT count(*) FROM outbox") == 0


def test_a_stock_refusal_releases_the_seat_and_leaves_nothing_behind(orders, rpc, db):
    REFUSALS["reserve_stock"] = Conflict("out_of_stock", "Some items do not have enough stock.")
    with pytest.raises(Conflict) as raised:
        open_team(rpc)
    assert raised.value.code == "out_of_stock"

    order_id = called("open_team")[0]["order_id"]
    assert called("release_seat") == [{"order_id": order_id}]
    assert called("release_reservation") == [{"reservation_id": f"order-{order_id}"}]
    assert scalar(db, "SELECT count(*) FROM orders") == 0
    assert scalar(db, "SELECT count(*) FROM outbox") == 0


def test_an_order_over_the_most_one_order_may_cost_is_refused_and_undone(orders, rpc, db):
    """Should teams price a seat that high, the order is refused before stock is taken,
    its seat given back and the order dropped: 22 x 99,999,999 fen would overflow."""
    BEHAVIOUR["unit_price"] = 99_999_999
    with pytest.raises(BadRequest) as raised:
        rpc.orders.place_team_order(SHOPPER, CAMPAIGN, SKU, 22)
    assert raised.value.code == "order_amount_too_large"
    order_id = called("open_team")[0]["order_id"]
    assert called("reserve_stock") == []
    assert called("release_seat") == [{"order_id": order_id}]
    assert scalar(db, "SELECT count(*) FROM orders") == 0
    assert scalar(db, "SELECT count(*) FROM outbox") == 0
    placed = rpc.orders.place_team_order(SHOPPER, CAMPAIGN, SKU, 10)["order"]
    assert placed["amount"] == 999_999_990  # just under the most one order may cost


def test_when_teams_is_down_the_placing_order_is_left_to_the_timer(orders, rpc, db):
    REFUSALS["open_team"] = Unavailable("service_timeout", "teams did not answer")
    with pytest.raises(Unavailable):
        open_team(rpc)
    # the seat may or may not have been taken: the order stays until the timer undoes it
    assert scalar(db, "SELECT status FROM orders") == "placing"
    assert called("release_seat") == []
    assert rpc.orders.list_orders(SHOPPER)["total"] == 0  # never shown


def test_the_same_idempotency_key_returns_the_same_order(orders, rpc, db):
    first = open_team(rpc, idempotency_key="tap-1")
    again = open_team(rpc, idempotency_key="tap-1")
    assert again == first
    assert len(called("open_team")) == 1 and len(called("reserve_stock")) == 1
    other = open_team(rpc, idempotency_key="tap-2")
    assert other["order"]["id"] != first["order"]["id"]
    # keys belong to a shopper: another shopper's same key is another order
    assert open_team(rpc, user_id=FRIEND, idempotency_key="tap-1")["order"]["id"] not in (
        first["order"]["id"], other["order"]["id"])
    assert len(events(db, "order_placed")) == 3


def test_a_key_reused_for_another_request_is_refused_not_answered_with_the_first(orders, rpc,
                                                                                db):
    first = open_team(rpc, idempotency_key="tap-1")  # 2 of SKU in CAMPAIGN
    for other in (lambda: rpc.orders.place_team_order(SHOPPER, CAMPAIGN, SKU, 3,
                                                      idempotency_key="tap-1"),
                  lambda: open_team(rpc, address_id=32, idempotency_key="tap-1"),
                  lambda: rpc.orders.place_team_order(SHOPPER, None, SKU, 2, team_id=105,
                                                      idempotency_key="tap-1")):
        with pytest.raises(Unprocessable) as raised:
            other()
        assert raised.value.status == 422 and raised.value.code == "idempotency_key_reused"
    assert open_team(rpc, idempotency_key="tap-1") == first  # the same request still is a retry
    assert len(called("open_team")) == 1
    assert scalar(db, "SELECT count(*) FROM orders") == 1


def test_concurrent_requests_with_one_key_and_two_bodies_place_one_order(orders, rpc, db):
    replies = [rpc.orders.place_team_order.call_async(SHOPPER, CAMPAIGN, SKU, quantity,
                                                      idempotency_key="double-tap")
               for quantity in (1, 2, 1, 2)]
    outcomes = []
    for reply in replies:
        try:
            outcomes.append(reply.result()["order"]["quantity"])
        except Unprocessable as refused:
            outcomes.append(refused.code)
    placed = scalar(db, "SELECT quantity FROM orders")
    assert sorted(outcomes, key=str) == sorted([placed, placed, "idempotency_key_reused",
                                                "idempotency_key_reused"], key=str)


def test_concurrent_requests_with_one_key_place_one_order(orders, rpc, db):
    replies = [rpc.orders.place_team_order.call_async(SHOPPER, CAMPAIGN, SKU, 2,
                                                      idempotency_key="double-tap")
               for _ in range(6)]
    answers = [reply.result() for reply in replies]
    assert len({answer["order"]["id"] for answer in answers}) == 1
    assert {answer["order"]["status"] for answer in answers} == {"pending_payment"}
    assert len(called("open_team")) == 1 and len(called("reserve_stock")) == 1
    assert scalar(db, "SELECT count(*) FROM orders") == 1


def test_bad_input_is_refused_before_anything_is_asked(orders, rpc, db):
    for call in (lambda: rpc.orders.place_team_order(SHOPPER, None, SKU, 1),
                 lambda: rpc.orders.place_team_order(SHOPPER, CAMPAIGN, SKU, 0),
                 lambda: rpc.orders.place_team_order("11", CAMPAIGN, SKU, 1),
                 lambda: rpc.orders.list_orders(SHOPPER, status="placing"),
                 lambda: rpc.orders.get_order(SHOPPER, "1")):
        with pytest.raises(BadRequest) as raised:
            call()
        assert raised.value.code == "validation_failed"
    assert dict(CALLS) == {}
    assert scalar(db, "SELECT count(*) FROM orders") == 0


def test_an_abandoned_placing_order_is_undone_by_the_timer(start_service, fakes, db,
                                                           monkeypatch):
    monkeypatch.setenv("PINTUAN_PLACING_TIMEOUT_SECONDS", "1")
    insert = ("INSERT INTO orders (user_id, type, status, is_leader, campaign_id, sku_id, "
              "quantity, created_at, updated_at) VALUES (:user, 'team', 'placing', true, 5, 70, "
              "1, :at, :at) RETURNING id")
    # Started first: a timer's first tick runs while the container is still starting,
    # before its RPC replies can arrive (reported as a kit issue).
    start_service("orders")
    with db.begin() as conn:  # as a crash between the seat and the stock would leave it
        crashed = conn.execute(sa.text(insert), {"user": SHOPPER,
                                                 "at": clock.now() - timedelta(seconds=5)}).scalar()
        fresh = conn.execute(sa.text(insert), {"user": FRIEND, "at": clock.now()}).scalar()

    assert wait_for(lambda: status_of(db, crashed) is None)
    assert called("release_seat")[0] == {"order_id": crashed}
    assert called("release_reservation")[0] == {"reservation_id": f"order-{crashed}"}
    assert {"order_id": fresh} not in called("release_seat")[:1]
    assert wait_for(lambda: status_of(db, fresh) is None)  # its second passes too
    assert scalar(db, "SELECT count(*) FROM outbox") == 0


# --- the payment window ------------------------------------------------------------------

def test_an_unpaid_order_is_cancelled_when_its_window_passes(orders, rpc, db):
    BEHAVIOUR["hold_seconds"] = 1
    order = open_team(rpc)["order"]
    assert wait_for(lambda: status_of(db, order["id"]) == "cancelled", timeout=3)
    eventlet.sleep(1)  # more timer ticks: still cancelled once
    assert events(db, "order_cancelled") == [{"order_id": order["id"], "user_id": SHOPPER,
                                              "team_id": 105, "reason": "payment_timeout"}]
    assert history(db, order["id"])[-1] == ("pending_payment", "cancelled", "payment_timeout")
    shown = rpc.orders.get_order(SHOPPER, order["id"])
    assert shown["status"] == "cancelled" and shown["cancel_reason"] == "payment_timeout"


def test_two_replicas_cancel_each_expired_order_once(start_service, fakes, rpc, db):
    start_service("orders")
    start_service("orders")
    BEHAVIOUR["hold_seconds"] = 1
    order_ids = [open_team(rpc)["order"]["id"] for _ in range(12)]
    assert wait_for(lambda: scalar(db, "SELECT count(*) FROM orders WHERE status = "
                                       "'cancelled'") == 12, timeout=6)
    eventlet.sleep(1)
    assert sorted(e["order_id"] for e in events(db, "order_cancelled")) == sorted(order_ids)
    assert scalar(db, "SELECT count(*) FROM order_history WHERE to_status = 'cancelled'") == 12


def test_starting_a_payment_asks_payments_for_the_amount(orders, rpc, db):
    BEHAVIOUR["hold_seconds"] = 3
    order = open_team(rpc)["order"]
    assert rpc.orders.start_payment(SHOPPER, order["id"]) == {
        "payment_id": 900 + order["id"], "prepay_id": f"wx-prepay-{order['id']}"}
    assert called("create_payment") == [{"order_id": order["id"], "user_id": SHOPPER,
                                         "amount": 3980, "description": "烟台红富士苹果 5斤装"}]
    with pytest.raises(NotFound):
        rpc.orders.start_payment(STRANGER, order["id"])
    eventlet.sleep(3)  # the window has closed, whether or not the timer ran yet
    with pytest.raises(Conflict) as raised:
        rpc.orders.start_payment(SHOPPER, order["id"])
    assert raised.value.code == "order_not_payable"


# --- payments ------------------------------------------------------------------------------

def test_a_payment_makes_the_team_order_wait_for_its_team(orders, rpc, db, amqp_uri):
    order = open_team(rpc)["order"]
    event_id = pay(amqp_uri, order)
    assert wait_for(lambda: status_of(db, order["id"]) == "awaiting_team")
    pay(amqp_uri, order, event_id=event_id)  # redelivered
    pay(amqp_uri, order)  # the same payment told twice
    eventlet.sleep(0.5)

    [paid] = events(db, "order_paid")
    assert paid["order_id"] == order["id"] and paid["user_id"] == SHOPPER
    assert paid["team_id"] == 105 and paid["amount"] == 3980 and paid["paid_at"].endswith("Z")
    assert events(db, "refund_requested") == []
    shown = rpc.orders.get_order(SHOPPER, order["id"])
    assert shown["status"] == "awaiting_team" and shown["paid_at"] == paid["paid_at"]


def test_the_shopper_cannot_cancel_a_paid_team_order(orders, rpc, db, amqp_uri):
    order = paid_order(rpc, db, amqp_uri)
    with pytest.raises(Conflict) as raised:
        rpc.orders.cancel_order(SHOPPER, order["id"])
    assert raised.value.code == "order_not_cancellable"
    assert status_of(db, order["id"]) == "awaiting_team"
    assert events(db, "order_cancelled") == []


def test_the_shopper_cancels_an_unpaid_order_once(orders, rpc, db):
    order = open_team(rpc)["order"]
    with pytest.raises(NotFound):
        rpc.orders.cancel_order(STRANGER, order["id"])
    assert rpc.orders.cancel_order(SHOPPER, order["id"])["status"] == "cancelled"
    assert rpc.orders.cancel_order(SHOPPER, order["id"])["status"] == "cancelled"
    assert events(db, "order_cancelled") == [{"order_id": order["id"], "user_id": SHOPPER,
                                              "team_id": 105, "reason": "by_shopper"}]
    # given back before the answer, so the shopper's next order does not meet them held
    assert called("release_seat") == [{"order_id": order["id"]}]
    assert called("release_reservation") == [{"reservation_id": f"order-{order['id']}"}]
    assert called("close_payment") == [{"order_id": order["id"]}]  # no longer payable


def test_a_cancel_stands_when_teams_cannot_take_the_seat_back_now(orders, rpc, db):
    order = open_team(rpc)["order"]
    REFUSALS["release_seat"] = Unavailable("service_timeout", "teams is slow")
    REFUSALS["close_payment"] = Unavailable("service_timeout", "payments is slow")
    assert rpc.orders.cancel_order(SHOPPER, order["id"])["status"] == "cancelled"
    assert status_of(db, order["id"]) == "cancelled"
    assert len(events(db, "order_cancelled")) == 1  # teams and catalog follow from it


def test_a_payment_after_the_window_closed_is_refunded_once(orders, rpc, db, amqp_uri):
    BEHAVIOUR["hold_seconds"] = 1
    order = open_team(rpc)["order"]
    assert wait_for(lambda: status_of(db, order["id"]) == "cancelled", timeout=3)
    event_id = pay(amqp_uri, order)  # the shopper paid just in time; the news came late
    assert wait_for(lambda: status_of(db, order["id"]) == "refunding")
    pay(amqp_uri, order, event_id=event_id)
    pay(amqp_uri, order)
    eventlet.sleep(0.5)

    payment_id = 900 + order["id"]
    assert events(db, "refund_requested") == [{"order_id": order["id"], "amount": 3980,
                                 "reason": "late_payment", "refund_key": f"late-{payment_id}"}]
    assert events(db, "order_paid") == []
    publish(amqp_uri, example(declared.RefundSucceeded, **{
        "refund_id": 1, "order_id": order["id"], "amount": 3980, "user_id": SHOPPER}))
    assert wait_for(lambda: status_of(db, order["id"]) == "refunded")
    assert events(db, "order_refunded") == [{"order_id": order["id"], "user_id": SHOPPER,
                                             "team_id": 105, "amount": 3980,
                                             "reason": "late_payment"}]
    assert history(db, order["id"]) == [
        ("placing", "pending_payment", None), ("pending_payment", "cancelled", "payment_timeout"),
        ("cancelled", "refunding", "late_payment"), ("refunding", "refunded", None)]


def test_a_payment_of_the_wrong_amount_is_returned(orders, rpc, db, amqp_uri):
    order = open_team(rpc)["order"]
    pay(amqp_uri, order, amount=1)
    assert wait_for(lambda: len(events(db, "refund_requested")) == 1)
    assert events(db, "refund_requested")[0]["reason"] == "amount_mismatch"
    assert events(db, "refund_requested")[0]["amount"] == 1
    assert status_of(db, order["id"]) == "pending_payment"


def test_a_payment_for_an_unknown_order_is_returned(orders, rpc, db, amqp_uri):
    pay(amqp_uri, {"id": 4242, "amount": 500})
    assert wait_for(lambda: len(events(db, "refund_requested")) == 1)
    assert events(db, "refund_requested")[0] == {"order_id": 4242, "amount": 500, "reason": "late_payment",
                                   "refund_key": "late-5142"}


# --- team outcomes ------------------------------------------------------------------------

def test_a_succeeded_team_sends_its_orders_to_ship(orders, rpc, db, amqp_uri):
    leader = paid_order(rpc, db, amqp_uri)
    joiner = paid_order(rpc, db, amqp_uri, user_id=FRIEND, team_id=105)
    data = {"team_id": 105, "order_ids": [leader["id"], joiner["id"]],
            "user_ids": [SHOPPER, FRIEND]}
    event_id = publish(amqp_uri, example(declared.TeamSucceeded, **data))
    assert wait_for(lambda: {status_of(db, leader["id"]), status_of(db, joiner["id"])}
                    == {"to_ship"})
    publish(amqp_uri, example(declared.TeamSucceeded, **data), event_id=event_id)
    publish(amqp_uri, example(declared.TeamSucceeded, **data))
    eventlet.sleep(0.5)
    assert sorted(e["order_id"] for e in events(db, "order_to_ship")) == sorted(
        [leader["id"], joiner["id"]])
    assert rpc.orders.get_order(FRIEND, joiner["id"])["team_order_ids"] == [
        {"id": leader["id"], "status": "to_ship"}]


def test_a_failed_team_refunds_the_paid_and_cancels_the_unpaid(orders, rpc, db, amqp_uri):
    leader = paid_order(rpc, db, amqp_uri)
    unpaid = rpc.orders.place_team_order(FRIEND, None, SKU, 1, team_id=105)["order"]
    event_id = publish(amqp_uri, example(declared.TeamFailed, **{
        "team_id": 105, "paid_order_ids": [leader["id"]], "unpaid_order_ids": [unpaid["id"]],
        "user_ids": [SHOPPER, FRIEND]}))
    assert wait_for(lambda: status_of(db, leader["id"]) == "refunding"
                    and status_of(db, unpaid["id"]) == "cancelled")
    publish(amqp_uri, example(declared.TeamFailed, **{
        "team_id": 105, "paid_order_ids": [leader["id"]], "unpaid_order_ids": [unpaid["id"]],
        "user_ids": [SHOPPER, FRIEND]}), event_id=event_id)
    # the seat of an order already refunding is refused too: no second refund
    publish(amqp_uri, example(declared.SeatRefused, **{"order_id": leader["id"], "team_id": 105,
                                                "reason": "team_failed"}))
    eventlet.sleep(0.5)

    assert events(db, "refund_requested") == [{"order_id": leader["id"], "amount": 3980,
                                 "reason": "team_failed",
                                 "refund_key": f"team-failed-{leader['id']}"}]
    assert events(db, "order_cancelled") == [{"order_id": unpaid["id"], "user_id": FRIEND,
                                              "team_id": 105, "reason": "team_failed"}]
    assert rpc.orders.get_order(SHOPPER, leader["id"])["refund_reason"] == "team_failed"

    publish(amqp_uri, example(declared.RefundSucceeded, **{
        "refund_id": 1, "order_id": leader["id"], "amount": 3980, "user_id": SHOPPER}))
    assert wait_for(lambda: status_of(db, leader["id"]) == "refunded")
    assert events(db, "order_refunded") == [{"order_id": leader["id"], "user_id": SHOPPER,
                                             "team_id": 105, "amount": 3980,
                                             "reason": "team_failed"}]


def test_a_refund_succeeded_before_the_order_refunds_finishes_nothing(orders, rpc, db,
                                                                     amqp_uri):
    leader = paid_order(rpc, db, amqp_uri)
    publish(amqp_uri, example(declared.RefundSucceeded, **{
        "refund_id": 1, "order_id": leader["id"], "amount": 3980, "user_id": SHOPPER}))
    eventlet.sleep(0.5)
    assert status_of(db, leader["id"]) == "awaiting_team"
    assert events(db, "order_refunded") == []


def test_a_refused_seat_is_refunded_by_an_event_payments_need_not_be_up_for(orders, rpc,
                                                                             db, amqp_uri):
    """The refund is asked by an event written with the order's move (an outbox command):
    no call to payments can fail inside the handler."""
    order = paid_order(rpc, db, amqp_uri)
    publish(amqp_uri, example(declared.SeatRefused, **{"order_id": order["id"], "team_id": 105,
                                                "reason": "team_full"}))
    assert wait_for(lambda: status_of(db, order["id"]) == "refunding")
    refund = {"order_id": order["id"], "amount": 3980, "reason": "seat_refused",
              "refund_key": f"seat-refused-{order['id']}"}
    assert events(db, "refund_requested") == [refund]
    assert history(db, order["id"])[-1] == ("awaiting_team", "refunding", "seat_refused")


def test_a_cancelled_team_cancels_its_unpaid_orders(orders, rpc, db, amqp_uri):
    leader = paid_order(rpc, db, amqp_uri)
    unpaid = rpc.orders.place_team_order(FRIEND, None, SKU, 1, team_id=105)["order"]
    publish(amqp_uri, example(declared.TeamCancelled, **{"team_id": 105,
                                                  "order_ids": [leader["id"], unpaid["id"]]}))
    assert wait_for(lambda: status_of(db, unpaid["id"]) == "cancelled")
    assert status_of(db, leader["id"]) == "awaiting_team"
    assert events(db, "order_cancelled")[0]["reason"] == "team_cancelled"


# --- listing --------------------------------------------------------------------------------

def test_orders_are_listed_newest_first_and_filtered(orders, rpc, db, amqp_uri):
    first = paid_order(rpc, db, amqp_uri)
    second = open_team(rpc)["order"]
    third = rpc.orders.place_team_order(FRIEND, None, SKU, 1, team_id=105)["order"]

    mine = rpc.orders.list_orders(SHOPPER)
    assert (mine["total"], mine["page"], mine["page_size"]) == (2, 1, 20)
    assert [item["id"] for item in mine["items"]] == [second["id"], first["id"]]
    assert mine["items"][1] == rpc.orders.get_order(SHOPPER, first["id"])
    assert [o["id"] for o in mine["items"][1]["team_order_ids"]] == [second["id"], third["id"]]
    assert [i["id"] for i in rpc.orders.list_orders(SHOPPER, status="awaiting_team")["items"]] \
        == [first["id"]]
    assert rpc.orders.list_orders(SHOPPER, type="normal")["total"] == 0
    assert rpc.orders.list_orders(SHOPPER, page=2, page_size=1)["items"][0]["id"] == first["id"]

    admin = rpc.orders.admin_list_orders(MERCHANT, team_id=105)
    assert admin["total"] == 3 and admin["items"][0]["id"] == third["id"]
    assert admin["items"][0]["user_id"] == FRIEND and admin["items"][0]["merchant_id"] == MERCHANT
    assert [o["id"] for o in admin["items"][0]["team_order_ids"]] == [first["id"], second["id"]]
    assert rpc.orders.admin_list_orders(MERCHANT, status="awaiting_team")["total"] == 1
    assert rpc.orders.admin_get_order(MERCHANT, third["id"]) == admin["items"][0]


def test_a_merchant_sees_and_ships_only_its_own_shops_orders(orders, rpc, db, amqp_uri):
    order = order_to_ship(rpc, db, amqp_uri)
    assert rpc.orders.admin_list_orders(OTHER_MERCHANT)["total"] == 0
    with pytest.raises(NotFound):
        rpc.orders.admin_get_order(OTHER_MERCHANT, order["id"])
    with pytest.raises(NotFound):
        rpc.orders.ship_order(OTHER_MERCHANT, order["id"], "顺丰速运", "SF1234567890")
    assert status_of(db, order["id"]) == "to_ship"
    assert rpc.orders.admin_get_order(MERCHANT, order["id"])["status"] == "to_ship"


# --- fulfilment: shipping, receipt, 自动确认收货 -------------------------------------------

SHIPMENT = {"carrier": "顺丰速运", "tracking_no": "SF1234567890"}


def order_to_ship(rpc, db, amqp_uri, user_id=SHOPPER):
    order = paid_order(rpc, db, amqp_uri, user_id=user_id)
    publish(amqp_uri, example(declared.TeamSucceeded, **{"team_id": 105, "order_ids": [order["id"]],
                                                  "user_ids": [user_id]}))
    assert wait_for(lambda: status_of(db, order["id"]) == "to_ship")
    return order


def ship(rpc, order, **overrides):
    shipment = {**SHIPMENT, **overrides}
    return rpc.orders.ship_order(MERCHANT, order["id"], shipment["carrier"],
                                 shipment["tracking_no"])


def test_the_merchant_ships_an_order_once(orders, rpc, db, amqp_uri):
    order = order_to_ship(rpc, db, amqp_uri)
    shipped = ship(rpc, order)
    assert shipped["status"] == "shipped" and shipped["shipped_by"] == MERCHANT
    assert (shipped["carrier"], shipped["tracking_no"]) == ("顺丰速运", "SF1234567890")
    assert shipped["shipped_at"].endswith("Z") and shipped["completed_at"] is None
    assert ship(rpc, order) == shipped  # a second click: the same answer, nothing new

    assert events(db, "order_shipped") == [{
        "order_id": order["id"], "user_id": SHOPPER, "carrier": "顺丰速运",
        "tracking_no": "SF1234567890", "shipped_at": shipped["shipped_at"]}]
    assert history(db, order["id"])[-1] == ("to_ship", "shipped", None)
    mine = rpc.orders.get_order(SHOPPER, order["id"])
    assert (mine["carrier"], mine["tracking_no"], mine["shipped_at"]) == (
        "顺丰速运", "SF1234567890", shipped["shipped_at"])
    assert "shipped_by" not in mine  # the back office's detail, not the shopper's


def test_shipping_is_refused_outside_to_ship_and_writes_nothing(orders, rpc, db, amqp_uri):
    unpaid = open_team(rpc)["order"]
    with pytest.raises(Conflict) as raised:
        ship(rpc, unpaid)
    assert raised.value.code == "order_not_shippable"
    with pytest.raises(NotFound):
        rpc.orders.ship_order(MERCHANT, 424242, "顺丰速运", "SF1234567890")
    with pytest.raises(BadRequest) as raised:
        rpc.orders.ship_order(MERCHANT, unpaid["id"], "", "SF1234567890")
    assert list(raised.value.details) == ["carrier"]

    order = order_to_ship(rpc, db, amqp_uri, user_id=FRIEND)
    ship(rpc, order)
    with pytest.raises(Conflict) as raised:
        ship(rpc, order, tracking_no="SF0000000000")
    assert raised.value.code == "order_already_shipped"
    assert status_of(db, unpaid["id"]) == "pending_payment"
    assert scalar(db, "SELECT tracking_no FROM orders WHERE id = :id", id=order["id"]) == \
        "SF1234567890"
    assert len(events(db, "order_shipped")) == 1


def test_the_shopper_confirms_receipt_and_the_order_is_reviewable(orders, rpc, db, amqp_uri):
    order = order_to_ship(rpc, db, amqp_uri)
    with pytest.raises(Conflict) as raised:  # not shipped yet
        rpc.orders.confirm_receipt(SHOPPER, order["id"])
    assert raised.value.code == "order_not_shipped"
    ship(rpc, order)
    with pytest.raises(NotFound):  # another shopper's order is as missing as none
        rpc.orders.confirm_receipt(STRANGER, order["id"])

    completed = rpc.orders.confirm_receipt(SHOPPER, order["id"])
    assert completed["status"] == "completed" and completed["completed_at"].endswith("Z")
    assert rpc.orders.confirm_receipt(SHOPPER, order["id"]) == completed  # twice: no change
    assert events(db, "order_completed") == [{
        "order_id": order["id"], "user_id": SHOPPER, "merchant_id": MERCHANT,
        "product_id": PRODUCT, "sku_id": SKU, "spec": "5斤 / 单果70-75mm",
        "title": "烟台红富士苹果 5斤装", "quantity": 2, "completed_at": completed["completed_at"]}]
    assert history(db, order["id"])[-1] == ("shipped", "completed", "confirmed_by_shopper")


def test_two_replicas_auto_confirm_each_shipped_order_once(start_service, fakes, rpc, db,
                                                           amqp_uri, monkeypatch):
    monkeypatch.setenv("PINTUAN_AUTO_CONFIRM_SECONDS", "2")
    start_service("orders")
    start_service("orders")
    order_ids = []
    for _ in range(6):
        order = order_to_ship(rpc, db, amqp_uri)
        ship(rpc, order)
        order_ids.append(order["id"])
    confirmed = order_to_ship(rpc, db, amqp_uri, user_id=FRIEND)
    ship(rpc, confirmed)
    rpc.orders.confirm_receipt(FRIEND, confirmed["id"])  # the shopper was quicker
    waiting = order_to_ship(rpc, db, amqp_uri, user_id=FRIEND)  # never shipped: not completed

    assert wait_for(lambda: scalar(db, "SELECT count(*) FROM orders WHERE status = "
                                       "'completed'") == 7, timeout=8)
    eventlet.sleep(1)  # more ticks of both replicas
    assert sorted(e["order_id"] for e in events(db, "order_completed")) == sorted(
        order_ids + [confirmed["id"]])
    assert scalar(db, "SELECT count(*) FROM order_history WHERE reason = 'auto_confirmed'") == 6
    assert status_of(db, waiting["id"]) == "to_ship"
    for order_id in order_ids:
        shown = rpc.orders.get_order(SHOPPER, order_id)
        assert datetime.fromisoformat(shown["completed_at"]) >= \
            datetime.fromisoformat(shown["shipped_at"]) + timedelta(seconds=2)


def test_an_order_keeps_what_was_bought_when_the_product_changes_later(orders, rpc, db):
    first = open_team(rpc)["order"]
    # the merchant renames the product, changes the SKU's spec and the campaign's price
    BEHAVIOUR.update(title="烟台红富士苹果 10斤装 新包装", spec="10斤 / 单果85mm",
                     unit_price=2990)
    second = open_team(rpc)["order"]

    assert (second["title"], second["spec"], second["unit_price"]) == (
        "烟台红富士苹果 10斤装 新包装", "10斤 / 单果85mm", 2990)
    kept = rpc.orders.get_order(SHOPPER, first["id"])
    assert (kept["title"], kept["spec"], kept["unit_price"], kept["amount"]) == (
        "烟台红富士苹果 5斤装", "5斤 / 单果70-75mm", GROUP_PRICE, 2 * GROUP_PRICE)
    assert {**kept, "team_order_ids": []} == first  # (the fake put both in one team)
