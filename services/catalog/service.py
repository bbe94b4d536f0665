"""The catalog service: entrypoints only. Input rules are in schemas.py, business
rules in domain.py, queries in store.py, answers and event payloads in views.py.

It follows other services through events: teams' campaigns (kept as copies, from
which the group-buy flag is worked out when asked) and orders' ends (an order's
stock reservation is committed when it goes to ship, released when it is cancelled
or refunded).
"""
from datetime import datetime, timezone

from plumbing import clock, settings
from plumbing.db import Database
from plumbing.entrypoints import event_handler, rpc
from plumbing.errors import Forbidden, NotFound
from plumbing.probes import ServiceBase
from services.catalog import demo, domain, schemas, search_index, store, views
from services.catalog.models import Category, Product, ProductCampaign, Sku
from services.catalog.review_entrypoints import ReviewEntrypoints
from services.catalog.search_entrypoints import SearchEntrypoints

PRODUCT_CHANGED = "product_changed"


class CatalogService(SearchEntrypoints, ReviewEntrypoints, ServiceBase):
    name = "catalog"
    db = Database()

    # --- categories ---------------------------------------------------------------

    @rpc
    def create_category(self, data):
        data = schemas.load(schemas.CategoryIn, data)
        if data["parent_id"] is not None:
            domain.check_parent(store.category(self.db.session, data["parent_id"]).parent_id)
        category = Category(**data)
        self.db.session.add(category)
        self.db.session.flush()
        return views.category(category)

    @rpc
    def list_categories(self):
        return domain.category_tree(
            [views.category(row) for row in store.all_categories(self.db.session)])

    # --- merchant -------------------------------------------------------------------

    @rpc
    def create_product(self, merchant_id, data):
        merchant_id = self._merchant(merchant_id)
        data = schemas.load(schemas.ProductIn, data)
        domain.check_skus(data["skus"])
        self._check_category(data["category_id"])
        skus = [Sku(**sku) for sku in data.pop("skus")]
        now = clock.now()
        product = Product(merchant_id=merchant_id, status=domain.DRAFT, version=1,
                          created_at=now, updated_at=now, skus=skus, **data)
        return self._announce(product)

    @rpc
    def update_product(self, merchant_id, product_id, data):
        change = schemas.load(schemas.ProductChange, data)
        product = self._owned(merchant_id, product_id, lock=True)
        if "category_id" in change:
            self._check_category(change["category_id"])
        if "skus" in change:
            self._replace_skus(product, change.pop("skus"))
        for field, value in change.items():
            setattr(product, field, value)
        return self._announce(self._touched(product))

    @rpc
    def publish_product(self, merchant_id, product_id):
        product = self._owned(merchant_id, product_id, lock=True)
        if not domain.publish(product.status, len(product.skus)):
            return self._admin_view(product)
        product.status = domain.PUBLISHED
        product.published_at = clock.now()
        return self._announce(self._touched(product))

    @rpc
    def unpublish_product(self, merchant_id, product_id):
        product = self._owned(merchant_id, product_id, lock=True)
        if not domain.unpublish(product.status):
            return self._admin_view(product)
        product.status = domain.UNPUBLISHED
        return self._announce(self._touched(product))

    @rpc
    def admin_get_product(self, merchant_id, product_id):
        return self._admin_view(self._owned(merchant_id, product_id))

    @rpc
    def admin_list_products(self, merchant_id, status=None, page=1, page_size=20):
        args = schemas.load(schemas.AdminListArgs, {"merchant_id": merchant_id, "status": status,
                                                    "page": page, "page_size": page_size})
        products, total = store.merchant_products(self.db.session, **args)
        group_buy = self._group_buy_ids([p.id for p in products])
        return views.page([views.admin_product(p, p.id in group_buy) for p in products], total,
                          args["page"], args["page_size"])

    # --- shoppers ---------------------------------------------------------------------

    @rpc
    def get_product(self, product_id):
        product_id = schemas.load(schemas.ProductArgs, {"product_id": product_id})["product_id"]
        product = store.published_product(self.db.session, product_id)
        return views.shopper_product(product, product.id in self._group_buy_ids([product.id]))

    # --- stock ----------------------------------------------------------------------

    @rpc
    def reserve_stock(self, reservation_id, items):
        """All or nothing. A reservation id is used once: a retry (even a concurrent one)
        answers what the first call did, in the state it is now, and reserves nothing."""
        args = schemas.load(schemas.ReserveArgs, {"reservation_id": reservation_id,
                                                  "items": items})
        reservation_id, wanted = args["reservation_id"], domain.merge_items(args["items"])
        session = self.db.session
        if store.reservation_rows(session, reservation_id):
            return self._replay(reservation_id, wanted)
        domain.check_sellable(wanted, store.product_statuses(session, list(wanted)))
        if not store.claim_reservation(session, reservation_id, wanted):
            return self._replay(reservation_id, wanted)
        short = [sku_id for sku_id, quantity in wanted.items()
                 if not store.take_stock(session, sku_id, quantity)]
        if short:  # raising rolls back the stock already taken and the claim
            raise domain.out_of_stock(wanted, store.stock_levels(session, short))
        return views.reservation(reservation_id, domain.RESERVED, wanted)

    @rpc
    def commit_reservation(self, reservation_id):
        return self._commit(self._reservation_id(reservation_id))

    @rpc
    def release_reservation(self, reservation_id):
        """Returns the stock once. An unknown id is a no-op: the release may be for an
        order whose reserve never happened."""
        return self._release(self._reservation_id(reservation_id))

    @event_handler("orders", "order_to_ship")
    def on_order_to_ship(self, event):
        """The order's units are sold. A reservation that is missing or was released
        fails the handler, so the event ends in the dead-letter queue for a person."""
        order_id = schemas.load(schemas.OrderEvent, event.data)["order_id"]
        self._commit(domain.order_reservation_id(order_id))

    @event_handler("orders", "order_cancelled")
    def on_order_cancelled(self, event):
        order_id = schemas.load(schemas.OrderEvent, event.data)["order_id"]
        self._release(domain.order_reservation_id(order_id))

    @event_handler("orders", "order_refunded")
    def on_order_refunded(self, event):
        """Refunded before it shipped (team failed, seat refused): its units go back.
        After a cancellation they are back already, and this is a no-op. A committed
        reservation (a shipped order) is not this flow: the handler fails on it, and
        the event waits in the dead-letter queue for a person."""
        order_id = schemas.load(schemas.OrderEvent, event.data)["order_id"]
        self._release(domain.order_reservation_id(order_id))

    # --- campaigns (teams' own; catalog keeps their windows) ----------------------

    @event_handler("teams", "campaign_changed")
    def on_campaign_changed(self, event):
        data = schemas.load(schemas.CampaignChanged, event.data)
        incoming = {"product_id": data["product_id"], "starts_at": data["starts_at"],
                    "ends_at": data["ends_at"], "invalidated": data["invalidated"],
                    "group_prices": data["skus"], "changed_at": _occurred_at(event)}
        row = store.campaign(self.db.session, data["id"])
        copy = domain.campaign_copy(views.campaign(row) if row else None, incoming)
        if row is None:
            self.db.session.add(ProductCampaign(id=data["id"], **copy))
        else:
            for field, value in copy.items():
                setattr(row, field, value)

    # --- demo ---------------------------------------------------------------------

    @rpc
    def seed_demo_catalog(self, merchant_id):
        """Fills an empty demo shop; returns how many products it created."""
        if settings.is_production():
            raise Forbidden("demo_data_forbidden", "Demo data is never created in production.")
        merchant_id = self._merchant(merchant_id)
        if store.merchant_has_products(self.db.session, merchant_id):
            return 0
        category_ids = self._demo_categories()
        now = clock.now()
        for item in demo.PRODUCTS:
            texts = {key: value for key, value in item.items() if key not in ("category", "skus")}
            self._announce(Product(
                merchant_id=merchant_id, category_id=category_ids[item["category"]],
                status=domain.PUBLISHED, version=1, created_at=now,
                updated_at=now, published_at=now, skus=[Sku(**sku) for sku in item["skus"]],
                **texts))
        return len(demo.PRODUCTS)

    # --- helpers (not entrypoints) ------------------------------------------------

    def _merchant(self, merchant_id):
        return schemas.load(schemas.MerchantArgs, {"merchant_id": merchant_id})["merchant_id"]

    def _owned(self, merchant_id, product_id, lock=False):
        args = schemas.load(schemas.MerchantProductArgs,
                            {"merchant_id": merchant_id, "product_id": product_id})
        return store.owned_product(self.db.session, lock=lock, **args)

    def _check_category(self, category_id):
        if category_id is not None:
            store.category(self.db.session, category_id)

    def _replace_skus(self, product, incoming):
        current = store.lock_skus(self.db.session, product.id)
        final, removed = domain.plan_sku_changes([views.sku(row) for row in current], incoming)
        # The SKU rows are locked, so no reservation can slip in between check and delete.
        domain.check_removable(removed, store.reserved_sku_ids(self.db.session, removed))
        by_id = {row.id: row for row in current}
        product.skus = [_apply(by_id.get(entry["id"]) or Sku(), entry) for entry in final]

    def _touched(self, product):
        product.version += 1
        product.updated_at = clock.now()
        return product

    def _announce(self, product):
        """Saves the product and writes its snapshot to the outbox, in one transaction."""
        self.db.session.add(product)
        self.db.session.flush()
        search_index.refresh(self.db.session, product)
        self.db.emit(PRODUCT_CHANGED, views.snapshot(product))
        return self._admin_view(product)

    def _admin_view(self, product):
        return views.admin_product(product, product.id in self._group_buy_ids([product.id]))

    def _group_buy_ids(self, product_ids):
        """Those of the products with a campaign running at this moment."""
        now = clock.now()
        campaigns = store.live_campaigns(self.db.session, product_ids, now)
        return domain.group_buy_product_ids([views.campaign(row) for row in campaigns], now)

    def _reservation_id(self, reservation_id):
        return schemas.load(schemas.ReservationArgs,
                            {"reservation_id": reservation_id})["reservation_id"]

    def _commit(self, reservation_id):
        rows = store.reservation_rows(self.db.session, reservation_id, lock=True)
        if not rows:
            raise NotFound("reservation_not_found", f"There is no reservation {reservation_id}.")
        if domain.commit(rows[0].state):  # a reservation's rows always share one state
            store.set_state(rows, domain.COMMITTED)
        return views.reservation(reservation_id, rows[0].state, _items(rows))

    def _release(self, reservation_id):
        rows = store.reservation_rows(self.db.session, reservation_id, lock=True)
        if not rows:
            return {"released": 0}
        released = 0
        if domain.release(rows[0].state):
            for row in rows:  # ordered by sku id, like every other stock lock
                store.return_stock(self.db.session, row.sku_id, row.quantity)
                released += row.quantity
            store.set_state(rows, domain.RELEASED)
        return {**views.reservation(reservation_id, rows[0].state, _items(rows)),
                "released": released}

    def _replay(self, reservation_id, wanted):
        rows = store.reservation_rows(self.db.session, reservation_id)
        domain.check_same_items(_items(rows), wanted)
        return views.reservation(reservation_id, rows[0].state, _items(rows))

    def _demo_categories(self):
        """{sub-category name: id}, creating the demo categories that are missing."""
        ids = {}
        for top_name, child_name, sort_order in demo.CATEGORIES:
            top = store.ensure_category(self.db.session, top_name, None, sort_order)
            ids[child_name] = store.ensure_category(self.db.session, child_name, top.id,
                                                    sort_order).id
        return ids


def _occurred_at(event):
    """When the producer emitted the event; None when the envelope does not say."""
    if not event.occurred_at:
        return None
    return clock.aware(datetime.fromisoformat(event.occurred_at)).astimezone(timezone.utc)


def _items(rows):
    return {row.sku_id: row.quantity for row in rows}


def _apply(sku, entry):
    sku.spec, sku.price = entry["spec"], entry["price"]
    sku.market_price, sku.stock = entry["market_price"], entry["stock"]
    return sku
