"""Order rules, without a broker or a database: every allowed and every forbidden move."""
from datetime import datetime, timedelta, timezone
from itertools import product

import pytest
import time_machine

from plumbing import clock
from plumbing.errors import BadRequest, Conflict, NotFound, Unprocessable
from plumbing.validation import MAX_PAGE_SIZE
from services.orders import domain, schemas
from services.orders.domain import (
    AWAITING_TEAM,
    CANCELLED,
    COMPLETED,
    PAID,
    PENDING_PAYMENT,
    PLACING,
    REFUNDED,
    REFUNDING,
    SHIPPED,
    STATUSES,
    TO_SHIP,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)

# The order state machine of docs/group-buy.md, written out once more by hand.
ALLOWED = {
    (PLACING, PENDING_PAYMENT),
    (PENDING_PAYMENT, AWAITING_TEAM), (PENDING_PAYMENT, PAID), (PENDING_PAYMENT, CANCELLED),
    (AWAITING_TEAM, TO_SHIP), (AWAITING_TEAM, REFUNDING),
    (PAID, TO_SHIP), (TO_SHIP, SHIPPED), (SHIPPED, COMPLETED),
    (CANCELLED, REFUNDING), (REFUNDING, REFUNDED),
}
ALL_PAIRS = list(product(STATUSES, STATUSES))


def others(*statuses):
    return [status for status in STATUSES if status not in statuses]


# --- the transition table ----------------------------------------------------------

def test_the_table_is_the_contract():
    assert {(a, b) for a, targets in domain.TRANSITIONS.items() for b in targets} == ALLOWED
    assert set(domain.TRANSITIONS) == set(STATUSES)


@pytest.mark.parametrize("from_status, to_status", sorted(ALLOWED))
def test_every_allowed_move_passes(from_status, to_status):
    assert domain.check_transition(from_status, to_status) == to_status


@pytest.mark.parametrize("from_status, to_status",
                         [pair for pair in ALL_PAIRS if pair not in ALLOWED])
def test_every_other_move_is_refused(from_status, to_status):
    with pytest.raises(Conflict) as raised:
        domain.check_transition(from_status, to_status)
    assert raised.value.code == "invalid_order_transition"
    assert raised.value.details == {"from": from_status, "to": to_status}


@pytest.mark.parametrize("status", [COMPLETED, REFUNDED])
def test_completed_and_refunded_are_final(status):
    assert domain.TRANSITIONS[status] == set()


def test_placing_is_never_shown():
    assert PLACING not in domain.SHOWN_STATUSES
    assert set(domain.SHOWN_STATUSES) == set(STATUSES) - {PLACING}


# --- placing -----------------------------------------------------------------------

def test_a_placed_order_waits_for_payment():
    assert domain.placed(PLACING) == PENDING_PAYMENT


@pytest.mark.parametrize("status", others(PLACING))
def test_only_a_placing_order_can_be_placed(status):
    with pytest.raises(Conflict):
        domain.placed(status)


def test_the_amount_is_unit_price_times_quantity_in_fen():
    assert domain.amount(1990, 3) == 5970
    for unit_price, quantity in ((0, 1), (-1, 1), (100, 0)):
        with pytest.raises(ValueError):
            domain.amount(unit_price, quantity)


def test_an_amount_past_the_most_one_order_may_cost_is_refused():
    with pytest.raises(BadRequest) as refused:
        domain.amount(99_999_999, 22)
    assert refused.value.code == "order_amount_too_large"


def test_a_placing_order_is_abandoned_after_the_timeout():
    created = T0
    assert not domain.placing_abandoned(PLACING, created, T0 + timedelta(seconds=59), 60)
    assert domain.placing_abandoned(PLACING, created, T0 + timedelta(seconds=60), 60)
    for status in others(PLACING):  # the timer lost a race: the order was placed meanwhile
        assert not domain.placing_abandoned(status, created, T0 + timedelta(hours=1), 60)


