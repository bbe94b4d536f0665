"""The provider's signed notifications into the ledger. Money only moves on them: each
is verified, recorded once, and announced as `payment_succeeded` / `refund_succeeded`."""
import logging

from plumbing.errors import Conflict
from services.payments import domain, signing, store, views

log = logging.getLogger(__name__)


def handle(db, provider, args):
    """A notification as the provider POSTed it -> {"status", "body"} to answer with."""
    try:
        opened = provider.verify_and_decrypt(args.headers, args.body)
        notice = domain.read_notice(args.kind, opened)
    except signing.Rejected as rejected:
        log.warning("refused a %s notification: %s", args.kind, rejected.reason)
        if rejected.status == 401:
            return views.refused(401, "signature verification failed")
        return views.refused(400, rejected.reason)
    except domain.BadNotice as bad:
        log.warning("refused a %s notification: %s", args.kind, bad)
        return views.refused(400, str(bad))
    if args.kind == domain.PAYMENT_NOTICE:
        return _record_transaction(db, notice)
    return _record_refund_outcome(db, notice)


def _record_transaction(db, notice):
    session = db.session
    payment = store.payment_by_trade(session, notice.out_trade_no, lock=True)
    if payment is None:  # not ours (yet): the provider will send it again
        log.warning("payment notification for unknown out_trade_no %s", notice.out_trade_no)
        return views.refused(400, "unknown out_trade_no")
    reference = domain.payment_reference(notice.transaction_id)
    outcome = domain.transaction_outcome(payment.status, store.movement_exists(session, reference))
    if outcome == domain.DUPLICATE or not store.record_movement(
            session, domain.PAYMENT_KIND, payment.order_id, reference, notice.amount):
        log.info("payment notification %s for order %s already recorded",
                 notice.transaction_id, payment.order_id)
        return views.ACKNOWLEDGED
    if outcome == domain.EXTRA:
        log.error("order %s was paid a second time (transaction %s); the ledger holds it, "
                  "refund it by hand", payment.order_id, notice.transaction_id)
        return views.ACKNOWLEDGED
    if notice.amount != payment.amount or payment.status == domain.CLOSED:
        log.warning("order %s: %s fen arrived for a %s payment of %s fen", payment.order_id,
                    notice.amount, payment.status, payment.amount)
    payment.status = domain.next_payment_status(payment.status, domain.PAID)
    payment.transaction_id, payment.paid_at = notice.transaction_id, notice.paid_at
    db.emit(views.payment_succeeded(payment, notice.amount))
    return views.ACKNOWLEDGED


def _record_refund_outcome(db, notice):
    session = db.session
    refund = store.refund_by_out_no(session, notice.out_refund_no)
    if refund is None:
        log.warning("refund notification for unknown out_refund_no %s", notice.out_refund_no)
        return views.refused(400, "unknown out_refund_no")
    # The payment's lock makes this take turns with the order's refunds (refunds.ask).
    payment = store.payment_by_id(session, refund.payment_id, lock=True)
    refund = store.refund_by_id(session, refund.id, lock=True)
    if notice.event == domain.REFUSED:
        return _refund_refused(refund, notice)
    reference = domain.refund_reference(refund.out_refund_no)
    if store.movement_exists(session, reference) or not store.record_movement(
            session, domain.REFUND_KIND, refund.order_id, reference, notice.amount):
        log.info("refund notification %s already recorded", refund.out_refund_no)
        return views.ACKNOWLEDGED
    if notice.amount != refund.amount:
        log.error("refund %s: asked %s fen, provider returned %s", refund.id, refund.amount,
                  notice.amount)
    refund.status = domain.next_refund_status(refund.status, domain.SETTLED)
    refund.succeeded_at = notice.succeeded_at
    refund.provider_refund_id = notice.provider_refund_id
    db.emit(views.refund_succeeded(refund, notice.amount, payment.user_id))
    return views.ACKNOWLEDGED


def _refund_refused(refund, notice):
    try:
        refund.status = domain.next_refund_status(refund.status, domain.REFUSED)
    except Conflict:
        log.error("refund %s is %s but the provider reports it %s", refund.id, refund.status,
                  notice.detail)
        return views.ACKNOWLEDGED
    refund.last_error = f"provider: {notice.detail}"
    log.error("refund %s of order %s failed at the provider (%s); it needs a person",
              refund.id, refund.order_id, notice.detail)
    return views.ACKNOWLEDGED
