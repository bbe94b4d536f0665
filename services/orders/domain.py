"""Order rules: the order state machine, payment windows and prices. Pure, no I/O.

An order moves (docs/group-buy.md, "State machines"):

    placing -> pending_payment -> awaiting_team (team) | paid (normal) -> to_ship -> shipped -> completed
    to_ship -> shipped                           (the merchant ships it with a carrier and number)
    shipped -> completed                         (the shopper confirms receipt, or the timer does
                                                  after PINTUAN_AUTO_CONFIRM_SECONDS: 自动确认收货)
    pending_payment -> cancelled                 (shopper, payment window passed, team gone)
    awaiting_team -> refunding -> refunded       (team failed, seat refused)
    cancelled -> refunding -> refunded           (a payment that arrived too late)

`placing` is internal: the order exists while the seat and stock are being taken, and
is never shown. Each rule below is the one place a move is decided; each returns the
status to move to, or None when the order is already where the move would take it (a
redelivered event, a second click, a timer that lost a race), and refuses a forbidden
move with a typed error.
"""
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from plumbing import money
from plumbing.errors import Conflict, NotFound, Unprocessable

NORMAL, TEAM = "normal", "team"
TYPES = (NORMAL, TEAM)

PLACING = "placing"
PENDING_PAYMENT = "pending_payment"
AWAITING_TEAM = "awaiting_team"
PAID = "paid"
TO_SHIP = "to_ship"
SHIPPED = "shipped"
COMPLETED = "completed"
CANCELLED = "cancelled"
REFUNDING = "refunding"
REFUNDED = "refunded"
STATUSES = (PLACING, PENDING_PAYMENT, AWAITING_TEAM, PAID, TO_SHIP, SHIPPED, COMPLETED,
            CANCELLED, REFUNDING, REFUNDED)
SHOWN_STATUSES = tuple(status for status in STATUSES if status != PLACING)

# Every allowed move; anything else is refused.
TRANSITIONS = {
    PLACING: {PENDING_PAYMENT},
    PENDING_PAYMENT: {AWAITING_TEAM, PAID, CANCELLED},
    AWAITING_TEAM: {TO_SHIP, REFUNDING},
    PAID: {TO_SHIP},
    TO_SHIP: {SHIPPED},
    SHIPPED: {COMPLETED},
    COMPLETED: set(),
    CANCELLED: {REFUNDING},
    REFUNDING: {REFUNDED},
    REFUNDED: set(),
}

# Why an order was cancelled or refunded (order_cancelled / order_refunded `reason`).
BY_SHOPPER = "by_shopper"
PAYMENT_TIMEOUT = "payment_timeout"
TEAM_FAILED = "team_failed"
TEAM_CANCELLED = "team_cancelled"
SEAT_REFUSED = "seat_refused"
LATE_PAYMENT = "late_payment"
AMOUNT_MISMATCH = "amount_mismatch"

# Why an order was completed (order_history `reason`).
CONFIRMED_BY_SHOPPER = "confirmed_by_shopper"
AUTO_CONFIRMED = "auto_confirmed"

DEFAULT_PLACING_TIMEOUT_SECONDS = 60
DEFAULT_AUTO_CONFIRM_SECONDS = 10 * 24 * 3600  # 自动确认收货: ten days after shipping


def check_transition(from_status, to_status):
    """The one gate every status change goes through."""
    if to_status not in TRANSITIONS[from_status]:
        raise Conflict("invalid_order_transition",
                       f"An order cannot go from {from_status} to {to_status}.",
                       details={"from": from_status, "to": to_status})
    return to_status


# --- placing ---------------------------------------------------------------------

def placed(status):
    """The seat and stock are held: the order waits for its payment."""
    return check_transition(status, PENDING_PAYMENT)


def amount(unit_price, quantity):
    """The order's amount; BadRequest `order_amount_too_large` over the most one order may
    come to (teams refuses such a seat before taking it; this is the last word)."""
    if unit_price <= 0 or quantity <= 0:
        raise ValueError(f"price {unit_price} and quantity {quantity} must be positive")
    return money.order_amount(unit_price, quantity)


