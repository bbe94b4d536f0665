"""The payments service in a real container, on the real RabbitMQ and PostgreSQL, with
the WeChat Pay sandbox delivering its signed notifications over real HTTP.

The gateway is a small fake defined here: like the real one, it forwards
POST /callbacks/wechatpay/{kind} (headers and raw body) to
`payments.handle_notification` and answers with what that returns; a test can make
it refuse the first deliveries.
"""
import json
import logging
import time
import uuid

import eventlet
import pytest
import sqlalchemy as sa
from nameko.standalone.rpc import ClusterRpcProxy

from contract import events as declared
from contract.examples import example
from plumbing import settings
from plumbing.errors import BadRequest, Conflict, Forbidden, NotFound
from plumbing.rpc import RemoteService
from plumbing.testing import outbox_events, publish_event
from plumbing.web import http
from services.payments import keys, sandbox, signing

ORDER, SHOPPER, PRICE = 501, 11, 1990


class FakeGateway:
    name = "fake_gateway"
    payments = RemoteService("payments")
    refuse_first = 0  # deliveries answered 503 before any is forwarded
    deliveries = []  # the kind of each delivery received

    @http("POST", "/callbacks/wechatpay/<kind>")
    def wechatpay_callback(self, request, kind):
        FakeGateway.deliveries.append(kind)
        if len(FakeGateway.deliveries) <= FakeGateway.refuse_first:
            return 503, {"code": "FAIL", "message": "busy"}
        answer = self.payments.handle_notification(kind, dict(request.headers),
                                                   request.get_data(as_text=True))
        return answer["status"], answer["body"]


@pytest.fixture
def gateway(container_factory, service_config, monkeypatch):
    FakeGateway.refuse_first, FakeGateway.deliveries = 0, []
    config = service_config(FakeGateway.name)
    container_factory(FakeGateway, config).start()
    base = f"http://{config['WEB_SERVER_ADDRESS']}/callbacks/wechatpay"
    monkeypatch.setenv("PINTUAN_PAYMENT_NOTIFY_URL", f"{base}/payment")
    monkeypatch.setenv("PINTUAN_REFUND_NOTIFY_URL", f"{base}/refund")
    monkeypatch.setenv("PINTUAN_SANDBOX_DUPLICATE_RATE", "0")
    monkeypatch.setenv("PINTUAN_SANDBOX_RETRY_SECONDS", "0.2,0.4")
    monkeypatch.setenv("PINTUAN_SANDBOX_REFUND_DELAY_SECONDS", "0.3")
    monkeypatch.setenv("PINTUAN_REFUND_RETRY_SECONDS", "0.3")
    return FakeGateway


@pytest.fixture
def payments(gateway, start_service, rpc):
    start_service("payments")
    return rpc.payments


@pytest.fixture
def db(databases):
    engine = sa.create_engine(databases["payments"])
    yield engine
    engine.dispose()


def rows(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).mappings().all()


events = outbox_events


def count(engine, table):
    return rows(engine, f"SELECT count(*) AS n FROM {table}")[0]["n"]


def wait_until(check, timeout=10):
    with eventlet.Timeout(timeout, False):
        while not check():
            eventlet.sleep(0.05)
        return True
    return False


def all_delivered(engine, expected):
    """The sandbox records a delivery once the callback answered, a little after the
    callback recorded the payment."""
    return wait_until(lambda: rows(engine, "SELECT count(*) AS n FROM sandbox_notifications "
                                           "WHERE delivered_at IS NOT NULL")[0]["n"] == expected)


def paid_order(payments, db, order_id=ORDER, amount=PRICE):
    started = payments.create_payment(order_id, SHOPPER, amount, "烟台红富士苹果 5斤装")
    payments.sandbox_pay(started["prepay_id"], "success")
    assert wait_until(lambda: payments.get_payment(order_id)["status"] == "succeeded")
    return started


