"""The orders service: entrypoints only. Input rules are in schemas.py, business rules
in domain.py, queries in store.py, answers and event payloads in views.py.

Placing a team order spans three services (teams holds a seat, catalog holds stock), so
it is a small saga led from here: the order is first committed as `placing`, then the
seat and the stock are taken; a refusal undoes both and drops the order, and an order
left `placing` by a crash is undone by a timer. While a placement runs, its order row
stays locked, so neither a retry nor the timer can act on it at the same time.

After its team succeeds an order waits for the merchant to ship it; the shopper then
confirms receipt, or a timer does after PINTUAN_AUTO_CONFIRM_SECONDS (自动确认收货), and
`order_completed` lets catalog accept the shopper's review.
"""
import logging
from datetime import datetime, timedelta

from contract import events
from plumbing import clock, settings
from plumbing.db import Database
from plumbing.entrypoints import event_handler, rpc, timer
from plumbing.errors import AppError, Conflict, Unavailable
from plumbing.probes import ServiceBase
from plumbing.rpc import RemoteService
from services.orders import domain, schemas, store, views

log = logging.getLogger(__name__)



def placing_timeout_seconds():
    """How long a `placing` order may stay before the timer undoes it (whole seconds)."""
    return float(settings.env("PINTUAN_PLACING_TIMEOUT_SECONDS",
                              str(domain.DEFAULT_PLACING_TIMEOUT_SECONDS)))


def auto_confirm_seconds():
    """How long after shipping an unconfirmed order completes by itself (自动确认收货)."""
    return float(settings.env("PINTUAN_AUTO_CONFIRM_SECONDS",
                              str(domain.DEFAULT_AUTO_CONFIRM_SECONDS)))


def reservation_id(order_id):
    return f"order-{order_id}"


def parse_time(text):
    return clock.aware(datetime.fromisoformat(text))