REQUEST_FIELDS = ("campaign_id", "team_id", "sku_id", "quantity", "address_id")


def request_fingerprint(args):
    """What a placing request asked for, as a short digest kept with its order: a retry
    under the same idempotency key must ask for the same."""
    asked = {name: args.get(name) for name in REQUEST_FIELDS}
    return hashlib.sha256(json.dumps(asked, sort_keys=True).encode("ascii")).hexdigest()


def check_same_request(kept_fingerprint, fingerprint):
    """The same key with another body is a client's mistake, not a retry: 422, rather than
    the first order passed off as the answer to the second request. (Orders placed before
    fingerprints were kept have none, and are taken as the same.)"""
    if kept_fingerprint is not None and kept_fingerprint != fingerprint:
        raise Unprocessable("idempotency_key_reused",
                            "This Idempotency-Key was used for another request; use a new key "
                            "for a new order.")


def placing_abandoned(status, created_at, now, timeout_seconds):
    """A `placing` order this old was left by a crash mid-placement: its seat and stock
    are released and it is dropped. (A live placement keeps its row locked, so the timer
    never sees it, however slow it is.)"""
    return status == PLACING and now - created_at >= timedelta(seconds=timeout_seconds)


def team_status_at_placement(is_leader, reported=None):
    """The team's status as the placing shopper sees it: what teams reported, else what
    the contract implies (a leader's unpaid order makes a pending team; joining needs an
    open one)."""
    if reported:
        return reported
    return "pending" if is_leader else "open"


# --- payment -----------------------------------------------------------------------

def check_payable(status, pay_deadline, now):
    """The shopper may start paying only a pending order inside its payment window."""
    if status != PENDING_PAYMENT:
        raise Conflict("order_not_payable", f"An order that is {status} cannot be paid.")
    if now >= pay_deadline:
        raise Conflict("order_not_payable", "The payment window of this order has closed.")


def paid_status(order_type):
    return AWAITING_TEAM if order_type == TEAM else PAID


@dataclass(frozen=True)
class PaymentOutcome:
    """What a received payment does: keep it (`to_status` is the paid status), ignore it
    (a repeat of the payment already kept), or refund it (`refund_reason`), moving the
    order to `to_status` when that is not None."""
    keep: bool = False
    to_status: str | None = None
    refund_reason: str | None = None


def payment_arrived(order_type, status, order_amount, kept_payment_id, payment_id, paid_amount):
    """Money that arrives is either kept for a live order or returned. `status` is None
    for an order this service does not know. A pending order keeps a payment that came
    after its window but before the timer cancelled it: if its seat was lost meanwhile,
    teams refuses the seat and the order is refunded from `seat_refused`."""
    if status is not None and kept_payment_id == payment_id:
        return PaymentOutcome()  # the payment this order already recorded
    if status == PENDING_PAYMENT:
        if paid_amount != order_amount:
            return PaymentOutcome(refund_reason=AMOUNT_MISMATCH)
        return PaymentOutcome(keep=True, to_status=check_transition(status,
                                                                     paid_status(order_type)))
    if status == CANCELLED:
        return PaymentOutcome(to_status=check_transition(status, REFUNDING),
                              refund_reason=LATE_PAYMENT)
    return PaymentOutcome(refund_reason=LATE_PAYMENT)


# --- cancelling --------------------------------------------------------------------

def shopper_cancel(status):
    """Only an unpaid order can be cancelled by its shopper. A paid team order waits for
    its team (seed 004: 拼团中的订单不可取消); cancelling twice changes nothing."""
    if status == CANCELLED:
        return None
    if status == AWAITING_TEAM:
        raise Conflict("order_not_cancellable",
                       "A paid team order cannot be cancelled while its team is forming; "
                       "it is refunded automatically if the team fails.")
    if status != PENDING_PAYMENT:
        raise Conflict("order_not_cancellable", f"An order that is {status} cannot be cancelled.")
    return check_transition(status, CANCELLED)


def payment_window_closed(status, pay_deadline, now):
    """The timer's re-check: cancel a still-unpaid order whose window has passed."""
    if status == PENDING_PAYMENT and now >= pay_deadline:
        return check_transition(status, CANCELLED)
    return None


