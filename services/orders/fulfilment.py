"""Fulfilment: after its team succeeds an order waits for the merchant to ship it; the
shopper then confirms receipt, or a timer does after PINTUAN_AUTO_CONFIRM_SECONDS
(自动确认收货), and `order_completed` lets catalog accept the shopper's review."""
from datetime import timedelta

from plumbing import clock, settings
from services.orders import domain, store, views


def auto_confirm_seconds():
    """How long after shipping an unconfirmed order completes by itself (自动确认收货)."""
    return float(settings.env("PINTUAN_AUTO_CONFIRM_SECONDS",
                              str(domain.DEFAULT_AUTO_CONFIRM_SECONDS)))


def ship(db, args):
    """The merchant ships an order waiting for it (to_ship) -> the order. The same
    carrier and number again is a no-op."""
    order = store.shown(db.session, args.order_id, merchant_id=args.merchant_id,
                        lock_row=True)
    if domain.ship(order.status, (order.carrier, order.tracking_no), args.carrier,
                   args.tracking_no):
        order.carrier, order.tracking_no = args.carrier, args.tracking_no
        order.shipped_by, order.shipped_at = args.merchant_id, clock.now()
        store.move(db.session, order, domain.SHIPPED)
        db.emit(views.order_shipped(order))
    return order


def confirm_receipt(db, order):
    if domain.confirm_receipt(order.status):
        _complete(db, order, domain.CONFIRMED_BY_SHOPPER)


def auto_confirm(db):
    now, after = clock.now(), auto_confirm_seconds()
    for order in store.shipped_before(db.session, now - timedelta(seconds=after)):
        if domain.auto_confirm_due(order.status, clock.aware(order.shipped_at), now, after):
            _complete(db, order, domain.AUTO_CONFIRMED)


def _complete(db, order, reason):
    order.completed_at = clock.now()
    store.move(db.session, order, domain.COMPLETED, reason)
    db.emit(views.order_completed(order))
