"""Refunds: asking one (once per refund_key, within the order's balance), handing it to
the provider, resubmitting those the provider did not take, and ops' retry of one that
has not succeeded. The money moves when the provider's REFUND.SUCCESS arrives
(notices.py). `provider` is the service's adapter, bound here to the worker's session."""
import logging

from plumbing import clock
from plumbing.errors import NotFound
from services.payments import config, domain, store
from services.payments.interface import ProviderRefused, ProviderUnavailable

log = logging.getLogger(__name__)

REFUSED_BY_PROVIDER = ("CLOSED", "ABNORMAL")  # refund answers that mean it will not happen


def ask(db, provider, args):
    """`args`: the refund's order_id, amount, reason and refund_key -> the refund."""
    # The payment's lock makes the refunds of one order take turns with each other
    # and with refund notifications, so the balance read here stays true.
    payment = store.existing_payment(db.session, args.order_id, lock=True)
    refund = store.refund_by_key(db.session, args.refund_key) or \
        _new_refund(db, provider, payment, args)
    domain.check_same_refund(refund.order_id, refund.amount, args.order_id, args.amount)
    return refund


def resubmit_due(db, provider):
    session = db.session
    for refund in store.due_refunds(session, clock.now()):
        _submit(db, provider, store.payment_by_id(session, refund.payment_id), refund)


def retry(db, provider, refund_id):
    """Ops sends a refund that has not succeeded again, now, under the same out_refund_no
    -> the refund. A failed one must still fit the order's balance."""
    session = db.session
    found = store.refund_by_id(session, refund_id)
    if found is None:
        raise NotFound("refund_not_found", f"There is no refund {refund_id}.")
    payment = store.payment_by_id(session, found.payment_id, lock=True)  # see ask()
    refund = store.refund_by_id(session, found.id, lock=True)
    status = domain.check_retry(refund.status)
    if refund.status == domain.FAILED:
        domain.check_refund(payment.status, refund.amount,
                            store.order_balance(session, payment.order_id)["balance"],
                            store.pending_refund_total(session, payment.id))
    now = clock.now()
    refund.status, refund.attempts, refund.requested_at, refund.next_attempt_at = (
        status, 0, now, now)
    log.warning("ops retries refund %s of order %s", refund.id, refund.order_id)
    _submit(db, provider, payment, refund)
    return refund


def is_stuck(refund, now, policy):
    return domain.is_stuck(refund.status, refund.attempts, clock.aware(refund.requested_at),
                           now, policy)


def _new_refund(db, provider, payment, args):
    """Checks the balance, records the refund, and hands it to the provider. A twin
    call that took the same key first wins: its refund is returned."""
    session = db.session
    domain.check_refund(payment.status, args.amount,
                        store.order_balance(session, payment.order_id)["balance"],
                        store.pending_refund_total(session, payment.id))
    first_retry = domain.next_attempt_at(clock.now(), 1, config.refund_retry_seconds())
    refund = store.add_refund(session, payment, args, first_retry)
    if refund is None:
        return store.refund_by_key(session, args.refund_key)
    # On record before the provider hears of it: a refund the provider made and we
    # forgot could never be matched to its notification.
    session.commit()
    refund = store.refund_by_id(session, refund.id, lock=True)
    if refund.status == domain.REQUESTED:  # unless resubmit_refunds was quicker
        _submit(db, provider, payment, refund)
    return refund


def _submit(db, provider, payment, refund):
    """One try at handing the refund to the provider. Refused: failed. Unreachable (or
    anything unexpected): tried again by resubmit_refunds after a growing wait."""
    refund.attempts += 1
    try:
        with db.session.begin_nested():  # a sandbox that fails leaves nothing half-written
            answer = provider.bind(db.session).refund(
                payment.out_trade_no, refund.out_refund_no, refund.amount, payment.amount,
                config.refund_notify_url(), refund.reason)
    except ProviderRefused as exc:
        if domain.refusal_is_final(exc.code):
            refund.status = domain.next_refund_status(refund.status, domain.REFUSED)
            refund.last_error = str(exc)[:500]
            log.error("the provider refused refund %s of order %s: %s; it is stuck until "
                      "ops retries it", refund.id, refund.order_id, exc)
            return
        _try_later(refund, exc)  # "not now" (NOT_ENOUGH ...): backoff, like an outage
        return
    except Exception as exc:  # the provider is another system: whatever broke, try later
        _try_later(refund, exc)
        return
    event = domain.REFUSED if answer.get("status") in REFUSED_BY_PROVIDER else domain.ACCEPTED
    refund.status = domain.next_refund_status(refund.status, event)
    refund.provider_refund_id = answer.get("provider_refund_id") or refund.provider_refund_id
    refund.last_error = None


def _try_later(refund, exc):
    refund.last_error = f"{type(exc).__name__}: {exc}"[:500]
    refund.next_attempt_at = domain.next_attempt_at(clock.now(), refund.attempts,
                                                    config.refund_retry_seconds())
    log.warning("refund %s of order %s not taken (attempt %s): %s", refund.id,
                refund.order_id, refund.attempts, refund.last_error,
                exc_info=not isinstance(exc, (ProviderUnavailable, ProviderRefused)))