def crafted(kind, resource, event_type):
    """A notification signed and encrypted with the sandbox's keys, as WeChat Pay would."""
    original_type = "transaction" if kind == "payment" else "refund"
    body = signing.notification_body(
        str(uuid.uuid4()), "2026-03-01T16:00:05+08:00", event_type, "支付成功",
        signing.encrypted_resource(keys.apiv3_key(generate=True), resource, original_type),
        original_type)
    serial = signing.serial_of(keys.platform_public_key(generate=True))
    return signing.signed_headers(keys.platform_private_key(generate=True), serial, body), body


def transaction(out_trade_no, amount=PRICE, transaction_id="4200000000202603010000000001"):
    return {"out_trade_no": out_trade_no, "transaction_id": transaction_id, "trade_state": "SUCCESS",
            "success_time": "2026-03-01T16:00:05+08:00", "amount": {"total": amount}}


# --- creating a payment ---------------------------------------------------------------

def test_one_payment_per_order_the_order_id_is_the_idempotency_key(payments, db):
    first = payments.create_payment(ORDER, SHOPPER, PRICE, "烟台红富士苹果 5斤装", "key-1")
    again = payments.create_payment(order_id=ORDER, user_id=SHOPPER, amount=PRICE,
                                    description="烟台红富士苹果 5斤装")
    assert again == first
    assert first["status"] == "created" and first["prepay_id"].startswith("wx")
    assert first["pay_params"] is None  # the sandbox is paid through /sandbox/wechatpay/.../pay
    assert count(db, "payments") == 1 and count(db, "sandbox_orders") == 1

    with pytest.raises(Conflict) as caught:
        payments.create_payment(ORDER, SHOPPER, PRICE + 1, "烟台红富士苹果 5斤装")
    assert caught.value.code == "payment_amount_mismatch"
    with pytest.raises(Conflict) as caught:
        payments.create_payment(ORDER, SHOPPER + 1, PRICE, "烟台红富士苹果 5斤装")
    assert caught.value.code == "payment_user_mismatch"
    with pytest.raises(Conflict) as caught:
        payments.create_payment(ORDER + 1, SHOPPER, PRICE, "另一单", "key-1")
    assert caught.value.code == "idempotency_key_reused"
    assert count(db, "payments") == 1


BAD_CREATE_ARGS = [
    ((ORDER, SHOPPER, "1990", "苹果"), "amount"),
    ((ORDER, SHOPPER, 0, "苹果"), "amount"),
    ((ORDER, SHOPPER, True, "苹果"), "amount"),
    ((0, SHOPPER, PRICE, "苹果"), "order_id"),
    ((ORDER, None, PRICE, "苹果"), "user_id"),
    ((ORDER, SHOPPER, PRICE, "  "), "description"),
    ((ORDER, SHOPPER, PRICE, "苹" * 128), "description"),
    ((ORDER, SHOPPER, PRICE, "苹果", "has space"), "idempotency_key"),
    ((ORDER, SHOPPER, PRICE, "苹果", "key\n"), "idempotency_key"),
]


def test_bad_input_is_refused_and_nothing_written(payments, db):
    for args, field in BAD_CREATE_ARGS:
        with pytest.raises(BadRequest) as caught:
            payments.create_payment(*args)
        assert caught.value.code == "validation_failed" and field in caught.value.details, args
    assert count(db, "payments") == 0


def test_concurrent_calls_make_one_payment_and_never_refund_too_much(payments, db, amqp_uri):
    def each_in_parallel(call, times=5):
        def run(index):
            with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=10) as proxy:
                try:
                    return call(proxy.payments, index)
                except Conflict as conflict:
                    return conflict.code
        return list(eventlet.GreenPool(times).imap(run, range(times)))

    created = each_in_parallel(lambda p, _: p.create_payment(ORDER, SHOPPER, PRICE, "苹果"))
    assert len({answer["payment_id"] for answer in created}) == 1
    assert count(db, "payments") == 1
    payments.sandbox_pay(created[0]["prepay_id"], "success")
    assert wait_until(lambda: payments.get_payment(ORDER)["status"] == "succeeded")

    refunds = each_in_parallel(lambda p, i: p.refund(ORDER, 1000, "拼团失败", f"key-{i}"))
    assert sorted(str(answer) for answer in refunds if isinstance(answer, str)) == [
        "refund_exceeds_balance"] * 4
    assert count(db, "refunds") == 1


