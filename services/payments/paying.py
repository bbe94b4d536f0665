"""Payments of orders: making one (one per order, its prepay id asked of the provider)
and closing one so it can no longer be paid. `provider` is the service's adapter (sandbox
or real WeChat Pay), bound here to the worker's session."""
import logging

from plumbing import clock
from plumbing.errors import Conflict, Unavailable
from services.payments import config, domain, store
from services.payments.interface import ProviderRefused, ProviderUnavailable

log = logging.getLogger(__name__)

NO_SUCH_TRADE = "ORDER_NOT_EXIST"  # WeChat's answer to closing a trade it does not know


def start(db, provider, args):
    """The order's payment, made if it has none -> the payment. One payment per order: the
    order id is the idempotency key, so asking again returns the same payment."""
    payment = store.payment_for_order(db.session, args.order_id) or \
        _new_payment(db, provider, args)
    domain.check_same_payment(payment.amount, payment.user_id, args.amount, args.user_id)
    domain.check_not_closed(payment.status)
    return payment


def close(db, provider, order_id):
    """Closes the order's payment if it has one -> the payment (None without)."""
    payment = store.payment_for_order(db.session, order_id, lock=True)
    if payment is None:
        return None
    status = domain.next_payment_status(payment.status, domain.CLOSE)
    if status != payment.status:
        _close_at_provider(db, provider, payment)
        payment.status, payment.closed_at = status, clock.now()
    return payment


def close_for_cancelled(db, provider, order_id):
    """If the shopper paid at the very moment the order was cancelled, the provider
    refuses the close: the payment's notification is on its way, and orders returns a
    late payment."""
    try:
        close(db, provider, order_id)
    except Conflict as refused:
        if refused.code != "already_paid":
            raise  # retried, then dead-lettered for a person
        log.info("order %s was cancelled but its payment was already made; it is "
                 "returned once its notice arrives", order_id)


def _new_payment(db, provider, args):
    """Claims the order's payment and asks the provider for a prepay id. A twin call
    that got there first wins: its payment is returned."""
    _check_key(db, args)
    payment = store.claim_payment(db.session, args)
    if payment is None:
        _check_key(db, args)  # the twin may have taken our key for another order
        return store.existing_payment(db.session, args.order_id)
    payment.prepay_id = _prepay(db, provider, payment, args.payer_openid)
    return payment


def _check_key(db, args):
    domain.check_idempotency_key(store.order_with_key(db.session, args.idempotency_key),
                                 args.order_id)


def _prepay(db, provider, payment, payer_openid):
    try:
        return provider.bind(db.session).prepay(payment.out_trade_no, payment.amount,
                                                payment.description,
                                                config.payment_notify_url(), payer_openid)
    except ProviderUnavailable as exc:
        log.warning("prepay for order %s failed: %s", payment.order_id, exc)
        raise Unavailable("payment_provider_unavailable",
                          "WeChat Pay is not answering; try again.") from None
    except ProviderRefused as exc:
        log.error("WeChat Pay refused prepay for order %s: %s", payment.order_id, exc)
        raise Conflict("payment_provider_refused",
                       f"WeChat Pay refused the payment ({exc.code}).") from None


def _close_at_provider(db, provider, payment):
    try:
        provider.bind(db.session).close(payment.out_trade_no)
    except ProviderUnavailable:
        raise Unavailable("payment_provider_unavailable",
                          "WeChat Pay is not answering; try again.") from None
    except ProviderRefused as exc:
        if exc.code == NO_SUCH_TRADE:
            return  # the provider never opened it: nothing can be paid
        if exc.code == "ORDERPAID":
            raise Conflict("already_paid", "This order was paid; the payment notice is on "
                                           "its way.") from None
        raise Conflict("payment_provider_refused",
                       f"WeChat Pay refused to close the payment ({exc.code}).") from None