def test_the_team_status_shown_at_placement():
    assert domain.team_status_at_placement(True) == "pending"
    assert domain.team_status_at_placement(False) == "open"
    assert domain.team_status_at_placement(True, "open") == "open"


# --- the payment window ------------------------------------------------------------

def test_an_order_is_payable_until_its_deadline_on_the_clock():
    deadline = T0 + timedelta(minutes=15)
    with time_machine.travel(T0, tick=False) as traveller:
        domain.check_payable(PENDING_PAYMENT, deadline, clock.now())
        traveller.shift(timedelta(minutes=15) - timedelta(microseconds=1))
        domain.check_payable(PENDING_PAYMENT, deadline, clock.now())
        traveller.shift(timedelta(microseconds=1))
        with pytest.raises(Conflict) as raised:
            domain.check_payable(PENDING_PAYMENT, deadline, clock.now())
        assert raised.value.code == "order_not_payable"


@pytest.mark.parametrize("status", others(PENDING_PAYMENT))
def test_only_a_pending_order_is_payable(status):
    with pytest.raises(Conflict) as raised:
        domain.check_payable(status, T0 + timedelta(hours=1), T0)
    assert raised.value.code == "order_not_payable"


def test_the_timer_cancels_an_unpaid_order_once_its_window_has_passed():
    deadline = T0 + timedelta(seconds=1)
    with time_machine.travel(T0, tick=False) as traveller:
        assert domain.payment_window_closed(PENDING_PAYMENT, deadline, clock.now()) is None
        traveller.shift(timedelta(seconds=1))
        assert domain.payment_window_closed(PENDING_PAYMENT, deadline, clock.now()) == CANCELLED


@pytest.mark.parametrize("status", others(PENDING_PAYMENT))
def test_the_timer_leaves_any_other_order_alone(status):
    assert domain.payment_window_closed(status, T0, T0 + timedelta(days=1)) is None


# --- payments arriving -----------------------------------------------------------------

def arrived(status, order_type=domain.TEAM, kept=None, payment_id=7, paid=5970):
    return domain.payment_arrived(order_type, status, 5970, kept, payment_id, paid)


def test_a_payment_for_a_pending_team_order_waits_for_the_team():
    assert arrived(PENDING_PAYMENT) == domain.PaymentOutcome(keep=True, to_status=AWAITING_TEAM)


def test_a_payment_for_a_pending_normal_order_makes_it_paid():
    assert arrived(PENDING_PAYMENT, domain.NORMAL) == domain.PaymentOutcome(keep=True,
                                                                            to_status=PAID)


def test_a_payment_of_the_wrong_amount_is_returned_and_the_order_stays_pending():
    assert arrived(PENDING_PAYMENT, paid=5969) == domain.PaymentOutcome(
        refund_reason=domain.AMOUNT_MISMATCH)


def test_a_late_payment_for_a_cancelled_order_is_refunded():
    assert arrived(CANCELLED) == domain.PaymentOutcome(to_status=REFUNDING,
                                                       refund_reason=domain.LATE_PAYMENT)


@pytest.mark.parametrize("status", others(PENDING_PAYMENT, CANCELLED))
def test_another_payment_for_an_order_no_longer_payable_is_returned(status):
    assert arrived(status, kept=6) == domain.PaymentOutcome(refund_reason=domain.LATE_PAYMENT)


@pytest.mark.parametrize("status", others(PENDING_PAYMENT))
def test_a_repeat_of_the_payment_already_recorded_changes_nothing(status):
    assert arrived(status, kept=7) == domain.PaymentOutcome()


def test_a_payment_for_an_unknown_order_is_returned():
    assert domain.payment_arrived(None, None, None, None, 7, 100) == domain.PaymentOutcome(
        refund_reason=domain.LATE_PAYMENT)


# --- cancelling by the shopper ------------------------------------------------------------

def test_the_shopper_cancels_an_unpaid_order():
    assert domain.shopper_cancel(PENDING_PAYMENT) == CANCELLED