# --- paying --------------------------------------------------------------------------------

def test_paying_delivers_a_signed_notification_and_records_the_payment_once(payments, db, gateway):
    started = payments.create_payment(ORDER, SHOPPER, PRICE, "烟台红富士苹果 5斤装")
    paid = payments.sandbox_pay(started["prepay_id"], "success")
    assert paid["trade_state"] == "SUCCESS" and len(paid["transaction_id"]) == 28

    assert wait_until(lambda: events(db, "payment_succeeded"))
    [event] = events(db, "payment_succeeded")
    assert event["payment_id"] == started["payment_id"] and event["order_id"] == ORDER
    assert event["amount"] == PRICE and event["transaction_id"] == paid["transaction_id"]
    assert event["paid_at"].endswith("Z")
    assert payments.order_balance(ORDER) == {"paid": PRICE, "refunded": 0, "balance": PRICE}
    payment = payments.get_payment(ORDER)
    assert (payment["status"], payment["transaction_id"]) == ("succeeded", paid["transaction_id"])
    assert payments.create_payment(ORDER, SHOPPER, PRICE, "烟台红富士苹果 5斤装")["status"] == "succeeded"
    assert gateway.deliveries == ["payment"]

    assert all_delivered(db, 1)
    [notification] = rows(db, "SELECT * FROM sandbox_notifications")
    assert notification["attempts"] == 1 and notification["delivered_at"] is not None
    assert set(notification["headers"]) >= {"Wechatpay-Timestamp", "Wechatpay-Nonce",
                                            "Wechatpay-Serial", "Wechatpay-Signature"}
    assert json.loads(notification["body"])["event_type"] == "TRANSACTION.SUCCESS"
    assert started["prepay_id"] not in notification["body"]  # the resource is encrypted

    with pytest.raises(Conflict) as caught:
        payments.sandbox_pay(started["prepay_id"], "success")
    assert caught.value.code == "already_paid"


def test_a_failed_payment_pays_nothing_and_can_be_tried_again(payments, db):
    started = payments.create_payment(ORDER, SHOPPER, PRICE, "苹果")
    assert payments.sandbox_pay(started["prepay_id"], "fail")["trade_state"] == "NOTPAY"
    eventlet.sleep(0.7)  # a timer round: nothing to deliver
    assert count(db, "sandbox_notifications") == 0
    assert payments.get_payment(ORDER)["status"] == "created"
    payments.sandbox_pay(started["prepay_id"], "success")
    assert wait_until(lambda: payments.get_payment(ORDER)["status"] == "succeeded")


def test_sandbox_pay_refuses_what_it_cannot_pay(payments):
    with pytest.raises(NotFound) as caught:
        payments.sandbox_pay("wx-no-such-prepay", "success")
    assert caught.value.code == "prepay_not_found"
    with pytest.raises(BadRequest) as caught:
        payments.sandbox_pay("wx1", "maybe")
    assert "result" in caught.value.details


def test_sandbox_pay_is_forbidden_in_production(payments, monkeypatch):
    started = payments.create_payment(ORDER, SHOPPER, PRICE, "苹果")
    monkeypatch.setenv("PINTUAN_ENV", "production")
    with pytest.raises(Forbidden) as caught:
        payments.sandbox_pay(started["prepay_id"], "success")
    assert caught.value.code == "sandbox_forbidden"


def test_the_sandbox_refuses_to_start_in_production(monkeypatch, container_factory, service_config,
                                                    databases):
    monkeypatch.setenv("PINTUAN_ENV", "production")
    monkeypatch.setenv("PINTUAN_WECHATPAY_MODE", "sandbox")
    container = container_factory(settings.service_class("payments"), service_config("payments"))
    with pytest.raises(RuntimeError, match="sandbox is refused in production"):
        container.start()