class OrdersService(ServiceBase):
    name = "orders"
    db = Database()
    teams = RemoteService("teams")
    catalog = RemoteService("catalog")
    accounts = RemoteService("accounts")
    payments = RemoteService("payments")

    # --- placing a team order -------------------------------------------------------------

    @rpc
    def place_team_order(self, user_id, campaign_id, sku_id, quantity, team_id=None,
                         address_id=None, idempotency_key=None):
        """Open a team (campaign_id) or join one (team_id) -> {team: {id, status}, order}.
        The same idempotency key returns the order it placed first; with another request
        it is Unprocessable `idempotency_key_reused`."""
        args = schemas.load(schemas.PlaceTeamOrderArgs, {
            "user_id": user_id, "campaign_id": campaign_id, "sku_id": sku_id,
            "quantity": quantity, "team_id": team_id, "address_id": address_id,
            "idempotency_key": idempotency_key})
        session = self.db.session
        keyed = args.idempotency_key is not None
        fingerprint = domain.request_fingerprint(args.as_kwargs()) if keyed else None
        if keyed:
            earlier = store.by_idempotency_key(session, args.user_id, args.idempotency_key)
            if earlier is not None:
                domain.check_same_request(earlier.request_fingerprint, fingerprint)
                return self._finish_placing(earlier.id)
        address = domain.choose_address(self.accounts.list_addresses(args.user_id),
                                        args.address_id)
        order = store.insert_placing(session, {
            "user_id": args.user_id, "type": domain.TEAM, "team_id": args.team_id,
            "is_leader": args.team_id is None, "campaign_id": args.campaign_id,
            "sku_id": args.sku_id, "quantity": args.quantity, "address": address,
            "idempotency_key": args.idempotency_key, "request_fingerprint": fingerprint})
        if order is None:  # a concurrent request with the same key inserted first
            twin = self._twin(args)
            domain.check_same_request(twin.request_fingerprint, fingerprint)
            return self._finish_placing(twin.id)
        session.commit()  # from here on a crash leaves a trace that the timer undoes
        return self._finish_placing(order.id)

    def _twin(self, args):
        twin = store.by_idempotency_key(self.db.session, args.user_id, args.idempotency_key)
        if twin is None:
            raise Conflict("order_in_progress",
                           "Another request with this idempotency key was refused; try again.")
        return twin

    def _finish_placing(self, order_id):
        session = self.db.session
        order = store.lock(session, order_id)  # waits while another worker places it
        if order is None:
            raise Conflict("order_expired", "This order could not be placed; place it again.")
        if order.status != domain.PLACING:
            return self._placement(order)
        try:
            seat = self._take_seat(order)
            domain.check_seat(seat, order.campaign_id)
            amount = domain.amount(seat["unit_price"], order.quantity)  # before stock is taken
            domain.check_reservation(self.catalog.reserve_stock(
                reservation_id=reservation_id(order.id),
                items=[{"sku_id": order.sku_id, "quantity": order.quantity}])["state"])
        except Unavailable:
            raise  # the seat or stock may be held or not: the placing timer undoes both
        except AppError as refusal:
            self._undo_placing(order, refusal)
            raise
        self._complete(order, seat, amount)
        return self._placement(order, seat.get("team_status"))

    def _take_seat(self, order):
        if order.is_leader:
            return self.teams.open_team(order_id=order.id, user_id=order.user_id,
                                        campaign_id=order.campaign_id, sku_id=order.sku_id,
                                        quantity=order.quantity)
        return self.teams.join_team(order_id=order.id, user_id=order.user_id,
                                    team_id=order.team_id, sku_id=order.sku_id,
                                    quantity=order.quantity)

    def _undo_placing(self, order, refusal):
        """A refusal: give back what was taken and drop the order, so the shopper sees the
        refusal with nothing left behind. If giving back fails, the timer finishes it."""
        try:
            self._release_seat_and_stock(order)
        except AppError:
            log.warning("order %s refused (%s); its release is left to the placing timer",
                        order.id, refusal.code)
            return
        store.drop(self.db.session, order)
        self.db.session.commit()

    def _release_seat_and_stock(self, order):
        # Both are no-ops for what was never taken, and safe to repeat.
        self.teams.release_seat(order_id=order.id)
        self.catalog.release_reservation(reservation_id=reservation_id(order.id))

    def _complete(self, order, seat, amount):
        order.team_id = seat["team_id"]
        order.campaign_id = seat["campaign_id"]
        order.product_id = seat["product_id"]
        order.merchant_id = seat["merchant_id"]
        order.unit_price = seat["unit_price"]
        order.title = seat["title"]
        order.spec = seat["spec"]
        order.amount = amount
        order.pay_deadline = parse_time(seat["hold_until"])
        store.move(self.db.session, order, domain.placed(order.status))
        self.db.emit(views.order_placed(order))

    @timer(interval=settings.scheduler_interval())
    def undo_abandoned_placements(self):
        """Orders left `placing` by a crash: release their seat and stock, drop them."""
        session, now, timeout = self.db.session, clock.now(), placing_timeout_seconds()
        for order in store.abandoned_placing(session, now, timeout):
            if not domain.placing_abandoned(order.status, clock.aware(order.created_at), now,
                                            timeout):
                continue
            try:
                self._release_seat_and_stock(order)
            except Unavailable as down:
                log.warning("cannot undo placing order %s yet: %s", order.id, down)
                continue
            store.drop(session, order)
            log.info("dropped abandoned placing order %s", order.id)

    # --- paying ---------------------------------------------------------------------------

    @rpc
    def start_payment(self, user_id, order_id):
        """-> {payment_id, prepay_id} for the order's amount (the same on a retry)."""
        # Locked while payments makes the payment: a cancellation waits, and its
        # order_cancelled then finds the payment to close (payments never calls back).
        order = self._own(user_id, order_id, lock=True)
        domain.check_payable(order.status, clock.aware(order.pay_deadline), clock.now())
        payment = self.payments.create_payment(order_id=order.id, user_id=order.user_id,
                                               amount=order.amount, description=order.title)
        return {"payment_id": payment["payment_id"], "prepay_id": payment["prepay_id"]}

    @event_handler(events.PaymentSucceeded)
    def on_payment_succeeded(self, event):
        data = event.data
        order = store.lock(self.db.session, data.order_id)
        outcome = domain.payment_arrived(
            order.type if order else None, order.status if order else None,
            order.amount if order else None, order.payment_id if order else None,
            data.payment_id, data.amount)
        if outcome.to_status is not None:
            self._record_payment(order, data)
        if outcome.keep:
            store.move(self.db.session, order, outcome.to_status)
            self.db.emit(views.order_paid(order))
        elif outcome.refund_reason is not None:
            self._return_payment(order, data, outcome)

    def _record_payment(self, order, data):
        order.payment_id = data.payment_id
        order.paid_at = data.paid_at
        order.transaction_id = data.transaction_id

    def _return_payment(self, order, data, outcome):
        """Money that cannot be kept goes back: a cancelled order waits in refunding for
        it; a live order stays as it is (the stray payment was not its own)."""
        log.warning("payment %s for order %s is refunded: %s", data.payment_id,
                    data.order_id, outcome.refund_reason)
        if outcome.to_status is not None:
            store.move(self.db.session, order, outcome.to_status, outcome.refund_reason)
            order.refund_reason = outcome.refund_reason
        # A stray payment's refund does not finish the live order it landed on.
        self._ask_refund(data.order_id, data.amount, outcome.refund_reason,
                         f"late-{data.payment_id}")

    @timer(interval=settings.scheduler_interval())
    def cancel_unpaid_orders(self):
        """Orders whose payment window passed unpaid are cancelled (their seat and stock
        are released by teams and catalog from `order_cancelled`)."""
        now = clock.now()
        for order in store.unpaid_past_deadline(self.db.session, now):
            if domain.payment_window_closed(order.status, clock.aware(order.pay_deadline), now):
                self._cancel(order, domain.PAYMENT_TIMEOUT)

    # --- cancelling -----------------------------------------------------------------------

    @rpc
    def cancel_order(self, user_id, order_id):
        order = self._own(user_id, order_id, lock=True)
        if domain.shopper_cancel(order.status):
            self._cancel(order, domain.BY_SHOPPER)
            self.db.session.commit()  # cancelled for good before anything is given back
            self._give_back_now(order)
        return self._view(order)

    def _give_back_now(self, order):
        """The seat, the per-shopper quantity and the stock go back, and the WeChat Pay
        order is closed, before the shopper hears the order is cancelled: their next order
        (a new team in the same campaign, the last unit) does not meet them still held, and
        the cancelled order can no longer be paid. `order_cancelled` does the same again (a
        no-op by then), so a service away now only delays it; a payment made at this very
        moment is refused by the close and comes back as a late payment."""
        for give_back in (lambda: self._release_seat_and_stock(order),
                          lambda: self.payments.close_payment(order_id=order.id)):
            try:
                give_back()
            except AppError as refusal:
                log.warning("order %s cancelled; the rest follows from its event (%s)",
                            order.id, refusal.code)

    def _cancel(self, order, reason):
        store.move(self.db.session, order, domain.CANCELLED, reason)
        order.cancel_reason = reason
        self.db.emit(views.order_cancelled(order))

    # --- team outcomes and refunds --------------------------------------------------------

    @event_handler(events.TeamSucceeded)
    def on_team_succeeded(self, event):
        for order in store.lock_many(self.db.session, event.data.order_ids):
            if domain.team_succeeded(order.status):
                store.move(self.db.session, order, domain.TO_SHIP)
                self.db.emit(views.order_to_ship(order))

    @event_handler(events.TeamFailed)
    def on_team_failed(self, event):
        order_ids = event.data.paid_order_ids + event.data.unpaid_order_ids
        for order in store.lock_many(self.db.session, order_ids):
            move = domain.team_failed(order.status)
            if move == domain.REFUNDING:
                self._refund(order, domain.TEAM_FAILED, f"team-failed-{order.id}")
            elif move == domain.CANCELLED:
                self._cancel(order, domain.TEAM_FAILED)

    @event_handler(events.TeamCancelled)
    def on_team_cancelled(self, event):
        for order in store.lock_many(self.db.session, event.data.order_ids):
            if domain.team_cancelled(order.status):
                self._cancel(order, domain.TEAM_CANCELLED)

    @event_handler(events.SeatRefused)
    def on_seat_refused(self, event):
        order = store.lock(self.db.session, event.data.order_id)
        if order is not None and domain.seat_refused(order.status):
            self._refund(order, domain.SEAT_REFUSED, f"seat-refused-{order.id}")

    def _refund(self, order, reason, refund_key):
        """The order's whole amount goes back."""
        store.move(self.db.session, order, domain.REFUNDING, reason)
        order.refund_reason = reason
        self._ask_refund(order.id, order.amount, reason, refund_key)

    def _ask_refund(self, order_id, amount, reason, refund_key):
        """Asks payments for the refund by an event written with the order's move, so the
        refund is asked exactly when the move commits, whether payments is up or not;
        payments refunds once per key, and its refund_succeeded finishes the order."""
        self.db.emit(views.refund_requested(order_id, amount, reason, refund_key))

    @event_handler(events.RefundSucceeded)
    def on_refund_succeeded(self, event):
        order = store.lock(self.db.session, event.data.order_id)
        if order is not None and domain.refund_succeeded(order.status):
            self._refunded(order, event.data.amount)

    def _refunded(self, order, amount):
        store.move(self.db.session, order, domain.REFUNDED)
        self.db.emit(views.order_refunded(order, amount))

    # --- fulfilment: shipping and receipt --------------------------------------------------

    @rpc
    def ship_order(self, merchant_id, order_id, carrier, tracking_no):
        """The merchant ships an order waiting for it (to_ship) -> the order, shipped. The
        same carrier and number again is a no-op."""
        args = schemas.load(schemas.ShipArgs, {"merchant_id": merchant_id, "order_id": order_id,
                                               "carrier": carrier, "tracking_no": tracking_no})
        order = store.shown(self.db.session, args.order_id, merchant_id=args.merchant_id,
                            lock_row=True)
        if domain.ship(order.status, (order.carrier, order.tracking_no), args.carrier,
                       args.tracking_no):
            order.carrier, order.tracking_no = args.carrier, args.tracking_no
            order.shipped_by, order.shipped_at = args.merchant_id, clock.now()
            store.move(self.db.session, order, domain.SHIPPED)
            self.db.emit(views.order_shipped(order))
        return views.admin_order(order, store.team_mates(self.db.session, [order])[order.id])

    @rpc
    def confirm_receipt(self, user_id, order_id):
        """The shopper received a shipped order (确认收货) -> the order, completed."""
        order = self._own(user_id, order_id, lock=True)
        if domain.confirm_receipt(order.status):
            self._mark_completed(order, domain.CONFIRMED_BY_SHOPPER)
        return self._view(order)

    @timer(interval=settings.scheduler_interval())
    def auto_confirm_receipts(self):
        """Shipped orders the shopper never confirmed are completed once the setting's
        time has passed since shipping."""
        now, after = clock.now(), auto_confirm_seconds()
        for order in store.shipped_before(self.db.session, now - timedelta(seconds=after)):
            if domain.auto_confirm_due(order.status, clock.aware(order.shipped_at), now, after):
                self._mark_completed(order, domain.AUTO_CONFIRMED)

    def _mark_completed(self, order, reason):
        order.completed_at = clock.now()
        store.move(self.db.session, order, domain.COMPLETED, reason)
        self.db.emit(views.order_completed(order))

    # --- reading --------------------------------------------------------------------------

    @rpc
    def get_order(self, user_id, order_id):
        return self._view(self._own(user_id, order_id))

    @rpc
    def list_orders(self, user_id, status=None, type=None, page=1, page_size=20):
        """The shopper's orders, normal and team ones in one list, newest first."""
        args = schemas.load(schemas.ListArgs, {"user_id": user_id, "status": status,
                                               "type": type, "page": page,
                                               "page_size": page_size})
        rows, total = store.listing(self.db.session, **args.as_kwargs())
        mates = store.team_mates(self.db.session, rows)
        return views.page([views.order(row, mates[row.id]) for row in rows], total,
                          args.page, args.page_size)

    @rpc
    def admin_list_orders(self, merchant_id, status=None, type=None, team_id=None, page=1,
                          page_size=20):
        """The merchant's own shop's orders, normal and team ones, newest first."""
        args = schemas.load(schemas.AdminListArgs, {"merchant_id": merchant_id,
                                                    "status": status, "type": type,
                                                    "team_id": team_id, "page": page,
                                                    "page_size": page_size})
        rows, total = store.listing(self.db.session, **args.as_kwargs())
        mates = store.team_mates(self.db.session, rows)
        return views.page([views.admin_order(row, mates[row.id]) for row in rows], total,
                          args.page, args.page_size)

    @rpc
    def admin_get_order(self, merchant_id, order_id):
        """One order of the merchant's shop, with the buyer's address; another shop's is
        NotFound."""
        args = schemas.load(schemas.MerchantOrderArgs, {"merchant_id": merchant_id,
                                                        "order_id": order_id})
        order = store.shown(self.db.session, args.order_id, merchant_id=args.merchant_id)
        return views.admin_order(order, store.team_mates(self.db.session, [order])[order.id])

    def _own(self, user_id, order_id, lock=False):
        args = schemas.load(schemas.UserOrderArgs, {"user_id": user_id, "order_id": order_id})
        return store.shown(self.db.session, args.order_id, user_id=args.user_id,
                           lock_row=lock)

    def _placement(self, order, reported_team_status=None):
        return views.placement(order, store.team_mates(self.db.session, [order])[order.id],
                               reported_team_status)

    def _view(self, order):
        return views.order(order, store.team_mates(self.db.session, [order])[order.id])