def test_cancelling_twice_changes_nothing():
    assert domain.shopper_cancel(CANCELLED) is None


def test_the_shopper_cannot_cancel_a_paid_team_order_while_the_team_forms():
    with pytest.raises(Conflict) as raised:
        domain.shopper_cancel(AWAITING_TEAM)
    assert raised.value.code == "order_not_cancellable"
    assert "team is forming" in raised.value.message


@pytest.mark.parametrize("status", others(PENDING_PAYMENT, CANCELLED))
def test_the_shopper_cannot_cancel_any_other_order(status):
    with pytest.raises(Conflict) as raised:
        domain.shopper_cancel(status)
    assert raised.value.code == "order_not_cancellable"


# --- team outcomes and refunds ------------------------------------------------------------

EVENT_RULES = {
    # rule: {status it acts on: the status it moves to}; every other status: no-op
    domain.team_succeeded: {AWAITING_TEAM: TO_SHIP},
    domain.team_failed: {AWAITING_TEAM: REFUNDING, PENDING_PAYMENT: CANCELLED},
    domain.team_cancelled: {PENDING_PAYMENT: CANCELLED},
    domain.seat_refused: {AWAITING_TEAM: REFUNDING},
    domain.refund_succeeded: {REFUNDING: REFUNDED},
}


@pytest.mark.parametrize("rule, status", list(product(EVENT_RULES, STATUSES)),
                         ids=lambda value: getattr(value, "__name__", value))
def test_each_event_moves_only_the_orders_it_concerns(rule, status):
    assert rule(status) == EVENT_RULES[rule].get(status)


def test_a_team_failure_and_a_refused_seat_refund_an_order_once():
    # whichever comes first moves the order to refunding; the other finds nothing to do
    assert domain.seat_refused(domain.team_failed(AWAITING_TEAM)) is None
    assert domain.team_failed(domain.seat_refused(AWAITING_TEAM)) is None


# --- fulfilment: shipping, receipt, 自动确认收货 ---------------------------------------------

SHIPMENT = ("顺丰速运", "SF1234567890")


def test_the_merchant_ships_an_order_waiting_for_it():
    assert domain.ship(TO_SHIP, (None, None), *SHIPMENT) == SHIPPED


def test_shipping_again_with_the_same_carrier_and_number_changes_nothing():
    assert domain.ship(SHIPPED, SHIPMENT, *SHIPMENT) is None


@pytest.mark.parametrize("other", [("中通快递", "SF1234567890"), ("顺丰速运", "SF1234567891")])
def test_a_shipped_order_cannot_be_shipped_again_differently(other):
    with pytest.raises(Conflict) as raised:
        domain.ship(SHIPPED, SHIPMENT, *other)
    assert raised.value.code == "order_already_shipped"
    assert raised.value.details == {"carrier": "顺丰速运", "tracking_no": "SF1234567890"}


@pytest.mark.parametrize("status", others(TO_SHIP, SHIPPED))
def test_only_an_order_waiting_to_ship_can_ship(status):
    with pytest.raises(Conflict) as raised:
        domain.ship(status, (None, None), *SHIPMENT)
    assert raised.value.code == "order_not_shippable"
    assert raised.value.details == {"status": status}


def test_the_shopper_confirms_receipt_of_a_shipped_order():
    assert domain.confirm_receipt(SHIPPED) == COMPLETED


def test_confirming_twice_changes_nothing():
    assert domain.confirm_receipt(COMPLETED) is None


@pytest.mark.parametrize("status", others(SHIPPED, COMPLETED))
def test_an_order_that_has_not_shipped_cannot_be_received(status):
    with pytest.raises(Conflict) as raised:
        domain.confirm_receipt(status)
    assert raised.value.code == "order_not_shipped"