def test_a_duplicated_notification_is_recorded_once(payments, db, gateway, monkeypatch):
    monkeypatch.setenv("PINTUAN_SANDBOX_DUPLICATE_RATE", "1.0")
    started = payments.create_payment(ORDER, SHOPPER, PRICE, "苹果")
    payments.sandbox_pay(started["prepay_id"], "success")
    assert wait_until(lambda: rows(db, "SELECT count(*) AS n FROM sandbox_notifications "
                                       "WHERE duplicate_of IS NOT NULL AND delivered_at IS NOT NULL"
                                   )[0]["n"] == 1)
    assert gateway.deliveries == ["payment", "payment"]  # both acknowledged
    assert len(events(db, "payment_succeeded")) == 1
    assert count(db, "ledger_movements") == 1
    assert payments.order_balance(ORDER)["paid"] == PRICE


def test_a_notification_refused_by_the_callback_is_retried_until_acknowledged(payments, db, gateway):
    gateway.refuse_first = 2
    started = payments.create_payment(ORDER, SHOPPER, PRICE, "苹果")
    payments.sandbox_pay(started["prepay_id"], "success")
    assert wait_until(lambda: events(db, "payment_succeeded"))
    assert gateway.deliveries == ["payment"] * 3
    assert all_delivered(db, 1)
    [notification] = rows(db, "SELECT * FROM sandbox_notifications")
    assert notification["attempts"] == 3 and notification["last_error"] is None
    assert len(events(db, "payment_succeeded")) == 1


def test_a_delivery_lost_on_the_way_is_retried_and_recorded_once(payments, db, gateway, monkeypatch):
    monkeypatch.setenv("PINTUAN_SANDBOX_DROP_RATE", "1.0")
    started = payments.create_payment(ORDER, SHOPPER, PRICE, "苹果")
    payments.sandbox_pay(started["prepay_id"], "success")
    assert wait_until(lambda: rows(db, "SELECT attempts FROM sandbox_notifications")[0]["attempts"] >= 2)
    assert gateway.deliveries == [] and events(db, "payment_succeeded") == []  # never arrived
    monkeypatch.setenv("PINTUAN_SANDBOX_DROP_RATE", "0")
    assert wait_until(lambda: events(db, "payment_succeeded"))
    assert gateway.deliveries == ["payment"]
    assert payments.order_balance(ORDER)["paid"] == PRICE


def test_a_slow_provider_delivers_after_its_delay(payments, db, gateway, monkeypatch):
    monkeypatch.setenv("PINTUAN_SANDBOX_DELAY_SECONDS", "1.5")
    started = payments.create_payment(ORDER, SHOPPER, PRICE, "苹果")
    payments.sandbox_pay(started["prepay_id"], "success")
    time.sleep(0.8)
    assert gateway.deliveries == []
    assert wait_until(lambda: events(db, "payment_succeeded"))
    assert gateway.deliveries == ["payment"]


def test_a_tampered_notification_is_refused_logged_and_not_recorded(payments, db, caplog):
    caplog.set_level(logging.WARNING, logger="services.payments.service")
    started = payments.create_payment(ORDER, SHOPPER, PRICE, "苹果")
    out_trade_no = payments.get_payment(ORDER)["out_trade_no"]
    headers, body = crafted("payment", transaction(out_trade_no), "TRANSACTION.SUCCESS")
    envelope = json.loads(body)
    envelope["id"] = "another-id"
    other_body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    signed_elsewhere, _ = crafted("payment", transaction("x"), "TRANSACTION.SUCCESS")
    forged = {**headers, "Wechatpay-Signature": signed_elsewhere["Wechatpay-Signature"]}
    refused = {"status": 401, "body": {"code": "FAIL", "message": "signature verification failed"}}
    assert payments.handle_notification("payment", headers, other_body) == refused
    assert payments.handle_notification("payment", forged, body) == refused
    assert payments.handle_notification("payment", {}, body) == refused
    assert "refused a payment notification" in caplog.text
    assert (count(db, "ledger_movements"), events(db, "payment_succeeded")) == (0, [])
    assert payments.get_payment(ORDER)["status"] == "created"

    # the same notification, untouched, is taken: the test forged only what it changed
    ok = {"status": 200, "body": {"code": "SUCCESS", "message": "成功"}}
    assert payments.handle_notification("payment", headers, body) == ok
    assert payments.handle_notification("payment", headers, body) == ok
    assert len(events(db, "payment_succeeded")) == 1
    assert events(db, "payment_succeeded")[0]["payment_id"] == started["payment_id"]


