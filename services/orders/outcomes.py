"""What happens to a placed order after: its payment arriving (kept, or returned when it
cannot be), its payment window closing, the shopper cancelling it, its team's outcome
(succeeded, failed, cancelled, its seat refused), and its refund being asked and done."""
import logging

from plumbing import clock
from plumbing.errors import AppError
from services.orders import domain, store, views
from services.orders.placing import Placing

log = logging.getLogger(__name__)


# --- payments arriving ---------------------------------------------------------------

def payment_arrived(db, paid):
    """`paid`: the typed `payment_succeeded` event."""
    order = store.lock(db.session, paid.order_id)
    outcome = domain.payment_arrived(
        order.type if order else None, order.status if order else None,
        order.amount if order else None, order.payment_id if order else None,
        paid.payment_id, paid.amount)
    if outcome.to_status is not None:
        _record_payment(order, paid)
    if outcome.keep:
        store.move(db.session, order, outcome.to_status)
        db.emit(views.order_paid(order))
    elif outcome.refund_reason is not None:
        _return_payment(db, order, paid, outcome)


def _record_payment(order, paid):
    order.payment_id = paid.payment_id
    order.paid_at = paid.paid_at
    order.transaction_id = paid.transaction_id


def _return_payment(db, order, paid, outcome):
    """Money that cannot be kept goes back: a cancelled order waits in refunding for
    it; a live order stays as it is (the stray payment was not its own)."""
    log.warning("payment %s for order %s is refunded: %s", paid.payment_id,
                paid.order_id, outcome.refund_reason)
    if outcome.to_status is not None:
        store.move(db.session, order, outcome.to_status, outcome.refund_reason)
        order.refund_reason = outcome.refund_reason
    # A stray payment's refund does not finish the live order it landed on.
    _ask_refund(db, paid.order_id, paid.amount, outcome.refund_reason,
                f"late-{paid.payment_id}")


def cancel_unpaid(db):
    now = clock.now()
    for order in store.unpaid_past_deadline(db.session, now):
        if domain.payment_window_closed(order.status, clock.aware(order.pay_deadline), now):
            cancel(db, order, domain.PAYMENT_TIMEOUT)


# --- cancelling ----------------------------------------------------------------------

def cancel(db, order, reason):
    store.move(db.session, order, domain.CANCELLED, reason)
    order.cancel_reason = reason
    db.emit(views.order_cancelled(order))


class ShopperCancel:
    """A shopper cancels their order (built per call with the unit and the proxies that
    give back at once)."""

    def __init__(self, db, teams, catalog, payments):
        self.db, self.teams, self.catalog, self.payments = db, teams, catalog, payments

    def cancel(self, order):
        if domain.shopper_cancel(order.status):
            cancel(self.db, order, domain.BY_SHOPPER)
            self.db.session.commit()  # cancelled for good before anything is given back
            self._give_back_now(order)

    def _give_back_now(self, order):
        """The seat, the per-shopper quantity and the stock go back, and the WeChat Pay
        order is closed, before the shopper hears the order is cancelled: their next order
        (a new team in the same campaign, the last unit) does not meet them still held, and
        the cancelled order can no longer be paid. `order_cancelled` does the same again (a
        no-op by then), so a service away now only delays it; a payment made at this very
        moment is refused by the close and comes back as a late payment."""
        placing = Placing(self.db, self.teams, self.catalog)
        for give_back in (lambda: placing.release_seat_and_stock(order),
                          lambda: self.payments.close_payment(order_id=order.id)):
            try:
                give_back()
            except AppError as refusal:
                log.warning("order %s cancelled; the rest follows from its event (%s)",
                            order.id, refusal.code)


# --- team outcomes -------------------------------------------------------------------

def team_succeeded(db, order_ids):
    for order in store.lock_many(db.session, order_ids):
        if domain.team_succeeded(order.status):
            store.move(db.session, order, domain.TO_SHIP)
            db.emit(views.order_to_ship(order))


def team_failed(db, order_ids):
    for order in store.lock_many(db.session, order_ids):
        move = domain.team_failed(order.status)
        if move == domain.REFUNDING:
            _refund(db, order, domain.TEAM_FAILED, f"team-failed-{order.id}")
        elif move == domain.CANCELLED:
            cancel(db, order, domain.TEAM_FAILED)


def team_cancelled(db, order_ids):
    for order in store.lock_many(db.session, order_ids):
        if domain.team_cancelled(order.status):
            cancel(db, order, domain.TEAM_CANCELLED)


def seat_refused(db, order_id):
    order = store.lock(db.session, order_id)
    if order is not None and domain.seat_refused(order.status):
        _refund(db, order, domain.SEAT_REFUSED, f"seat-refused-{order.id}")


# --- refunds -------------------------------------------------------------------------

def refund_succeeded(db, order_id, amount):
    order = store.lock(db.session, order_id)
    if order is not None and domain.refund_succeeded(order.status):
        store.move(db.session, order, domain.REFUNDED)
        db.emit(views.order_refunded(order, amount))


def _refund(db, order, reason, refund_key):
    """The order's whole amount goes back."""
    store.move(db.session, order, domain.REFUNDING, reason)
    order.refund_reason = reason
    _ask_refund(db, order.id, order.amount, reason, refund_key)


def _ask_refund(db, order_id, amount, reason, refund_key):
    """Asks payments for the refund by an event written with the order's move, so the
    refund is asked exactly when the move commits, whether payments is up or not;
    payments refunds once per key, and its refund_succeeded finishes the order."""
    db.emit(views.refund_requested(order_id, amount, reason, refund_key))
