"""The teams service: entrypoints only. Input rules are in schemas.py, business rules in
domain.py, queries and locks in store.py, answers and event payloads in views.py.

Every change to a team or its seats happens with the team's row locked, so a payment,
a cancellation and the deadline job touching one team run one after the other.
"""
import secrets
from collections import defaultdict

from sqlalchemy.exc import IntegrityError

from contract import events
from plumbing import clock, money, settings
from plumbing.clock import aware
from plumbing.db import Database
from plumbing.entrypoints import event_handler, rpc, timer
from plumbing.errors import AppError
from plumbing.probes import ServiceBase
from plumbing.rpc import RemoteService
from services.teams import config, domain, qr, schemas, store, views
from services.teams.models import Campaign, ProductCopy, Seat, Team


class TeamsService(ServiceBase):
    name = "teams"
    db = Database()
    catalog = RemoteService("catalog")  # asked for a product when our copy may lag

    # --- product copy (from catalog) ----------------------------------------------

    @event_handler(events.ProductChanged)
    def on_product_changed(self, event):
        self._keep_copy(event.data)

    def _keep_copy(self, snapshot):
        """A product snapshot (from catalog's event, or asked of catalog) replaces our
        copy if it is newer."""
        session = self.db.session
        # Locked, so two versions handled at once cannot leave the older one in place.
        copy = store.product_copy_or_none(session, snapshot.id, lock=True)
        if copy is None:
            try:
                with session.begin_nested():
                    session.add(_copied(ProductCopy(id=snapshot.id), snapshot))
                return
            except IntegrityError:  # the event and a look at catalog brought it at once
                copy = store.product_copy_or_none(session, snapshot.id, lock=True)
        if domain.should_apply(copy.version, snapshot.version):
            _copied(copy, snapshot)

    @rpc
    def get_product_copy(self, product_id):
        product_id = schemas.load(schemas.ProductArgs, {"product_id": product_id})["product_id"]
        return views.product_copy(store.product_copy(self.db.session, product_id))

    # --- campaigns (merchant) -------------------------------------------------------

    @rpc
    def create_campaign(self, merchant_id, data):
        merchant_id = self._merchant(merchant_id)
        fields = schemas.load(schemas.CampaignIn, data)
        self._refresh_copy(merchant_id, fields["product_id"])
        now = clock.now()
        self._check_campaign(merchant_id, fields, now)
        campaign = Campaign(merchant_id=merchant_id, created_at=now, updated_at=now, **fields)
        self.db.session.add(campaign)
        return self._announce(campaign, now)

    @rpc
    def update_campaign(self, merchant_id, campaign_id, data):
        args = schemas.load(schemas.MerchantCampaignArgs,
                            {"merchant_id": merchant_id, "campaign_id": campaign_id})
        change = schemas.load(schemas.CampaignChange, data)
        campaign = store.owned_campaign(self.db.session, lock=True, **args)
        now = clock.now()
        status = views.campaign_status(campaign, now)
        fields, changed = domain.plan_edit(status, views.campaign_fields(campaign), change)
        if not changed:
            return self._campaign_view(campaign, now)
        if status == domain.NOT_STARTED:
            self._refresh_copy(args["merchant_id"], fields["product_id"])
            self._check_campaign(args["merchant_id"], fields, now, campaign.id)
        for name in changed:
            setattr(campaign, name, fields[name])
        campaign.updated_at = now
        return self._announce(campaign, now)

    @rpc
    def invalidate_campaign(self, merchant_id, campaign_id):
        args = schemas.load(schemas.MerchantCampaignArgs,
                            {"merchant_id": merchant_id, "campaign_id": campaign_id})
        campaign = store.owned_campaign(self.db.session, lock=True, **args)
        now = clock.now()
        if not domain.needs_invalidation(views.campaign_status(campaign, now)):
            return self._campaign_view(campaign, now)
        campaign.invalidated_at = campaign.updated_at = now
        return self._announce(campaign, now)

    @rpc
    def list_campaigns(self, merchant_id, status=None, page=1, page_size=20):
        args = schemas.load(schemas.CampaignListArgs, {
            "merchant_id": merchant_id, "status": status, "page": page, "page_size": page_size})
        now = clock.now()
        rows, total = store.merchant_campaigns(self.db.session, now=now, **args)
        titles = store.product_titles(self.db.session, {row.product_id for row in rows})
        return views.page([views.campaign(row, now, titles.get(row.product_id)) for row in rows],
                          total, args["page"], args["page_size"])

    @rpc
    def get_campaign(self, campaign_id):
        args = schemas.load(schemas.CampaignArgs, {"campaign_id": campaign_id})
        return self._campaign_view(store.campaign(self.db.session, args["campaign_id"]),
                                   clock.now())

    @rpc
    def admin_get_campaign(self, merchant_id, campaign_id):
        """The merchant's own campaign; another merchant's is NotFound."""
        args = schemas.load(schemas.MerchantCampaignArgs,
                            {"merchant_id": merchant_id, "campaign_id": campaign_id})
        return self._campaign_view(store.owned_campaign(self.db.session, **args), clock.now())

    # --- seats (called by orders) -----------------------------------------------------

    @rpc
    def open_team(self, order_id, user_id, campaign_id, sku_id, quantity):
        args = schemas.load(schemas.OpenArgs, {
            "order_id": order_id, "user_id": user_id, "campaign_id": campaign_id,
            "sku_id": sku_id, "quantity": quantity})
        return self._once(args, self._open)

    @rpc
    def join_team(self, order_id, user_id, team_id, sku_id, quantity):
        args = schemas.load(schemas.JoinArgs, {
            "order_id": order_id, "user_id": user_id, "team_id": team_id,
            "sku_id": sku_id, "quantity": quantity})
        return self._once(args, self._join)

    @rpc
    def release_seat(self, order_id):
        """Idempotent; an unknown order is a no-op (its seat may never have been taken)."""
        args = schemas.load(schemas.OrderArgs, {"order_id": order_id})
        return self._release(args["order_id"])

    # --- reads ------------------------------------------------------------------------

    @rpc
    def get_team(self, team_id):
        args = schemas.load(schemas.TeamArgs, {"team_id": team_id})
        return views.team(store.team_with_seats(self.db.session, args["team_id"]), clock.now())

    @rpc
    def team_by_share_token(self, token):
        args = schemas.load(schemas.TokenArgs, {"token": token})
        session = self.db.session
        team = store.team_by_token(session, args["token"])
        return views.share(team, store.campaign(session, team.campaign_id),
                           store.product_copy_or_none(session, team.product_id), clock.now())

    @rpc
    def team_share_qr(self, token, base_url):
        """The QR code of the share link (`base_url` + share path): PNG bytes, base64."""
        args = schemas.load(schemas.QrArgs, {"token": token, "base_url": base_url})
        team = store.team_by_token(self.db.session, args["token"])
        return qr.png_base64(args["base_url"] + views.share_path(team.share_token))

    @rpc
    def product_group_buy(self, product_id):
        """A product page's campaign (None without a live one) and the teams one can
        join, which outlive their campaign until their own deadline."""
        args = schemas.load(schemas.ProductArgs, {"product_id": product_id})
        session, now = self.db.session, clock.now()
        return views.group_buy(store.live_campaign(session, args["product_id"], now),
                               store.joinable_teams(session, args["product_id"], now), now)

    @rpc
    def live_group_prices(self, product_id):
        """The group prices of the product's campaign that has not ended or been
        invalidated (running or still to start) -> [{campaign_id, sku_id, group_price}].
        Catalog asks before it lowers a SKU's price; this never calls catalog back."""
        args = schemas.load(schemas.ProductArgs, {"product_id": product_id})
        campaign = store.live_campaign(self.db.session, args["product_id"], clock.now())
        return views.group_prices(campaign)

    @rpc
    def admin_list_teams(self, merchant_id, campaign_id=None, status=None, page=1,
                         page_size=20):
        """团单列表: the merchant's teams, with their order ids and member counts."""
        args = schemas.load(schemas.TeamListArgs, {
            "merchant_id": merchant_id, "campaign_id": campaign_id, "status": status,
            "page": page, "page_size": page_size})
        if args["campaign_id"] is not None:  # another merchant's campaign is a 404
            store.owned_campaign(self.db.session, args["merchant_id"], args["campaign_id"])
        rows, total = store.merchant_teams(self.db.session, **args)
        now = clock.now()
        return views.page([views.admin_team(row, now) for row in rows], total,
                          args["page"], args["page_size"])

    # --- events from orders -----------------------------------------------------------

    @event_handler(events.OrderPaid)
    def on_order_paid(self, event):
        data, session, now = event.data, self.db.session, clock.now()
        team_id = store.seat_team_id(session, data.order_id)
        if team_id is None:
            if data.team_id is not None:  # a team order without a seat: refund it
                self.db.emit(views.seat_refused(data.order_id, data.team_id, "no_seat"))
            return  # otherwise a normal order, not ours
        team = store.team(session, team_id, lock=True)
        seat = store.seat_by_order(session, data.order_id)
        action, reason = domain.payment_outcome(seat.state, seat.is_leader, team.status,
                                                aware(team.deadline), now)
        if action == domain.REFUSE:
            self._refuse(seat, team, reason, now)
        elif action != domain.IGNORE:
            paid_at = data.paid_at
            if action == domain.OPEN_AND_PAY:
                self._open_for(team, paid_at)
            self._pay(seat, team, paid_at, now)

    @event_handler(events.OrderCancelled)
    def on_order_cancelled(self, event):
        self._release(event.data.order_id)

    # --- deadlines --------------------------------------------------------------------

    @timer(settings.scheduler_interval())
    def fail_overdue_teams(self):
        """Fails open teams past their deadline. Runs in every replica: each takes the
        teams no other holds (SKIP LOCKED) and re-checks them under the lock, so a team
        fails once; one that fell due while the service was down fails at its start."""
        session, now = self.db.session, clock.now()
        teams = store.overdue_teams(session, now)
        seats = store.seats_of(session, [team.id for team in teams])
        quota_returns = defaultdict(int)
        for team in teams:
            if domain.is_overdue(team.status, aware(team.deadline), now):
                self._fail(team, seats[team.id], quota_returns, now)
        store.return_quotas(session, quota_returns)

    # --- helpers (not entrypoints) ----------------------------------------------------

    def _refresh_copy(self, merchant_id, product_id):
        """Our copy of the product, made current by asking catalog: the merchant may have
        published or edited it a moment ago, before its event reached us (read your own
        writes). Another merchant's product stays as missing as one that never existed."""
        self._keep_copy(events.ProductChanged.from_data(
            self.catalog.product_snapshot(merchant_id, product_id)))

    def _merchant(self, merchant_id):
        return schemas.load(schemas.MerchantArgs, {"merchant_id": merchant_id})["merchant_id"]

    def _check_campaign(self, merchant_id, fields, now, campaign_id=None):
        """The product (locked, so two campaigns for it cannot slip in side by side) is the
        merchant's and on sale, the fields fit it, and no other live campaign runs on it."""
        session = self.db.session
        product = store.product_copy(session, fields["product_id"], lock=True)
        domain.check_campaign_product(merchant_id, product.merchant_id, product.status)
        domain.check_campaign(fields, product.skus, now)
        domain.check_no_overlap(store.live_campaign_ids(session, product.id, now, campaign_id))

    def _announce(self, campaign, now):
        self.db.session.flush()
        self.db.emit(views.campaign_changed(campaign))
        return self._campaign_view(campaign, now)

    def _campaign_view(self, campaign, now):
        titles = store.product_titles(self.db.session, {campaign.product_id})
        return views.campaign(campaign, now, titles.get(campaign.product_id))

    def _once(self, args, take_seat):
        """open/join are idempotent by order id: a repeat, even one running at the same
        time as the first, answers what the first did and takes nothing more."""
        session = self.db.session
        seat = store.seat_by_order(session, args["order_id"])
        if seat is None:
            try:
                with session.begin_nested():
                    return take_seat(args)
            except (AppError, IntegrityError) as error:
                seat = store.seat_by_order(session, args["order_id"])  # a twin's, just committed
                if seat is None:
                    if isinstance(error, IntegrityError) and "team_id" in args and \
                            store.holds_seat(session, args["team_id"], args["user_id"]):
                        raise domain.already_in_team() from None  # joined twice at once
                    raise
        team = store.team(session, seat.team_id)
        domain.check_same_seat({"order_id": seat.order_id, "user_id": seat.user_id,
                                "sku_id": seat.sku_id, "quantity": seat.quantity,
                                "campaign_id": team.campaign_id, "team_id": team.id}, args)
        return views.seat(seat, team, store.campaign(session, team.campaign_id).merchant_id)

    def _open(self, args):
        session, now = self.db.session, clock.now()
        campaign = store.campaign(session, args["campaign_id"], lock=True, read=True)
        domain.check_can_open(views.campaign_status(campaign, now))
        price, product, sku = self._priced(campaign, args)
        self._take_quota(campaign, args)
        team = Team(campaign_id=campaign.id, product_id=campaign.product_id,
                    leader_id=args["user_id"], leader_order_id=args["order_id"],
                    team_size=campaign.team_size, validity_seconds=campaign.validity_seconds,
                    status=domain.PENDING, seats_taken=1, paid_count=0,
                    share_token=secrets.token_urlsafe(24), created_at=now)
        session.add(team)
        session.flush()
        hold = domain.hold_until(now, config.payment_window_seconds())
        return self._seat(team, campaign, args, price, product.title, sku["spec"], hold, True,
                          now)

    def _join(self, args):
        session, now = self.db.session, clock.now()
        team = store.team(session, args["team_id"])
        campaign = store.campaign(session, team.campaign_id)
        price, product, sku = self._priced(campaign, args)
        if store.holds_seat(session, team.id, args["user_id"]):
            raise domain.already_in_team()
        self._check_joinable(team, now)
        if not store.take_seat(session, team.id, now):
            self._check_joinable(store.team(session, team.id, lock=True), now)
            raise domain.team_full()  # full a moment ago, a seat freed since: still refused
        team = store.team(session, team.id)  # re-read: our UPDATE changed and locked it
        self._take_quota(campaign, args)
        hold = domain.hold_until(now, config.payment_window_seconds(), aware(team.deadline))
        return self._seat(team, campaign, args, price, product.title, sku["spec"], hold, False,
                          now)

    def _priced(self, campaign, args):
        """The group price, and the title and spec the order shows, from the product copy.
        An order that would come to more than one order may is refused here, before any
        seat (or team) is taken."""
        price = domain.group_price(campaign.skus, args["sku_id"])
        money.order_amount(price, args["quantity"])
        product = store.product_copy(self.db.session, campaign.product_id)
        return price, product, domain.product_sku(product.skus, args["sku_id"])

    def _check_joinable(self, team, now):
        domain.check_joinable(team.status, team.seats_taken, team.team_size,
                              aware(team.deadline), now)

    def _take_quota(self, campaign, args):
        if not store.take_quota(self.db.session, campaign.id, args["user_id"],
                                args["quantity"], campaign.per_user_limit):
            raise domain.limit_reached(campaign.per_user_limit)

    def _seat(self, team, campaign, args, price, title, spec, hold_until, is_leader, now):
        seat = Seat(team_id=team.id, order_id=args["order_id"], user_id=args["user_id"],
                    is_leader=is_leader, sku_id=args["sku_id"], quantity=args["quantity"],
                    unit_price=price, title=title, spec=spec, state=domain.RESERVED,
                    hold_until=hold_until, created_at=now)
        self.db.session.add(seat)
        self.db.session.flush()
        return views.seat(seat, team, campaign.merchant_id)

    def _release(self, order_id):
        session, now = self.db.session, clock.now()
        team_id = store.seat_team_id(session, order_id)
        if team_id is None:
            return views.released(order_id, None)
        team = store.team(session, team_id, lock=True)
        seat = store.seat_by_order(session, order_id)
        outcome = domain.release_outcome(seat.state, seat.is_leader, team.status)
        if outcome != domain.IGNORE:
            self._free(seat, team, domain.RELEASED, now)
        if outcome == domain.RELEASE_AND_CANCEL_TEAM:
            team.status = domain.move_team(team.status, domain.CANCELLED)
            team.closed_at = now
            self.db.emit(views.team_cancelled(team, [seat]))
        return views.released(order_id, seat)

    def _free(self, seat, team, target_state, now):
        """A reserved seat leaves the team: its place and its quantity are given back."""
        seat.state = domain.move_seat(seat.state, target_state)
        seat.released_at = now
        team.seats_taken -= 1
        store.return_quotas(self.db.session, {(team.campaign_id, seat.user_id): seat.quantity})

    def _refuse(self, seat, team, reason, now):
        if seat.state == domain.RESERVED:
            self._free(seat, team, domain.REFUSED, now)
        else:
            seat.state = domain.move_seat(seat.state, domain.REFUSED)
        seat.refused_reason = reason
        self.db.emit(views.seat_refused(seat.order_id, team.id, reason))

    def _open_for(self, team, paid_at):
        """The leader paid: 开团成功, and the team's own clock starts."""
        team.status = domain.move_team(team.status, domain.OPEN)
        team.opened_at = paid_at
        team.deadline = domain.deadline_of(paid_at, team.validity_seconds)
        self.db.emit(views.team_opened(team))

    def _pay(self, seat, team, paid_at, now):
        seat.state = domain.move_seat(seat.state, domain.PAID)
        seat.paid_at = paid_at
        team.paid_count += 1
        self.db.emit(views.seat_paid(seat, team))
        if domain.is_complete(team.paid_count, team.team_size):
            team.status = domain.move_team(team.status, domain.SUCCEEDED)
            team.closed_at = now
            self.db.emit(views.team_succeeded(team, team.seats))

    def _fail(self, team, seats, quota_returns, now):
        """拼团失败: unpaid seats are released, paid ones are refunded by orders; either way
        the shopper's quantity goes back to their limit."""
        team.status = domain.move_team(team.status, domain.FAILED)
        team.closed_at = now
        paid, unpaid = [], []
        for seat in seats:
            if seat.state not in domain.HOLDING_SEAT_STATES:
                continue
            (paid if seat.state == domain.PAID else unpaid).append(seat)
            state, gives_back = domain.on_team_failure(seat.state)
            if state != seat.state:
                seat.state = domain.move_seat(seat.state, state)
                seat.released_at = now
            if gives_back:
                quota_returns[(team.campaign_id, seat.user_id)] += seat.quantity
        team.seats_taken -= len(unpaid)
        self.db.emit(views.team_failed(team, paid, unpaid))


def _copied(copy, snapshot):
    copy.version = snapshot.version
    copy.merchant_id = snapshot.merchant_id
    copy.title = snapshot.title
    copy.cover_image = snapshot.cover_image
    copy.status = snapshot.status
    copy.skus = [{"id": sku.id, "spec": sku.spec, "price": sku.price} for sku in snapshot.skus]
    return copy

