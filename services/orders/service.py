"""The orders service: entrypoints only, each loading its arguments, calling the work and
answering its view. The work lives in modules named for it: placing.py (the placing saga
across teams and catalog, and its timer's undo of abandoned placements), outcomes.py
(payments arriving, payment windows closing, cancelling, team outcomes, refunds),
fulfilment.py (shipping, receipt, auto-confirm). Input rules are in schemas.py, business
rules in domain.py, queries in store.py, answers and event payloads in views.py.
"""
from contract import events
from plumbing import clock, settings
from plumbing.db import Database
from plumbing.entrypoints import event_handler, rpc, timer
from plumbing.probes import ServiceBase
from plumbing.rpc import RemoteService
from services.orders import domain, fulfilment, outcomes, schemas, store, views
from services.orders.placing import Placing


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
        return Placing(self.db, self.teams, self.catalog, self.accounts).place(args)

    @timer(interval=settings.scheduler_interval())
    def undo_abandoned_placements(self):
        """Orders left `placing` by a crash: release their seat and stock, drop them."""
        Placing(self.db, self.teams, self.catalog).undo_abandoned()

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
        outcomes.payment_arrived(self.db, event.data)

    @timer(interval=settings.scheduler_interval())
    def cancel_unpaid_orders(self):
        """Orders whose payment window passed unpaid are cancelled (their seat and stock
        are released by teams and catalog from `order_cancelled`)."""
        outcomes.cancel_unpaid(self.db)

    # --- cancelling -----------------------------------------------------------------------

    @rpc
    def cancel_order(self, user_id, order_id):
        order = self._own(user_id, order_id, lock=True)
        outcomes.ShopperCancel(self.db, self.teams, self.catalog, self.payments).cancel(order)
        return self._view(order)

    # --- team outcomes and refunds --------------------------------------------------------

    @event_handler(events.TeamSucceeded)
    def on_team_succeeded(self, event):
        outcomes.team_succeeded(self.db, event.data.order_ids)

    @event_handler(events.TeamFailed)
    def on_team_failed(self, event):
        outcomes.team_failed(self.db, event.data.paid_order_ids + event.data.unpaid_order_ids)

    @event_handler(events.TeamCancelled)
    def on_team_cancelled(self, event):
        outcomes.team_cancelled(self.db, event.data.order_ids)

    @event_handler(events.SeatRefused)
    def on_seat_refused(self, event):
        outcomes.seat_refused(self.db, event.data.order_id)

    @event_handler(events.RefundSucceeded)
    def on_refund_succeeded(self, event):
        outcomes.refund_succeeded(self.db, event.data.order_id, event.data.amount)

    # --- fulfilment: shipping and receipt --------------------------------------------------

    @rpc
    def ship_order(self, merchant_id, order_id, carrier, tracking_no):
        """The merchant ships an order waiting for it (to_ship) -> the order, shipped. The
        same carrier and number again is a no-op."""
        args = schemas.load(schemas.ShipArgs, {"merchant_id": merchant_id, "order_id": order_id,
                                               "carrier": carrier, "tracking_no": tracking_no})
        order = fulfilment.ship(self.db, args)
        return views.admin_order(order, store.team_mates(self.db.session, [order])[order.id])

    @rpc
    def confirm_receipt(self, user_id, order_id):
        """The shopper received a shipped order (确认收货) -> the order, completed."""
        order = self._own(user_id, order_id, lock=True)
        fulfilment.confirm_receipt(self.db, order)
        return self._view(order)

    @timer(interval=settings.scheduler_interval())
    def auto_confirm_receipts(self):
        """Shipped orders the shopper never confirmed are completed once the setting's
        time has passed since shipping."""
        fulfilment.auto_confirm(self.db)

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

    def _view(self, order):
        return views.order(order, store.team_mates(self.db.session, [order])[order.id])