def test_notifications_that_cannot_be_acted_on_are_refused_for_a_later_retry(payments, db):
    payments.create_payment(ORDER, SHOPPER, PRICE, "苹果")
    out_trade_no = payments.get_payment(ORDER)["out_trade_no"]
    headers, body = crafted("payment", transaction("not-ours"), "TRANSACTION.SUCCESS")
    assert payments.handle_notification("payment", headers, body)["status"] == 400
    headers, body = crafted("payment", transaction(out_trade_no), "TRANSACTION.SUCCESS")
    assert payments.handle_notification("refund", headers, body)["status"] == 400  # wrong callback
    with pytest.raises(BadRequest):
        payments.handle_notification("other", headers, body)
    assert count(db, "ledger_movements") == 0


# --- closing -------------------------------------------------------------------------------

def test_a_closed_payment_cannot_be_paid_but_money_that_arrives_anyway_is_recorded(payments, db):
    started = payments.create_payment(ORDER, SHOPPER, PRICE, "苹果")
    assert payments.close_payment(ORDER) == {"order_id": ORDER, "status": "closed"}
    assert payments.close_payment(ORDER) == {"order_id": ORDER, "status": "closed"}
    assert payments.close_payment(ORDER + 1) == {"order_id": ORDER + 1, "status": None}
    with pytest.raises(Conflict) as caught:
        payments.sandbox_pay(started["prepay_id"], "success")
    assert caught.value.code == "payment_closed"
    with pytest.raises(Conflict) as caught:
        payments.create_payment(ORDER, SHOPPER, PRICE, "苹果")
    assert caught.value.code == "payment_closed"

    # the provider's notice of a payment made before the close reached it still counts
    out_trade_no = payments.get_payment(ORDER)["out_trade_no"]
    headers, body = crafted("payment", transaction(out_trade_no), "TRANSACTION.SUCCESS")
    assert payments.handle_notification("payment", headers, body)["status"] == 200
    assert payments.get_payment(ORDER)["status"] == "succeeded"
    assert len(events(db, "payment_succeeded")) == 1


def test_a_paid_payment_cannot_be_closed(payments, db):
    paid_order(payments, db)
    with pytest.raises(Conflict) as caught:
        payments.close_payment(ORDER)
    assert caught.value.code == "already_paid"


def cancelled(amqp_uri, db, order_id=ORDER, event_id=None):
    """orders announces the order's cancellation; -> once payments has handled it."""
    event_id = publish_event(amqp_uri, example(declared.OrderCancelled, order_id=order_id,
                                               user_id=SHOPPER, team_id=9, reason="by_shopper"),
                             event_id)
    assert wait_until(lambda: rows(db, "SELECT count(*) AS n FROM inbox WHERE event_id = :e",
                                   e=event_id)[0]["n"] == 1)
    return event_id


def test_a_cancelled_orders_payment_is_closed_and_can_no_longer_be_paid(payments, db, amqp_uri):
    started = payments.create_payment(ORDER, SHOPPER, PRICE, "苹果")
    cancelled(amqp_uri, db)
    assert payments.get_payment(ORDER)["status"] == "closed"
    assert rows(db, "SELECT state FROM sandbox_orders")[0]["state"] == "CLOSED"
    with pytest.raises(Conflict) as caught:
        payments.sandbox_pay(started["prepay_id"], "success")
    assert caught.value.code == "payment_closed"
    assert count(db, "ledger_movements") == 0 and events(db, "payment_succeeded") == []
    cancelled(amqp_uri, db, event_id=str(uuid.uuid4()))  # told twice: nothing more happens
    assert payments.get_payment(ORDER)["status"] == "closed"