def test_a_shipped_order_completes_by_itself_after_ten_days_by_default():
    assert domain.DEFAULT_AUTO_CONFIRM_SECONDS == 10 * 24 * 3600
    after = domain.DEFAULT_AUTO_CONFIRM_SECONDS
    with time_machine.travel(T0, tick=False) as traveller:
        shipped_at = clock.now()
        traveller.shift(timedelta(days=10) - timedelta(microseconds=1))
        assert domain.auto_confirm_due(SHIPPED, shipped_at, clock.now(), after) is None
        traveller.shift(timedelta(microseconds=1))
        assert domain.auto_confirm_due(SHIPPED, shipped_at, clock.now(), after) == COMPLETED
        traveller.shift(timedelta(days=30))  # the service was down: still completed, once
        assert domain.auto_confirm_due(SHIPPED, shipped_at, clock.now(), after) == COMPLETED


def test_the_auto_confirm_delay_is_a_setting_in_seconds():
    assert domain.auto_confirm_due(SHIPPED, T0, T0 + timedelta(seconds=2), 3) is None
    assert domain.auto_confirm_due(SHIPPED, T0, T0 + timedelta(seconds=3), 3) == COMPLETED


@pytest.mark.parametrize("status", others(SHIPPED))
def test_the_auto_confirm_timer_leaves_any_other_order_alone(status):
    # a shopper who confirmed just before the timer: the timer finds nothing to do
    assert domain.auto_confirm_due(status, T0, T0 + timedelta(days=100), 1) is None


def test_shipping_then_receipt_follows_the_transition_table():
    assert domain.confirm_receipt(domain.ship(TO_SHIP, (None, None), *SHIPMENT)) == COMPLETED
    assert domain.TRANSITIONS[COMPLETED] == set()


# --- what other services answered -----------------------------------------------------

ADDRESSES = [
    {"id": 3, "recipient": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
     "district": "西湖区", "detail": "文三路 100 号", "is_default": True,
     "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"},
    {"id": 5, "recipient": "李四", "phone": "13900139000", "province": "上海市", "city": "上海市",
     "district": "徐汇区", "detail": "漕溪北路 1 号", "is_default": False,
     "created_at": "2026-01-02T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z"},
]


def test_the_named_address_is_snapshotted_without_bookkeeping_fields():
    assert domain.choose_address(ADDRESSES, 5) == {
        "id": 5, "recipient": "李四", "phone": "13900139000", "province": "上海市",
        "city": "上海市", "district": "徐汇区", "detail": "漕溪北路 1 号"}


def test_without_a_named_address_the_default_is_used():
    assert domain.choose_address(ADDRESSES, None)["id"] == 3
    assert domain.choose_address([{**ADDRESSES[1]}], None) is None
    assert domain.choose_address([], None) is None


def test_an_address_that_is_not_the_shoppers_is_not_found():
    with pytest.raises(NotFound) as raised:
        domain.choose_address(ADDRESSES, 4)
    assert raised.value.code == "address_not_found"


def test_a_joined_team_must_belong_to_the_campaign_named():
    domain.check_seat({"team_id": 9, "campaign_id": 2}, None)
    domain.check_seat({"team_id": 9, "campaign_id": 2}, 2)
    with pytest.raises(Conflict) as raised:
        domain.check_seat({"team_id": 9, "campaign_id": 2}, 3)
    assert raised.value.code == "team_not_in_campaign"


def test_only_a_held_seat_will_do():
    domain.check_seat({"team_id": 9, "campaign_id": 2, "seat_state": "reserved"}, None)
    for state in ("released", "paid", "refused"):
        with pytest.raises(Conflict) as raised:
            domain.check_seat({"team_id": 9, "campaign_id": 2, "seat_state": state}, None)
        assert raised.value.code == "order_expired"


def test_only_a_held_reservation_will_do():
    domain.check_reservation("reserved")
    for state in ("released", "committed"):
        with pytest.raises(Conflict) as raised:
            domain.check_reservation(state)
        assert raised.value.code == "order_expired"


# --- input --------------------------------------------------------------------------------

def load(schema, **data):
    return schemas.load(schema, data)


