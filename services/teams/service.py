"""The teams service: entrypoints only, each loading its arguments, calling the work and
answering its view. The work lives in modules named for it: products.py (our copy of
catalog's products), campaigns.py (a merchant's campaigns, their checks and
announcement), seats.py (taking, releasing, paying and refusing seats; opening a team),
outcomes.py (a team's success, failure past its deadline, cancellation). Input rules are in
schemas.py, business rules in domain.py, queries and locks in store.py, answers and event
payloads in views.py.

Every change to a team or its seats happens with the team's row locked, so a payment,
a cancellation and the deadline job touching one team run one after the other.
"""
from contract import events
from plumbing import clock, settings
from plumbing.db import Database
from plumbing.entrypoints import event_handler, rpc, timer
from plumbing.probes import ServiceBase
from plumbing.rpc import RemoteService
from services.teams import campaigns, outcomes, products, qr, schemas, seats, store, views


class TeamsService(ServiceBase):
    name = "teams"
    db = Database()
    catalog = RemoteService("catalog")  # asked for a product when our copy may lag

    # --- product copy (from catalog) ----------------------------------------------

    @event_handler(events.ProductChanged)
    def on_product_changed(self, event):
        products.keep(self.db, event.data)

    @rpc
    def get_product_copy(self, product_id):
        product_id = schemas.load(schemas.ProductArgs, {"product_id": product_id}).product_id
        return views.product_copy(store.product_copy(self.db.session, product_id))

    # --- campaigns (merchant) -------------------------------------------------------

    @rpc
    def create_campaign(self, merchant_id, data):
        merchant_id = schemas.load(schemas.MerchantArgs, {"merchant_id": merchant_id}).merchant_id
        fields = schemas.load(schemas.CampaignIn, data)
        return campaigns.create(self.db, self._products(), merchant_id, fields)

    @rpc
    def update_campaign(self, merchant_id, campaign_id, data):
        args = schemas.load(schemas.MerchantCampaignArgs,
                            {"merchant_id": merchant_id, "campaign_id": campaign_id})
        change = schemas.load(schemas.CampaignChange, data)
        return campaigns.update(self.db, self._products(), change=change, **args.as_kwargs())

    @rpc
    def invalidate_campaign(self, merchant_id, campaign_id):
        args = schemas.load(schemas.MerchantCampaignArgs,
                            {"merchant_id": merchant_id, "campaign_id": campaign_id})
        return campaigns.invalidate(self.db, **args.as_kwargs())

    @rpc
    def list_campaigns(self, merchant_id, status=None, page=1, page_size=20):
        args = schemas.load(schemas.CampaignListArgs, {
            "merchant_id": merchant_id, "status": status, "page": page, "page_size": page_size})
        now = clock.now()
        rows, total = store.merchant_campaigns(self.db.session, now=now, **args.as_kwargs())
        titles = store.product_titles(self.db.session, {row.product_id for row in rows})
        return views.page([views.campaign(row, now, titles.get(row.product_id)) for row in rows],
                          total, args.page, args.page_size)

    @rpc
    def get_campaign(self, campaign_id):
        args = schemas.load(schemas.CampaignArgs, {"campaign_id": campaign_id})
        return campaigns.view(self.db, store.campaign(self.db.session, args.campaign_id),
                              clock.now())

    @rpc
    def admin_get_campaign(self, merchant_id, campaign_id):
        """The merchant's own campaign; another merchant's is NotFound."""
        args = schemas.load(schemas.MerchantCampaignArgs,
                            {"merchant_id": merchant_id, "campaign_id": campaign_id})
        return campaigns.view(self.db, store.owned_campaign(self.db.session, **args.as_kwargs()),
                              clock.now())

    # --- seats (called by orders) -----------------------------------------------------

    @rpc
    def open_team(self, order_id, user_id, campaign_id, sku_id, quantity):
        args = schemas.load(schemas.OpenArgs, {
            "order_id": order_id, "user_id": user_id, "campaign_id": campaign_id,
            "sku_id": sku_id, "quantity": quantity})
        return seats.open_team(self.db, args)

    @rpc
    def join_team(self, order_id, user_id, team_id, sku_id, quantity):
        args = schemas.load(schemas.JoinArgs, {
            "order_id": order_id, "user_id": user_id, "team_id": team_id,
            "sku_id": sku_id, "quantity": quantity})
        return seats.join_team(self.db, args)

    @rpc
    def release_seat(self, order_id):
        """Idempotent; an unknown order is a no-op (its seat may never have been taken)."""
        args = schemas.load(schemas.OrderArgs, {"order_id": order_id})
        return seats.release(self.db, args.order_id)

    # --- reads ------------------------------------------------------------------------

    @rpc
    def get_team(self, team_id):
        args = schemas.load(schemas.TeamArgs, {"team_id": team_id})
        return views.team(store.team_with_seats(self.db.session, args.team_id), clock.now())

    @rpc
    def team_by_share_token(self, token):
        args = schemas.load(schemas.TokenArgs, {"token": token})
        session = self.db.session
        team = store.team_by_token(session, args.token)
        return views.share(team, store.campaign(session, team.campaign_id),
                           store.product_copy_or_none(session, team.product_id), clock.now())

    @rpc
    def team_share_qr(self, token, base_url):
        """The QR code of the share link (`base_url` + share path): PNG bytes, base64."""
        args = schemas.load(schemas.QrArgs, {"token": token, "base_url": base_url})
        team = store.team_by_token(self.db.session, args.token)
        return qr.png_base64(args.base_url.rstrip("/") + views.share_path(team.share_token))

    @rpc
    def product_group_buy(self, product_id):
        """A product page's campaign (None without a live one) and the teams one can
        join, which outlive their campaign until their own deadline."""
        args = schemas.load(schemas.ProductArgs, {"product_id": product_id})
        session, now = self.db.session, clock.now()
        return views.group_buy(store.live_campaign(session, args.product_id, now),
                               store.joinable_teams(session, args.product_id, now), now)

    @rpc
    def live_group_prices(self, product_id):
        """The group prices of the product's campaign that has not ended or been
        invalidated (running or still to start) -> [{campaign_id, sku_id, group_price}].
        Catalog asks before it lowers a SKU's price; this never calls catalog back."""
        args = schemas.load(schemas.ProductArgs, {"product_id": product_id})
        campaign = store.live_campaign(self.db.session, args.product_id, clock.now())
        return views.group_prices(campaign)

    @rpc
    def admin_list_teams(self, merchant_id, campaign_id=None, status=None, page=1,
                         page_size=20):
        """团单列表: the merchant's teams, with their order ids and member counts."""
        args = schemas.load(schemas.TeamListArgs, {
            "merchant_id": merchant_id, "campaign_id": campaign_id, "status": status,
            "page": page, "page_size": page_size})
        if args.campaign_id is not None:  # another merchant's campaign is a 404
            store.owned_campaign(self.db.session, args.merchant_id, args.campaign_id)
        rows, total = store.merchant_teams(self.db.session, **args.as_kwargs())
        now = clock.now()
        return views.page([views.admin_team(row, now) for row in rows], total,
                          args.page, args.page_size)

    # --- events from orders -----------------------------------------------------------

    @event_handler(events.OrderPaid)
    def on_order_paid(self, event):
        seats.settle_payment(self.db, event.data)

    @event_handler(events.OrderCancelled)
    def on_order_cancelled(self, event):
        seats.release(self.db, event.data.order_id)

    # --- deadlines --------------------------------------------------------------------

    @timer(settings.scheduler_interval())
    def fail_overdue_teams(self):
        """Fails open teams past their deadline. Runs in every replica: each takes the
        teams no other holds (SKIP LOCKED) and re-checks them under the lock, so a team
        fails once; one that fell due while the service was down fails at its start."""
        outcomes.fail_overdue(self.db)

    def _products(self):
        return products.Refresher(self.db, self.catalog)