def test_a_cancelled_order_without_a_payment_is_nothing_to_close(payments, db, amqp_uri):
    cancelled(amqp_uri, db, order_id=ORDER + 7)
    assert count(db, "payments") == 0 and count(db, "sandbox_orders") == 0


def test_a_payment_made_as_the_order_was_cancelled_still_arrives(payments, db, amqp_uri,
                                                                 monkeypatch):
    """The provider refuses to close a paid trade; its notice then records the money, and
    orders (a cancelled order, a payment) returns it."""
    monkeypatch.setenv("PINTUAN_SANDBOX_DELAY_SECONDS", "1")  # the notice is on its way
    started = payments.create_payment(ORDER, SHOPPER, PRICE, "苹果")
    payments.sandbox_pay(started["prepay_id"], "success")
    cancelled(amqp_uri, db)
    assert payments.get_payment(ORDER)["status"] == "created"  # not closed: it was paid
    assert wait_until(lambda: payments.get_payment(ORDER)["status"] == "succeeded")
    assert [e["order_id"] for e in events(db, "payment_succeeded")] == [ORDER]


# --- refunds -------------------------------------------------------------------------------

def test_a_refund_orders_asks_by_event_is_made_once(payments, db, gateway, amqp_uri):
    """orders writes refund_requested with the order's move to refunding (an outbox
    command); redelivered or asked again under its key, it is one refund."""
    paid_order(payments, db)
    asked = example(declared.RefundRequested, order_id=ORDER, amount=PRICE, reason="拼团失败",
                    refund_key=f"team-failed-{ORDER}")
    event_id = publish_event(amqp_uri, asked)
    publish_event(amqp_uri, asked, event_id)  # redelivered
    publish_event(amqp_uri, asked)  # asked again
    assert wait_until(lambda: events(db, "refund_succeeded"))
    assert wait_until(lambda: rows(db, "SELECT count(*) AS n FROM inbox")[0]["n"] == 2)
    assert count(db, "refunds") == 1
    assert payments.order_balance(ORDER) == {"paid": PRICE, "refunded": PRICE, "balance": 0}


def test_a_refund_succeeds_asynchronously_and_is_announced_once(payments, db, gateway):
    started = paid_order(payments, db)
    refund = payments.refund(ORDER, PRICE, "拼团失败", f"team-failed-{ORDER}")
    assert refund["status"] == "processing" and refund["attempts"] == 1
    assert payments.refund(ORDER, PRICE, "拼团失败", f"team-failed-{ORDER}") == refund

    assert wait_until(lambda: events(db, "refund_succeeded"))
    assert events(db, "refund_succeeded") == [{"refund_id": refund["id"], "order_id": ORDER,
                                               "amount": PRICE, "user_id": SHOPPER}]
    assert payments.order_balance(ORDER) == {"paid": PRICE, "refunded": PRICE, "balance": 0}
    assert gateway.deliveries == ["payment", "refund"]
    payment = payments.get_payment(ORDER)
    assert payment["id"] == started["payment_id"]
    assert [(r["status"], r["amount"]) for r in payment["refunds"]] == [("succeeded", PRICE)]
    assert count(db, "refunds") == 1

    with pytest.raises(Conflict) as caught:
        payments.refund(ORDER, 1, "again", "another-key")
    assert caught.value.code == "refund_exceeds_balance"
    assert payments.ledger_check() == {"movements": 2, "balanced": True, "unbalanced_movements": [],
                                       "orders_negative": [], "refunds_pending": 0,
                                       "refunds_stuck": 0}