def test_placing_names_a_campaign_or_a_team():
    args = load(schemas.PlaceTeamOrderArgs, user_id=1, campaign_id=2, sku_id=3, quantity=1)
    assert args.as_kwargs() == {"user_id": 1, "campaign_id": 2, "sku_id": 3, "quantity": 1,
                                "team_id": None, "address_id": None, "idempotency_key": None}
    assert load(schemas.PlaceTeamOrderArgs, user_id=1, campaign_id=None, team_id=4, sku_id=3,
                quantity=1).team_id == 4
    with pytest.raises(BadRequest) as raised:
        load(schemas.PlaceTeamOrderArgs, user_id=1, campaign_id=None, sku_id=3, quantity=1)
    assert list(raised.value.details) == ["campaign_id"]


@pytest.mark.parametrize("field, value", [
    ("user_id", "1"), ("user_id", 0), ("sku_id", True), ("sku_id", 2**31), ("quantity", 0),
    ("quantity", 1.5), ("quantity", 10_000), ("idempotency_key", ""),
    ("idempotency_key", "k" * 65), ("address_id", -1),
])
def test_bad_placing_input_is_refused_by_field(field, value):
    data = {"user_id": 1, "campaign_id": 2, "sku_id": 3, "quantity": 1, field: value}
    with pytest.raises(BadRequest) as raised:
        schemas.load(schemas.PlaceTeamOrderArgs, data)
    assert raised.value.code == "validation_failed"
    assert list(raised.value.details) == [field]


@pytest.mark.parametrize("schema", [schemas.ListArgs, schemas.AdminListArgs])
def test_listing_filters_are_checked(schema):
    base = {"user_id": 1} if schema is schemas.ListArgs else {"merchant_id": 1}
    for field, value in (("status", PLACING), ("status", "lost"), ("type", "flash"),
                         ("page", 0), ("page_size", MAX_PAGE_SIZE + 1)):
        with pytest.raises(BadRequest) as raised:
            schemas.load(schema, {**base, field: value})
        assert list(raised.value.details) == [field]


def ship_args(**overrides):
    return {"merchant_id": 1, "order_id": 2, "carrier": "顺丰速运",
            "tracking_no": "SF1234567890", **overrides}


def test_shipping_input_is_trimmed():
    assert schemas.load(schemas.ShipArgs, ship_args(carrier=" 中通快递 ",
                                                    tracking_no=" 7531-0099 ")).as_kwargs() == ship_args(
        carrier="中通快递", tracking_no="7531-0099")


@pytest.mark.parametrize("field, value", [
    ("merchant_id", "1"), ("order_id", 0), ("carrier", ""), ("carrier", "   "),
    ("carrier", "快" * 33), ("carrier", 5), ("tracking_no", "SF1"), ("tracking_no", "S" * 41),
    ("tracking_no", "SF 123 456"), ("tracking_no", "SF123456;"), ("tracking_no", None),
])
def test_bad_shipping_input_is_refused_by_field(field, value):
    with pytest.raises(BadRequest) as raised:
        schemas.load(schemas.ShipArgs, ship_args(**{field: value}))
    assert list(raised.value.details) == [field]


# --- idempotency keys ---------------------------------------------------------------

def test_a_retry_must_ask_for_what_its_key_first_asked_for():
    asked = {"user_id": 11, "campaign_id": 5, "team_id": None, "sku_id": 70, "quantity": 2,
             "address_id": None, "idempotency_key": "tap-1"}
    kept = domain.request_fingerprint(asked)
    assert domain.request_fingerprint(dict(reversed(list(asked.items())))) == kept
    domain.check_same_request(kept, kept)
    domain.check_same_request(None, kept)  # an order from before fingerprints were kept
    for change in ({"quantity": 3}, {"sku_id": 71}, {"address_id": 32},
                   {"campaign_id": None, "team_id": 105}):
        with pytest.raises(Unprocessable) as refused:
            domain.check_same_request(kept, domain.request_fingerprint({**asked, **change}))
        assert refused.value.status == 422 and refused.value.code == "idempotency_key_reused"
