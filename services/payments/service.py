"""The payments service: entrypoints only, each loading its arguments, calling the work
and answering its view. The work lives in modules named for it: paying.py (making and
closing payments), notices.py (the provider's notifications into the ledger), refunds.py
(asking, resubmitting, ops' retry). Input rules are in schemas.py, business rules in
domain.py, queries in store.py, answers and event payloads in views.py, the provider
(WeChat Pay sandbox or real) behind providers.py.

Money only moves on the provider's signed notifications: handle_notification
records each once in the ledger and announces `payment_succeeded` /
`refund_succeeded`.
"""
from contract import events
from plumbing import clock, settings
from plumbing.db import Database
from plumbing.entrypoints import event_handler, rpc, timer
from plumbing.errors import Forbidden
from plumbing.probes import ServiceBase
from services.payments import config, notices, paying, refunds, schemas, store, views
from services.payments.providers import PaymentProvider


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
        payment = paying.start(self.db, self.provider, args)
        return views.payment_started(payment, self.provider.client_params(payment.prepay_id))

    @rpc
    def close_payment(self, order_id):
        """Stops an unpaid payment from being paid (the order was cancelled). Closing twice,
        or an order without a payment, is a no-op; a paid one is Conflict `already_paid`."""
        args = schemas.load(schemas.OrderArgs, {"order_id": order_id})
        payment = paying.close(self.db, self.provider, args.order_id)
        return {"order_id": args.order_id, "status": payment.status if payment else None}

    @event_handler(events.OrderCancelled)
    def on_order_cancelled(self, event):
        """A cancelled order (by the shopper, its payment window, its team failing or
        being cancelled) has its payment closed at the provider, so no money arrives for
        it."""
        paying.close_for_cancelled(self.db, self.provider, event.data.order_id)

    @rpc
    def sandbox_pay(self, prepay_id, result):
        """The shopper pays in the sandbox (dev and test only): result "success" or "fail"."""
        if settings.is_production() or not self.provider.is_sandbox:
            raise Forbidden("sandbox_forbidden", "The payment sandbox is not available here.")
        args = schemas.load(schemas.SandboxPayArgs, {"prepay_id": prepay_id, "result": result})
        return self.provider.bind(self.db.session).pay(args.prepay_id, args.result)

    # --- the provider's callbacks --------------------------------------------------------

    @rpc
    def handle_notification(self, kind, headers, body):
        """A notification POSTed to /callbacks/wechatpay/{kind}, forwarded as-is.
        -> {"status", "body"}, for the gateway to answer the provider with."""
        args = schemas.load(schemas.NotificationArgs, {"kind": kind, "headers": headers,
                                                       "body": body})
        return notices.handle(self.db, self.provider, args)

    # --- refunds ---------------------------------------------------------------------

    @rpc
    def refund(self, order_id, amount, reason, refund_key):
        """Asks the provider to return `amount` of the order's payment; the money moves
        when its REFUND.SUCCESS arrives. Idempotent by refund_key."""
        args = schemas.load(schemas.RefundArgs, {"order_id": order_id, "amount": amount,
                                                 "reason": reason, "refund_key": refund_key})
        return views.refund(refunds.ask(self.db, self.provider, args))

    @event_handler(events.RefundRequested)
    def on_refund_requested(self, event):
        """Orders wants an order's money back (its team failed, its seat was refused, a
        payment came late): refunded once per refund_key, however often it is asked."""
        # It carries the refund's order_id, amount, reason and key.
        refunds.ask(self.db, self.provider, event.data)

    @timer(settings.scheduler_interval())
    def resubmit_refunds(self):
        """Refunds the provider did not take (it was down, answered 5xx, or refused for
        now) are sent again."""
        refunds.resubmit_due(self.db, self.provider)

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
        return views.page([views.ops_refund(row, refunds.is_stuck(row, now, policy)) for row in rows],
                          total, args.page, args.page_size)

    @rpc
    def retry_refund(self, refund_id):
        """Ops sends a refund that has not succeeded to the provider again, now, under the
        same out_refund_no (as WeChat wants a failed refund resubmitted). A failed one
        must still fit the order's balance."""
        args = schemas.load(schemas.RefundRef, {"refund_id": refund_id})
        refund = refunds.retry(self.db, self.provider, args.refund_id)
        retried_at = clock.aware(refund.requested_at)  # the retry asks it anew from then
        return views.ops_refund(refund, refunds.is_stuck(refund, retried_at,
                                                         config.refund_stuck_policy()))

    # --- the sandbox provider's own schedule ---------------------------------------------

    @timer(settings.scheduler_interval())
    def run_sandbox(self):
        """The sandbox settles due refunds and delivers due notifications (no-op when real)."""
        if self.provider.is_sandbox:
            self.provider.bind(self.db.session).run_due()