def test_refunds_under_way_count_against_the_balance(payments, db):
    paid_order(payments, db, amount=1000)
    payments.refund(ORDER, 600, "部分退款", "part-1")
    with pytest.raises(Conflict) as caught:
        payments.refund(ORDER, 500, "部分退款", "part-2")
    assert caught.value.code == "refund_exceeds_balance"
    assert caught.value.details == {"amount": ["At most 400 fen can be refunded."]}
    payments.refund(ORDER, 400, "部分退款", "part-3")
    assert wait_until(lambda: len(events(db, "refund_succeeded")) == 2)
    assert payments.order_balance(ORDER) == {"paid": 1000, "refunded": 1000, "balance": 0}
    with pytest.raises(Conflict) as caught:
        payments.refund(ORDER, 500, "部分退款", "part-1")  # a key names one refund
    assert caught.value.code == "refund_key_reused"
    assert payments.ledger_check()["balanced"] is True


def test_refunds_need_a_paid_payment(payments):
    with pytest.raises(NotFound) as caught:
        payments.refund(ORDER, 100, "拼团失败", "k1")
    assert caught.value.code == "payment_not_found"
    payments.create_payment(ORDER, SHOPPER, PRICE, "苹果")
    with pytest.raises(Conflict) as caught:
        payments.refund(ORDER, 100, "拼团失败", "k1")
    assert caught.value.code == "payment_not_paid"
    with pytest.raises(BadRequest) as caught:
        payments.refund(ORDER, -5, "", "k 1")
    assert set(caught.value.details) == {"amount", "reason", "refund_key"}


def test_a_refund_the_provider_did_not_take_is_resubmitted(payments, db, monkeypatch):
    paid_order(payments, db)
    monkeypatch.setenv("PINTUAN_FAULT", sandbox.REFUND_OUTAGE_FAULT)
    refund = payments.refund(ORDER, PRICE, "拼团失败", "k1")
    assert (refund["status"], refund["attempts"]) == ("requested", 1)
    assert wait_until(lambda: payments.get_payment(ORDER)["refunds"][0]["attempts"] >= 2)
    assert payments.get_payment(ORDER)["refunds"][0]["status"] == "requested"
    monkeypatch.delenv("PINTUAN_FAULT")
    assert wait_until(lambda: events(db, "refund_succeeded"))
    assert payments.order_balance(ORDER)["balance"] == 0
    assert count(db, "sandbox_refunds") == 1


def only_refund(payments):
    [refund] = payments.get_payment(ORDER)["refunds"]
    return refund


def test_a_refund_refused_for_now_is_retried_with_backoff(payments, db, monkeypatch):
    """NOT_ENOUGH: the merchant's refundable balance is short until it is topped up."""
    paid_order(payments, db)
    monkeypatch.setenv("PINTUAN_FAULT", sandbox.REFUND_NOT_ENOUGH_FAULT)
    refund = payments.refund(ORDER, PRICE, "拼团失败", "k1")
    assert (refund["status"], refund["attempts"]) == ("requested", 1)
    assert wait_until(lambda: only_refund(payments)["attempts"] >= 3)
    assert only_refund(payments)["status"] == "requested"
    assert "NOT_ENOUGH" in rows(db, "SELECT last_error FROM refunds")[0]["last_error"]
    monkeypatch.delenv("PINTUAN_FAULT")  # topped up
    assert wait_until(lambda: events(db, "refund_succeeded"))
    assert payments.order_balance(ORDER)["balance"] == 0


def test_a_refund_refused_for_good_is_stuck_until_ops_retries_it(payments, db, monkeypatch):
    paid_order(payments, db)
    monkeypatch.setenv("PINTUAN_FAULT", sandbox.REFUND_ABNORMAL_FAULT)
    refund = payments.refund(ORDER, PRICE, "拼团失败", "k1")
    assert refund["status"] == "failed"
    stuck = payments.list_refunds("stuck")
    assert stuck["total"] == 1 and stuck["items"][0]["id"] == refund["id"]
    assert stuck["items"][0]["stuck"] is True
    assert "USER_ACCOUNT_ABNORMAL" in stuck["items"][0]["last_error"]
    check = payments.ledger_check()
    assert (check["refunds_stuck"], check["refunds_pending"]) == (1, 0)

    monkeypatch.delenv("PINTUAN_FAULT")  # the shopper's account is fixed
    retried = payments.retry_refund(refund["id"])
    assert (retried["status"], retried["attempts"], retried["stuck"]) == ("processing", 1, False)
    assert wait_until(lambda: events(db, "refund_succeeded"))
    assert payments.order_balance(ORDER) == {"paid": PRICE, "refunded": PRICE, "balance": 0}
    assert payments.list_refunds("stuck")["total"] == 0
    assert payments.list_refunds("succeeded")["items"][0]["id"] == refund["id"]
    assert payments.ledger_check()["refunds_stuck"] == 0
    with pytest.raises(Conflict) as caught:
        payments.retry_refund(refund["id"])
    assert caught.value.code == "refund_succeeded"
    with pytest.raises(NotFound):
        payments.retry_refund(refund["id"] + 1)
    with pytest.raises(BadRequest):
        payments.list_refunds("lost")


