"""The payments service: entrypoints only. Input rules are in schemas.py, business
rules in domain.py, queries in store.py, answers and event payloads in views.py, the
provider (WeChat Pay sandbox or real) behind providers.py.

Money only moves on the provider's signed notifications: handle_notification
records each once in the ledger and announces `payment_succeeded` /
`refund_succeeded`.
"""
import logging

from contract import events
from plumbing import clock, settings
from plumbing.db import Database
from plumbing.entrypoints import event_handler, rpc, timer
from plumbing.errors import Conflict, Forbidden, NotFound, Unavailable
from plumbing.probes import ServiceBase
from services.payments import config, domain, schemas, signing, store, views
from services.payments.interface import ProviderRefused, ProviderUnavailable
from services.payments.providers import PaymentProvider

log = logging.getLogger(__name__)

REFUSED_BY_PROVIDER = ("CLOSED", "ABNORMAL")  # refund answers that mean it will not happen
NO_SUCH_TRADE = "ORDER_NOT_EXIST"  # WeChat's answer to closing a trade it does not know


class PaymentsService(ServiceBase):
    name = "payments"
    db = Database()
    provider = PaymentProvider()

    # --- paying -------------------------------------------------------------------------

    @rpc
    def create_payment(self, order_id, user_id, amount, description, idempotency_key=None,
                       payer_openid=None):
        """-> {payment_id, prepay_id, status, pay_params}. One payment per order: the
        order id is the idempotency key, so calling again returns the same payment."""
        args = schemas.load(schemas.CreatePaymentArgs, {
            "order_id": order_id, "user_id": user_id, "amount": amount,
            "description": description, "idempotency_key": idempotency_key,
            "payer_openid": payer_openid})
        payment = store.payment_for_order(self.db.session, args.order_id) or \
            self._new_payment(args)
        domain.check_same_payment(payment.amount, payment.user_id, args.amount, args.user_id)
        domain.check_not_closed(payment.status)
        return views.payment_started(payment, self.provider.client_params(payment.prepay_id))

    @rpc
    def close_payment(self, order_id):
        """Stops an unpaid payment from being paid (the order was cancelled). Closing twice,
        or an order without a payment, is a no-op; a paid one is Conflict `already_paid`."""
        args = schemas.load(schemas.OrderArgs, {"order_id": order_id})
        payment = self._close(args.order_id)
        return {"order_id": args.order_id, "status": payment.status if payment else None}

    @event_handler(events.OrderCancelled)
    def on_order_cancelled(self, event):
        """A cancelled order (by the shopper, its payment window, its team failing or
        being cancelled) has its payment closed at the provider, so no money arrives for
        it. If the shopper paid at that very moment, the provider refuses the close: the
        payment's notification is on its way, and orders returns a late payment."""
        order_id = event.data.order_id
        try:
            self._close(order_id)
        except Conflict as refused:
            if refused.code != "already_paid":
                raise  # retried, then dead-lettered for a person
            log.info("order %s was cancelled but its payment was already made; it is "
                     "returned once its notice arrives", order_id)

    @rpc
    def sandbox_pay(self, prepay_id, result):
        """The shopper pays in the sandbox (dev and test only): result "success" or "fail"."""
        if settings.is_production() or not self.provider.is_sandbox:
            raise Forbidden("sandbox_forbidden", "The payment sandbox is not available here.")
        args = schemas.load(schemas.SandboxPayArgs, {"prepay_id": prepay_id, "result": result})
        return self._provider.pay(args.prepay_id, args.result)

    # --- the provider's callbacks --------------------------------------------------------

    @rpc
    def handle_notification(self, kind, headers, body):
        """A notification POSTed to /callbacks/wechatpay/{kind}, forwarded as-is.
        -> {"status", "body"}, for the gateway to answer the provider with."""
        args = schemas.load(schemas.NotificationArgs, {"kind": kind, "headers": headers,
                                                       "body": body})
        try:
            opened = self.provider.verify_and_decrypt(args.headers, args.body)
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
            return self._record_transaction(notice)
        return self._record_refund_outcome(notice)

    # --- refunds ---------------------------------------------------------------------

    @rpc
    def refund(self, order_id, amount, reason, refund_key):
        """Asks the provider to return `amount` of the order's payment; the money moves
        when its REFUND.SUCCESS arrives. Idempotent by refund_key."""
        args = schemas.load(schemas.RefundArgs, {"order_id": order_id, "amount": amount,
                                                 "reason": reason, "refund_key": refund_key})
        return views.refund(self._refund(args))

    @event_handler(events.RefundRequested)
    def on_refund_requested(self, event):
        """Orders wants an order's money back (its team failed, its seat was refused, a
        payment came late): refunded once per refund_key, however often it is asked."""
        self._refund(event.data)  # it carries the refund's order_id, amount, reason, key

    def _refund(self, args):
        """`args`: the refund's order_id, amount, reason and refund_key."""
        # The payment's lock makes the refunds of one order take turns with each other
        # and with refund notifications, so the balance read here stays true.
        payment = store.existing_payment(self.db.session, args.order_id, lock=True)
        refund = store.refund_by_key(self.db.session, args.refund_key) or \
            self._new_refund(payment, args)
        domain.check_same_refund(refund.order_id, refund.amount, args.order_id, args.amount)
        return refund

    @timer(settings.scheduler_interval())
    def resubmit_refunds(self):
        """Refunds the provider did not take (it was down, answered 5xx, or refused for
        now) are sent again."""
        session = self.db.session
        for refund in store.due_refunds(session, clock.now()):
            self._submit(store.payment_by_id(session, refund.payment_id), refund)

    # --- reading -----------------------------------------------------------------------

    @rpc
    def get_payment(self, order_id):
        args = schemas.load(schemas.OrderArgs, {"order_id": order_id})
        payment = store.existing_payment(self.db.session, args.order_id)
        return views.payment(payment, store.refunds_of(self.db.session, payment.id),
                             store.order_balance(self.db.session, payment.order_id))

    @rpc
    def order_balance(self, order_id):
        """-> {paid, refunded, balance} from the ledger (zeros for an order never paid)."""
        args = schemas.load(schemas.OrderArgs, {"order_id": order_id})
        return store.order_balance(self.db.session, args.order_id)

    @rpc
    def ledger_check(self):
        """For ops: {movements, balanced, unbalanced_movements, orders_negative,
        refunds_pending, refunds_stuck}."""
        session = self.db.session
        return {**store.ledger_report(session),
                **store.refund_counts(session, clock.now(), config.refund_stuck_policy())}

    # --- refunds, for ops -------------------------------------------------------------

    @rpc
    def list_refunds(self, state=None, page=1, page_size=20):
        """Refunds by state (stuck, pending, failed, succeeded; None: all), the longest
        waiting first, each with `stuck`."""
        args = schemas.load(schemas.RefundListArgs, {"state": state, "page": page,
                                                     "page_size": page_size})
        now, policy = clock.now(), config.refund_stuck_policy()
        rows, total = store.refund_page(self.db.session, args.state, now, policy,
                                        args.page, args.page_size)
        return views.page([views.ops_refund(row, self._stuck(row, now, policy)) for row in rows],
                          total, args.page, args.page_size)

    @rpc
    def retry_refund(self, refund_id):
        """Ops sends a refund that has not succeeded to the provider again, now, under the
        same out_refund_no (as WeChat wants a failed refund resubmitted). A failed one
        must still fit the order's balance."""
        args = schemas.load(schemas.RefundRef, {"refund_id": refund_id})
        session = self.db.session
        found = store.refund_by_id(session, args.refund_id)
        if found is None:
            raise NotFound("refund_not_found", f"There is no refund {args.refund_id}.")
        payment = store.payment_by_id(session, found.payment_id, lock=True)  # see refund()
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
        self._submit(payment, refund)
        return views.ops_refund(refund, self._stuck(refund, now, config.refund_stuck_policy()))

    # --- the sandbox provider's own schedule ---------------------------------------------

    @timer(settings.scheduler_interval())
    def run_sandbox(self):
        """The sandbox settles due refunds and delivers due notifications (no-op when real)."""
        if self.provider.is_sandbox:
            self._provider.run_due()

    # --- helpers (not entrypoints) ------------------------------------------------------

    @property
    def _provider(self):
        """The provider, bound to this worker's session (the sandbox writes its records there)."""
        return self.provider.bind(self.db.session)

    def _new_payment(self, args):
        """Claims the order's payment and asks the provider for a prepay id. A twin call
        that got there first wins: its payment is returned."""
        self._check_key(args)
        payment = store.claim_payment(self.db.session, args)
        if payment is None:
            self._check_key(args)  # the twin may have taken our key for another order
            return store.existing_payment(self.db.session, args.order_id)
        payment.prepay_id = self._prepay(payment, args.payer_openid)
        return payment

    def _check_key(self, args):
        domain.check_idempotency_key(store.order_with_key(self.db.session, args.idempotency_key),
                                     args.order_id)

    def _prepay(self, payment, payer_openid):
        try:
            return self._provider.prepay(payment.out_trade_no, payment.amount, payment.description,
                                        config.payment_notify_url(), payer_openid)
        except ProviderUnavailable as exc:
            log.warning("prepay for order %s failed: %s", payment.order_id, exc)
            raise Unavailable("payment_provider_unavailable",
                              "WeChat Pay is not answering; try again.") from None
        except ProviderRefused as exc:
            log.error("WeChat Pay refused prepay for order %s: %s", payment.order_id, exc)
            raise Conflict("payment_provider_refused",
                           f"WeChat Pay refused the payment ({exc.code}).") from None

    @staticmethod
    def _stuck(refund, now, policy):
        return domain.is_stuck(refund.status, refund.attempts, clock.aware(refund.requested_at),
                               now, policy)

    def _close(self, order_id):
        """Closes the order's payment if it has one -> the payment (None without)."""
        payment = store.payment_for_order(self.db.session, order_id, lock=True)
        if payment is None:
            return None
        status = domain.next_payment_status(payment.status, domain.CLOSE)
        if status != payment.status:
            self._close_at_provider(payment)
            payment.status, payment.closed_at = status, clock.now()
        return payment

    def _close_at_provider(self, payment):
        try:
            self._provider.close(payment.out_trade_no)
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

    def _record_transaction(self, notice):
        session = self.db.session
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
        self.db.emit(views.payment_succeeded(payment, notice.amount))
        return views.ACKNOWLEDGED

    def _record_refund_outcome(self, notice):
        session = self.db.session
        refund = store.refund_by_out_no(session, notice.out_refund_no)
        if refund is None:
            log.warning("refund notification for unknown out_refund_no %s", notice.out_refund_no)
            return views.refused(400, "unknown out_refund_no")
        payment = store.payment_by_id(session, refund.payment_id, lock=True)  # see refund()
        refund = store.refund_by_id(session, refund.id, lock=True)
        if notice.event == domain.REFUSED:
            return self._refund_refused(refund, notice)
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
        self.db.emit(views.refund_succeeded(refund, notice.amount, payment.user_id))
        return views.ACKNOWLEDGED

    def _refund_refused(self, refund, notice):
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

    def _new_refund(self, payment, args):
        """Checks the balance, records the refund, and hands it to the provider. A twin
        call that took the same key first wins: its refund is returned."""
        session = self.db.session
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
            self._submit(payment, refund)
        return refund

    def _submit(self, payment, refund):
        """One try at handing the refund to the provider. Refused: failed. Unreachable (or
        anything unexpected): tried again by resubmit_refunds after a growing wait."""
        refund.attempts += 1
        try:
            with self.db.session.begin_nested():  # a sandbox that fails leaves nothing half-written
                answer = self._provider.refund(payment.out_trade_no, refund.out_refund_no,
                                               refund.amount, payment.amount,
                                               config.refund_notify_url(), refund.reason)
        except ProviderRefused as exc:
            if domain.refusal_is_final(exc.code):
                refund.status = domain.next_refund_status(refund.status, domain.REFUSED)
                refund.last_error = str(exc)[:500]
                log.error("the provider refused refund %s of order %s: %s; it is stuck until "
                          "ops retries it", refund.id, refund.order_id, exc)
                return
            self._try_later(refund, exc)  # "not now" (NOT_ENOUGH ...): backoff, like an outage
            return
        except Exception as exc:  # the provider is another system: whatever broke, try later
            self._try_later(refund, exc)
            return
        event = domain.REFUSED if answer.get("status") in REFUSED_BY_PROVIDER else domain.ACCEPTED
        refund.status = domain.next_refund_status(refund.status, event)
        refund.provider_refund_id = answer.get("provider_refund_id") or refund.provider_refund_id
        refund.last_error = None

    def _try_later(self, refund, exc):
        refund.last_error = f"{type(exc).__name__}: {exc}"[:500]
        refund.next_attempt_at = domain.next_attempt_at(clock.now(), refund.attempts,
                                                        config.refund_retry_seconds())
        log.warning("refund %s of order %s not taken (attempt %s): %s", refund.id,
                    refund.order_id, refund.attempts, refund.last_error,
                    exc_info=not isinstance(exc, (ProviderUnavailable, ProviderRefused)))
