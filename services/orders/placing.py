"""Placing a team order: a small saga led from here, since it spans three services (teams
holds a seat, catalog holds stock). The order is first committed as `placing`, then the
seat and the stock are taken; a refusal undoes both and drops the order, and an order left
`placing` by a crash is undone by a timer (`undo_abandoned`). While a placement runs, its
order row stays locked, so neither a retry nor the timer can act on it at the same time.
"""
import logging
from datetime import datetime

from plumbing import clock, settings
from plumbing.errors import AppError, Conflict, Unavailable
from services.orders import domain, store, views

log = logging.getLogger(__name__)


def placing_timeout_seconds():
    """How long a `placing` order may stay before the timer undoes it (whole seconds)."""
    return float(settings.env("PINTUAN_PLACING_TIMEOUT_SECONDS",
                              str(domain.DEFAULT_PLACING_TIMEOUT_SECONDS)))


def reservation_id(order_id):
    return f"order-{order_id}"


def parse_time(text):
    return clock.aware(datetime.fromisoformat(text))


class Placing:
    """The saga's steps, built per call with the service's unit and the proxies it asks."""

    def __init__(self, db, teams, catalog, accounts=None):
        self.db, self.teams, self.catalog, self.accounts = db, teams, catalog, accounts

    def place(self, args):
        """Open a team (campaign_id) or join one (team_id) -> the placement. The same
        idempotency key returns the order it placed first."""
        session = self.db.session
        keyed = args.idempotency_key is not None
        fingerprint = domain.request_fingerprint(args.as_kwargs()) if keyed else None
        if keyed:
            earlier = store.by_idempotency_key(session, args.user_id, args.idempotency_key)
            if earlier is not None:
                domain.check_same_request(earlier.request_fingerprint, fingerprint)
                return self.finish(earlier.id)
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
            return self.finish(twin.id)
        session.commit()  # from here on a crash leaves a trace that the timer undoes
        return self.finish(order.id)

    def finish(self, order_id):
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
            self._undo(order, refusal)
            raise
        self._complete(order, seat, amount)
        return self._placement(order, seat.get("team_status"))

    def release_seat_and_stock(self, order):
        # Both are no-ops for what was never taken, and safe to repeat.
        self.teams.release_seat(order_id=order.id)
        self.catalog.release_reservation(reservation_id=reservation_id(order.id))

    def undo_abandoned(self):
        """Orders left `placing` by a crash: release their seat and stock, drop them."""
        session, now, timeout = self.db.session, clock.now(), placing_timeout_seconds()
        for order in store.abandoned_placing(session, now, timeout):
            if not domain.placing_abandoned(order.status, clock.aware(order.created_at), now,
                                            timeout):
                continue
            try:
                self.release_seat_and_stock(order)
            except Unavailable as down:
                log.warning("cannot undo placing order %s yet: %s", order.id, down)
                continue
            store.drop(session, order)
            log.info("dropped abandoned placing order %s", order.id)

    def _twin(self, args):
        twin = store.by_idempotency_key(self.db.session, args.user_id, args.idempotency_key)
        if twin is None:
            raise Conflict("order_in_progress",
                           "Another request with this idempotency key was refused; try again.")
        return twin

    def _take_seat(self, order):
        if order.is_leader:
            return self.teams.open_team(order_id=order.id, user_id=order.user_id,
                                        campaign_id=order.campaign_id, sku_id=order.sku_id,
                                        quantity=order.quantity)
        return self.teams.join_team(order_id=order.id, user_id=order.user_id,
                                    team_id=order.team_id, sku_id=order.sku_id,
                                    quantity=order.quantity)

    def _undo(self, order, refusal):
        """A refusal: give back what was taken and drop the order, so the shopper sees the
        refusal with nothing left behind. If giving back fails, the timer finishes it."""
        try:
            self.release_seat_and_stock(order)
        except AppError:
            log.warning("order %s refused (%s); its release is left to the placing timer",
                        order.id, refusal.code)
            return
        store.drop(self.db.session, order)
        self.db.session.commit()

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

    def _placement(self, order, reported_team_status=None):
        return views.placement(order, store.team_mates(self.db.session, [order])[order.id],
                               reported_team_status)