# --- team outcome and refunds --------------------------------------------------------
# The teams service lists order ids by its own view of who paid; an order's own status
# decides here, so an event that crossed another in flight never refunds twice.

def team_succeeded(status):
    """A paid member of a full team ships; an order already past that stays."""
    if status == AWAITING_TEAM:
        return check_transition(status, TO_SHIP)
    return None


def team_failed(status):
    """A paid member is refunded; an unpaid one can no longer pay and is cancelled."""
    if status == AWAITING_TEAM:
        return check_transition(status, REFUNDING)
    if status == PENDING_PAYMENT:
        return check_transition(status, CANCELLED)
    return None


def team_cancelled(status):
    """The leader never paid: the team is gone, and with it every unpaid seat."""
    if status == PENDING_PAYMENT:
        return check_transition(status, CANCELLED)
    return None


def seat_refused(status):
    """The payment came for a seat the team could not keep: it goes back. An order the
    failed team already sent to refunding is refunded once."""
    if status == AWAITING_TEAM:
        return check_transition(status, REFUNDING)
    return None


def refund_succeeded(status):
    if status == REFUNDING:
        return check_transition(status, REFUNDED)
    return None


# --- fulfilment ----------------------------------------------------------------------

def ship(status, shipment, carrier, tracking_no):
    """The merchant ships an order that waits for it. `shipment` is the order's
    (carrier, tracking_no) so far: shipping again with the same ones is a second click
    and changes nothing; any other state is refused."""
    if status == SHIPPED and shipment == (carrier, tracking_no):
        return None
    if status == SHIPPED:
        raise Conflict("order_already_shipped",
                       "This order has already shipped with another carrier or number.",
                       details={"carrier": shipment[0], "tracking_no": shipment[1]})
    if status != TO_SHIP:
        raise Conflict("order_not_shippable", f"An order that is {status} cannot be shipped.",
                       details={"status": status})
    return check_transition(status, SHIPPED)


def confirm_receipt(status):
    """The shopper confirms a shipped order arrived (确认收货); confirming twice changes
    nothing. An order that has not shipped cannot be received."""
    if status == COMPLETED:
        return None
    if status != SHIPPED:
        raise Conflict("order_not_shipped",
                       f"An order that is {status} cannot be confirmed as received.",
                       details={"status": status})
    return check_transition(status, COMPLETED)


def auto_confirm_due(status, shipped_at, now, after_seconds):
    """The timer's re-check: a shipped order whose shopper never confirmed is completed
    `after_seconds` after it shipped (自动确认收货)."""
    if status == SHIPPED and shipped_at is not None \
            and now - shipped_at >= timedelta(seconds=after_seconds):
        return check_transition(status, COMPLETED)
    return None


# --- what other services answered --------------------------------------------------------

ADDRESS_FIELDS = ("id", "recipient", "phone", "province", "city", "district", "detail")


def choose_address(addresses, address_id):
    """The snapshot of the address the order ships to: the one named, which must be the
    shopper's own, else the shopper's default, else none yet."""
    if address_id is not None:
        chosen = next((a for a in addresses if a["id"] == address_id), None)
        if chosen is None:
            raise NotFound("address_not_found", f"You have no address {address_id}.")
    else:
        chosen = next((a for a in addresses if a.get("is_default")), None)
    if chosen is None:
        return None
    return {field: chosen.get(field) for field in ADDRESS_FIELDS}


def check_seat(seat, campaign_id):
    """Joining names a team; a campaign named as well must be that team's. A retried
    placement finds its seat as it is now: a released one will not do."""
    if campaign_id is not None and seat["campaign_id"] != campaign_id:
        raise Conflict("team_not_in_campaign",
                       f"Team {seat['team_id']} belongs to another campaign.")
    if seat.get("seat_state", "reserved") != "reserved":
        raise Conflict("order_expired", "This order's seat was released; place it again.")


def check_reservation(state):
    """A retried placement finds its reservation as it is now: only a held one will do."""
    if state != "reserved":
        raise Conflict("order_expired", "This order's stock was released; place it again.")
