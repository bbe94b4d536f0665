"""Pure rules of payments: state machines, refund limits, the ledger, provider notices,
and the WeChat Pay v3 signatures and encryption. No broker, no database."""
import base64
import itertools
import json
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import rsa

from plumbing.errors import Conflict
from services.payments import domain, signing
from services.payments.domain import (
    ACCEPTED,
    CLOSE,
    CLOSED,
    CREATED,
    FAILED,
    PAID,
    PROCESSING,
    REFUSED,
    REQUESTED,
    RETRY,
    SETTLED,
    SUCCEEDED,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
APIV3_KEY = "0123456789abcdefghijABCDEFGHIJ01"


@pytest.fixture(scope="module")
def platform_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# --- payment states ------------------------------------------------------------------

PAYMENT_ALLOWED = {
    (CREATED, PAID): SUCCEEDED,
    (CREATED, CLOSE): CLOSED,
    (CLOSED, PAID): SUCCEEDED,
    (CLOSED, CLOSE): CLOSED,
}


@pytest.mark.parametrize("status,event", list(itertools.product(domain.PAYMENT_STATUSES,
                                                                domain.PAYMENT_EVENTS)))
def test_every_payment_transition_is_allowed_or_refused(status, event):
    if (status, event) in PAYMENT_ALLOWED:
        assert domain.next_payment_status(status, event) == PAYMENT_ALLOWED[(status, event)]
    else:
        with pytest.raises(Conflict) as caught:
            domain.next_payment_status(status, event)
        assert caught.value.code == "already_paid"


def test_only_a_succeeded_payment_is_final():
    assert {status for status, _ in PAYMENT_ALLOWED} == {CREATED, CLOSED}


def test_a_transaction_notice_is_recorded_once():
    assert domain.transaction_outcome(CREATED, already_recorded=False) == domain.RECORD
    assert domain.transaction_outcome(CLOSED, already_recorded=False) == domain.RECORD
    assert domain.transaction_outcome(SUCCEEDED, already_recorded=False) == domain.EXTRA
    for status in domain.PAYMENT_STATUSES:
        assert domain.transaction_outcome(status, already_recorded=True) == domain.DUPLICATE


def test_a_repeated_create_payment_must_match_the_first():
    domain.check_same_payment(1990, 7, 1990, 7)
    with pytest.raises(Conflict) as caught:
        domain.check_same_payment(1990, 7, 2000, 7)
    assert caught.value.code == "payment_amount_mismatch"
    with pytest.raises(Conflict) as caught:
        domain.check_same_payment(1990, 7, 1990, 8)
    assert caught.value.code == "payment_user_mismatch"


def test_an_idempotency_key_names_one_order():
    domain.check_idempotency_key(None, 5)
    domain.check_idempotency_key(5, 5)
    with pytest.raises(Conflict) as caught:
        domain.check_idempotency_key(4, 5)
    assert caught.value.code == "idempotency_key_reused"


def test_a_closed_payment_cannot_be_handed_out_again():
    domain.check_not_closed(CREATED)
    domain.check_not_closed(SUCCEEDED)
    with pytest.raises(Conflict) as caught:
        domain.check_not_closed(CLOSED)
    assert caught.value.code == "payment_closed"


# --- refund states -------------------------------------------------------------------

REFUND_ALLOWED = {
    (REQUESTED, ACCEPTED): PROCESSING,
    (PROCESSING, ACCEPTED): PROCESSING,
    (REQUESTED, SETTLED): SUCCEEDED,
    (PROCESSING, SETTLED): SUCCEEDED,
    (FAILED, SETTLED): SUCCEEDED,
    (REQUESTED, REFUSED): FAILED,
    (PROCESSING, REFUSED): FAILED,
    (FAILED, REFUSED): FAILED,
    (FAILED, RETRY): REQUESTED,
    (REQUESTED, RETRY): REQUESTED,
    (PROCESSING, RETRY): PROCESSING,
}


@pytest.mark.parametrize("status,event", list(itertools.product(domain.REFUND_STATUSES,
                                                                domain.REFUND_EVENTS)))
def test_every_refund_transition_is_allowed_or_refused(status, event):
    if (status, event) in REFUND_ALLOWED:
        assert domain.next_refund_status(status, event) == REFUND_ALLOWED[(status, event)]
    else:
        with pytest.raises(Conflict) as caught:
            domain.next_refund_status(status, event)
        assert caught.value.code == "refund_final"


def test_a_succeeded_refund_is_final_and_a_failed_one_only_yields_to_the_money_or_ops():
    assert not [event for event in domain.REFUND_EVENTS if (SUCCEEDED, event) in REFUND_ALLOWED]
    assert (FAILED, ACCEPTED) not in REFUND_ALLOWED


def test_ops_may_retry_any_refund_but_a_succeeded_one():
    assert domain.check_retry(FAILED) == REQUESTED
    assert domain.check_retry(REQUESTED) == REQUESTED
    assert domain.check_retry(PROCESSING) == PROCESSING
    with pytest.raises(Conflict) as caught:
        domain.check_retry(SUCCEEDED)
    assert caught.value.code == "refund_succeeded"


def test_only_a_refusal_for_now_is_retried_by_itself():
    for code in ("NOT_ENOUGH", "FREQUENCY_LIMITED", "SYSTEM_ERROR"):
        assert not domain.refusal_is_final(code)
    for code in ("USER_ACCOUNT_ABNORMAL", "INVALID_REQUEST", "PARAM_ERROR", "NO_AUTH"):
        assert domain.refusal_is_final(code)


POLICY = domain.StuckPolicy(attempts=5, seconds=3600)


def test_a_failed_refund_is_stuck_at_once():
    assert domain.is_stuck(FAILED, 1, T0, T0, POLICY)


def test_a_pending_refund_is_stuck_after_its_tries_or_its_time():
    for status in (REQUESTED, PROCESSING):
        assert not domain.is_stuck(status, 4, T0, T0 + timedelta(seconds=3599), POLICY)
        assert domain.is_stuck(status, 5, T0, T0, POLICY)
        assert domain.is_stuck(status, 1, T0, T0 + timedelta(seconds=3600), POLICY)
    assert not domain.is_stuck(SUCCEEDED, 9, T0, T0 + timedelta(days=9), POLICY)


# --- refund limits -----------------------------------------------------------------

def test_a_refund_needs_a_paid_payment():
    for status in (CREATED, CLOSED):
        with pytest.raises(Conflict) as caught:
            domain.check_refund(status, 100, balance=0, pending=0)
        assert caught.value.code == "payment_not_paid"


def test_a_refund_may_take_the_whole_balance():
    domain.check_refund(SUCCEEDED, 1990, balance=1990, pending=0)
    domain.check_refund(SUCCEEDED, 1, balance=1990, pending=1989)


def test_a_refund_beyond_the_balance_is_refused():
    with pytest.raises(Conflict) as caught:
        domain.check_refund(SUCCEEDED, 1991, balance=1990, pending=0)
    assert caught.value.code == "refund_exceeds_balance"
    assert caught.value.details == {"amount": ["At most 1990 fen can be refunded."]}


def test_refunds_under_way_count_against_the_balance():
    with pytest.raises(Conflict) as caught:
        domain.check_refund(SUCCEEDED, 700, balance=1000, pending=400)
    assert "At most 600 fen" in caught.value.message
    with pytest.raises(Conflict):
        domain.check_refund(SUCCEEDED, 1, balance=1000, pending=1000)


def test_a_fully_refunded_order_has_nothing_left():
    with pytest.raises(Conflict) as caught:
        domain.check_refund(SUCCEEDED, 1, balance=0, pending=0)
    assert caught.value.code == "refund_exceeds_balance"


def test_a_refund_key_names_one_refund():
    domain.check_same_refund(5, 300, 5, 300)
    for order_id, amount in ((6, 300), (5, 301)):
        with pytest.raises(Conflict) as caught:
            domain.check_same_refund(5, 300, order_id, amount)
        assert caught.value.code == "refund_key_reused"


# --- retries ---------------------------------------------------------------------------

def test_retries_back_off_along_the_schedule_then_keep_the_last_step():
    schedule = [1, 2, 5]
    assert [domain.retry_delay(n, schedule) for n in range(0, 6)] == [1, 1, 2, 5, 5, 5]
    assert domain.next_attempt_at(T0, 2, schedule) == T0 + timedelta(seconds=2)
    assert domain.next_attempt_at(T0, 1, [0.2]) == T0 + timedelta(seconds=0.2)


# --- ledger ------------------------------------------------------------------------------

def test_a_payment_moves_money_into_provider_cash_held_for_the_order():
    postings = domain.postings(domain.PAYMENT_KIND, 42, 1990)
    assert postings == [("provider_cash", 1990), ("order:42", -1990)]
    assert domain.is_balanced(p.amount for p in postings)


def test_a_refund_moves_it_back():
    postings = domain.postings(domain.REFUND_KIND, 42, 500)
    assert postings == [("provider_cash", -500), ("order:42", 500)]
    assert domain.is_balanced(p.amount for p in postings)


@pytest.mark.parametrize("amount", [0, -1, 1.5, True, "100", None])
def test_a_movement_is_a_positive_whole_number_of_fen(amount):
    with pytest.raises(ValueError):
        domain.postings(domain.PAYMENT_KIND, 1, amount)


def test_balanced_means_two_sides_or_more_that_cancel():
    assert domain.is_balanced([5, -5])
    assert domain.is_balanced([5, -3, -2])
    assert not domain.is_balanced([5, -4])
    assert not domain.is_balanced([0])
    assert not domain.is_balanced([])


def test_an_orders_balance_is_paid_minus_refunded():
    assert domain.order_balance({}) == {"paid": 0, "refunded": 0, "balance": 0}
    assert domain.order_balance({"payment": -1990}) == {"paid": 1990, "refunded": 0, "balance": 1990}
    assert domain.order_balance({"payment": -1990, "refund": 1990}) == {
        "paid": 1990, "refunded": 1990, "balance": 0}


def test_ledger_sums_of_a_whole_history_balance_per_order():
    movements = [domain.postings(domain.PAYMENT_KIND, 1, 1000),
                 domain.postings(domain.REFUND_KIND, 1, 300),
                 domain.postings(domain.PAYMENT_KIND, 2, 500),
                 domain.postings(domain.REFUND_KIND, 1, 700)]
    flat = [posting for movement in movements for posting in movement]
    assert sum(p.amount for p in flat) == 0
    assert sum(p.amount for p in flat if p.account == "provider_cash") == 500
    assert sum(p.amount for p in flat if p.account == "order:1") == 0
    assert domain.payment_reference("4200") == "payment:4200"
    assert domain.refund_reference("abc") == "refund:abc"


# --- provider notices --------------------------------------------------------------------

def transaction(**overrides):
    resource = {"out_trade_no": "t1", "transaction_id": "4200000001", "trade_state": "SUCCESS",
                "success_time": "2026-03-01T16:00:05+08:00", "amount": {"total": 1990}}
    resource.update(overrides)
    return {"event_type": "TRANSACTION.SUCCESS", "resource": resource}


def refund_notice(event_type="REFUND.SUCCESS", **overrides):
    resource = {"out_refund_no": "r1", "refund_id": "5000001", "refund_status": "SUCCESS",
                "success_time": "2026-03-01T16:10:00+08:00", "amount": {"refund": 500, "total": 1990}}
    resource.update(overrides)
    return {"event_type": event_type, "resource": resource}


def test_a_transaction_notice_is_read_in_utc():
    notice = domain.read_notice("payment", transaction())
    assert notice == domain.TransactionNotice("t1", "4200000001", 1990,
                                              datetime(2026, 3, 1, 8, 0, 5, tzinfo=timezone.utc))


def test_refund_notices_say_settled_or_refused():
    settled = domain.read_notice("refund", refund_notice())
    assert (settled.out_refund_no, settled.provider_refund_id, settled.event, settled.amount) == (
        "r1", "5000001", SETTLED, 500)
    assert settled.succeeded_at == datetime(2026, 3, 1, 8, 10, tzinfo=timezone.utc)
    for event_type in ("REFUND.ABNORMAL", "REFUND.CLOSED"):
        refused = domain.read_notice("refund", refund_notice(event_type, success_time=None,
                                                             refund_status=event_type[7:]))
        assert (refused.event, refused.succeeded_at, refused.detail) == (REFUSED, None,
                                                                         event_type[7:])


@pytest.mark.parametrize("kind,notification", [
    ("payment", refund_notice()),  # sent to the wrong callback
    ("refund", transaction()),
    ("payment", transaction(trade_state="NOTPAY")),
    ("payment", transaction(out_trade_no="")),
    ("payment", transaction(transaction_id=None)),
    ("payment", transaction(amount={"total": 0})),
    ("payment", transaction(amount={"total": True})),
    ("payment", transaction(amount={"total": "1990"})),
    ("payment", transaction(amount=[1990])),
    ("payment", transaction(success_time="yesterday")),
    ("payment", transaction(success_time="2026-03-01T16:00:05")),  # no zone
    ("refund", refund_notice(amount={"total": 1990})),
    ("refund", refund_notice(success_time=None)),
    ("refund", refund_notice("REFUND.SOMETHING")),
    ("other", transaction()),
])
def test_unreadable_notices_are_refused(kind, notification):
    with pytest.raises(domain.BadNotice):
        domain.read_notice(kind, notification)


# --- signatures ------------------------------------------------------------------------------

def signed(platform_key, body, **kwargs):
    serial = signing.serial_of(platform_key.public_key())
    return signing.signed_headers(platform_key, serial, body, **kwargs), serial


def test_a_signature_over_timestamp_nonce_and_body_verifies(platform_key):
    body = '{"id":"n1"}'
    headers, serial = signed(platform_key, body)
    signing.check_signed(headers, body, platform_key.public_key(), serial)
    text = signing.signed_text(headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"], body)
    assert text == f"{headers['Wechatpay-Timestamp']}\n{headers['Wechatpay-Nonce']}\n{body}\n"
    assert signing.signature_holds(platform_key.public_key(), text, headers["Wechatpay-Signature"])
    assert headers["Wechatpay-Signature-Type"] == "WECHATPAY2-SHA256-RSA2048"


def test_header_names_match_in_any_case(platform_key):
    body = "{}"
    headers, serial = signed(platform_key, body)
    lowered = {name.lower(): value for name, value in headers.items()}
    upper = {name.upper(): value for name, value in headers.items()}
    signing.check_signed(lowered, body, platform_key.public_key(), serial)
    signing.check_signed(upper, body, platform_key.public_key(), serial)


def tampered(headers, name, value):
    return {**headers, name: value}


def test_any_tampering_is_refused_with_401(platform_key, other_key):
    body = '{"id":"n1","amount":1990}'
    headers, serial = signed(platform_key, body)
    public = platform_key.public_key()
    forged_signature = signing.sign(other_key, signing.signed_text(
        headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"], body))
    cases = [
        (headers, body.replace("1990", "1")),  # body changed
        (tampered(headers, "Wechatpay-Nonce", "another-nonce"), body),
        (tampered(headers, "Wechatpay-Timestamp", str(int(headers["Wechatpay-Timestamp"]) + 1)), body),
        (tampered(headers, "Wechatpay-Signature", forged_signature), body),  # someone else's key
        (tampered(headers, "Wechatpay-Signature", "not base64!"), body),
        (tampered(headers, "Wechatpay-Signature", base64.b64encode(b"x" * 256).decode()), body),
        (tampered(headers, "Wechatpay-Serial", "0" * 40), body),
        (tampered(headers, "Wechatpay-Signature-Type", "WECHATPAY2-SM2-WITH-SM3"), body),
        ({k: v for k, v in headers.items() if k != "Wechatpay-Signature"}, body),
        ({}, body),
        (None, body),
    ]
    for bad_headers, bad_body in cases:
        with pytest.raises(signing.Rejected) as caught:
            signing.check_signed(bad_headers, bad_body, public, serial)
        assert caught.value.status == 401


def test_the_serial_is_only_checked_when_known(platform_key):
    headers, _ = signed(platform_key, "{}")
    signing.check_signed(tampered(headers, "Wechatpay-Serial", "whatever"), "{}",
                         platform_key.public_key(), serial=None)


def test_a_stale_or_future_timestamp_is_refused(platform_key):
    with time_machine.travel(T0, tick=False):
        headers, serial = signed(platform_key, "{}")
    with time_machine.travel(T0 + timedelta(seconds=300), tick=False):
        signing.check_signed(headers, "{}", platform_key.public_key(), serial)
    with time_machine.travel(T0 + timedelta(seconds=301), tick=False):
        with pytest.raises(signing.Rejected) as caught:
            signing.check_signed(headers, "{}", platform_key.public_key(), serial)
        assert "too old" in caught.value.reason
    with time_machine.travel(T0 - timedelta(seconds=301), tick=False):
        with pytest.raises(signing.Rejected):
            signing.check_signed(headers, "{}", platform_key.public_key(), serial)


def test_a_key_serial_is_stable_and_differs_between_keys(platform_key, other_key):
    serial = signing.serial_of(platform_key.public_key())
    assert serial == signing.serial_of(platform_key.public_key())
    assert len(serial) == 40 and serial == serial.upper()
    assert serial != signing.serial_of(other_key.public_key())


# --- AES-256-GCM resources ----------------------------------------------------------------

def test_a_resource_round_trips_through_aes_256_gcm():
    plaintext = json.dumps({"out_trade_no": "t1", "desc": "苹果"}, ensure_ascii=False)
    ciphertext = signing.encrypt(APIV3_KEY, plaintext, "transaction", "abcdefghijkl")
    assert signing.decrypt(APIV3_KEY, ciphertext, "transaction", "abcdefghijkl") == plaintext
    assert plaintext not in ciphertext


def test_a_resource_does_not_open_when_anything_differs():
    ciphertext = signing.encrypt(APIV3_KEY, '{"a":1}', "transaction", "abcdefghijkl")
    raw = bytearray(base64.b64decode(ciphertext))
    raw[0] ^= 1
    flipped = base64.b64encode(bytes(raw)).decode()
    for args in [(APIV3_KEY, flipped, "transaction", "abcdefghijkl"),
                 ("X" * 32, ciphertext, "transaction", "abcdefghijkl"),
                 (APIV3_KEY, ciphertext, "refund", "abcdefghijkl"),
                 (APIV3_KEY, ciphertext, "transaction", "abcdefghijkm"),
                 (APIV3_KEY, "%%%", "transaction", "abcdefghijkl")]:
        with pytest.raises(signing.Rejected) as caught:
            signing.decrypt(*args)
        assert caught.value.status == 400


def notification(platform_key, payload, apiv3_key=APIV3_KEY):
    resource = signing.encrypted_resource(apiv3_key, payload, "transaction")
    body = signing.notification_body("evt-1", "2026-03-01T16:00:05+08:00", "TRANSACTION.SUCCESS",
                                     "支付成功", resource, "transaction")
    headers, serial = signed(platform_key, body)
    return headers, body, serial


def test_a_signed_encrypted_notification_is_verified_and_opened(platform_key):
    payload = transaction()["resource"]
    headers, body, serial = notification(platform_key, payload)
    envelope = json.loads(body)
    assert envelope["resource_type"] == "encrypt-resource"
    assert envelope["resource"]["algorithm"] == "AEAD_AES_256_GCM"
    assert "out_trade_no" not in body
    opened = signing.verify_and_decrypt(headers, body, platform_key.public_key(), APIV3_KEY, serial)
    assert opened == {"id": "evt-1", "event_type": "TRANSACTION.SUCCESS",
                      "create_time": "2026-03-01T16:00:05+08:00", "resource": payload}


def test_a_notification_with_a_good_signature_but_unreadable_content_is_400(platform_key):
    headers, body, serial = notification(platform_key, {"a": 1}, apiv3_key="Y" * 32)
    with pytest.raises(signing.Rejected) as caught:
        signing.verify_and_decrypt(headers, body, platform_key.public_key(), APIV3_KEY, serial)
    assert caught.value.status == 400
    for text in ("not json", "[1, 2]", '{"resource": {"algorithm": "RC4"}}'):
        headers, serial = signed(platform_key, text)
        with pytest.raises(signing.Rejected) as caught:
            signing.verify_and_decrypt(headers, text, platform_key.public_key(), APIV3_KEY, serial)
        assert caught.value.status == 400


def test_a_tampered_notification_is_401_before_anything_is_decrypted(platform_key):
    headers, body, serial = notification(platform_key, transaction()["resource"])
    with pytest.raises(signing.Rejected) as caught:
        signing.verify_and_decrypt(headers, body.replace("evt-1", "evt-2"),
                                   platform_key.public_key(), APIV3_KEY, serial)
    assert caught.value.status == 401


# --- our requests ---------------------------------------------------------------------------

def test_the_authorization_header_signs_method_path_time_nonce_and_body(platform_key):
    merchant_key = platform_key  # any RSA key; here it stands for the merchant's
    header = signing.authorization("1900000001", "SERIAL1", merchant_key, "post",
                                   "/v3/refund/domestic/refunds", '{"a":1}', timestamp=1772352000,
                                   iv="NONCE123")
    scheme, _, params = header.partition(" ")
    assert scheme == "WECHATPAY2-SHA256-RSA2048"
    fields = dict(part.split("=", 1) for part in params.split(","))
    fields = {key: value.strip('"') for key, value in fields.items()}
    assert (fields["mchid"], fields["nonce_str"], fields["timestamp"], fields["serial_no"]) == (
        "1900000001", "NONCE123", "1772352000", "SERIAL1")
    text = "POST\n/v3/refund/domestic/refunds\n1772352000\nNONCE123\n{\"a\":1}\n"
    assert signing.signature_holds(merchant_key.public_key(), text, fields["signature"])


def test_jsapi_pay_params_are_signed_for_wx_request_payment(platform_key):
    params = signing.jsapi_pay_params("wxapp", "wx123", platform_key, timestamp=1772352000,
                                      iv="N1")
    assert params["package"] == "prepay_id=wx123" and params["signType"] == "RSA"
    assert signing.signature_holds(platform_key.public_key(),
                                   "wxapp\n1772352000\nN1\nprepay_id=wx123\n", params["paySign"])


def test_nonces_are_random_alphanumerics():
    first, second = signing.nonce(), signing.nonce()
    assert first != second and len(first) == 32 and first.isalnum()
    assert len(signing.nonce(12)) == 12