def test_a_refund_not_done_after_its_tries_or_its_time_is_stuck(payments, db, monkeypatch):
    monkeypatch.setenv("PINTUAN_REFUND_STUCK_ATTEMPTS", "3")
    monkeypatch.setenv("PINTUAN_REFUND_STUCK_SECONDS", "1.5")
    monkeypatch.setenv("PINTUAN_SANDBOX_REFUND_DELAY_SECONDS", "60")  # taken, not yet done
    paid_order(payments, db)
    paid_order(payments, db, order_id=ORDER + 1)
    taken = payments.refund(ORDER, PRICE, "拼团失败", "k1")
    monkeypatch.setenv("PINTUAN_FAULT", sandbox.REFUND_OUTAGE_FAULT)
    untaken = payments.refund(ORDER + 1, PRICE, "拼团失败", "k2")
    assert [r["id"] for r in payments.list_refunds("pending")["items"]] == [taken["id"],
                                                                           untaken["id"]]
    assert payments.list_refunds("stuck")["total"] == 0
    assert wait_until(lambda: [r["id"] for r in payments.list_refunds("stuck")["items"]]
                      == [untaken["id"]])  # its third try failed
    assert wait_until(lambda: payments.list_refunds("stuck")["total"] == 2)  # 1.5 s passed
    check = payments.ledger_check()
    assert (check["refunds_pending"], check["refunds_stuck"]) == (2, 2)


def test_a_second_transaction_for_a_paid_order_is_kept_in_the_ledger_but_not_announced(payments, db):
    paid_order(payments, db)
    out_trade_no = payments.get_payment(ORDER)["out_trade_no"]
    headers, body = crafted("payment", transaction(out_trade_no, transaction_id="4200999"),
                            "TRANSACTION.SUCCESS")
    assert payments.handle_notification("payment", headers, body)["status"] == 200
    assert len(events(db, "payment_succeeded")) == 1
    assert payments.order_balance(ORDER)["paid"] == 2 * PRICE  # the money is there: ops returns it
    assert payments.ledger_check()["balanced"] is True


def test_a_refund_the_provider_reports_abnormal_fails_and_frees_the_balance(payments, db,
                                                                            monkeypatch):
    monkeypatch.setenv("PINTUAN_SANDBOX_REFUND_DELAY_SECONDS", "60")  # the sandbox stays quiet
    paid_order(payments, db)
    refund = payments.refund(ORDER, PRICE, "拼团失败", "k1")
    [out_refund_no] = [r["out_refund_no"] for r in rows(db, "SELECT out_refund_no FROM refunds")]
    headers, body = crafted("refund", {"out_refund_no": out_refund_no, "refund_id": "50001",
                                       "refund_status": "ABNORMAL",
                                       "amount": {"refund": PRICE, "total": PRICE}},
                            "REFUND.ABNORMAL")
    assert payments.handle_notification("refund", headers, body)["status"] == 200
    [failed] = payments.get_payment(ORDER)["refunds"]
    assert (failed["id"], failed["status"]) == (refund["id"], "failed")
    assert payments.refund(ORDER, PRICE, "拼团失败", "k1")["status"] == "failed"  # same key, same refund
    assert events(db, "refund_succeeded") == []
    assert payments.order_balance(ORDER)["balance"] == PRICE
