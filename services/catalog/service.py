"""The catalog service: entrypoints only, each loading its arguments, calling the work and
answering its view. Stock reservations (reserve, commit, release, sales counts, the
low-stock notice) are worked in stock.py. Input rules are in schemas.py, business rules in
domain.py, queries in store.py, answers and event payloads in views.py.

It follows other services through events: teams' campaigns (kept as copies, from
which the group-buy flag is worked out when asked) and orders' ends (an order's
stock reservation is committed when it goes to ship, released when it is cancelled
or refunded). Committed units are counted as sales; a reservation that takes a SKU
down to its product's low-stock threshold tells the merchant (`stock_low`).

Uploaded images are checked and named by images.py and kept as files under the
media directory, with a row each in `images`.
"""
import base64
from datetime import datetime, timezone

from contract import events
from plumbing import clock, settings
from plumbing.db import Database
from plumbing.entrypoints import event_handler, rpc
from plumbing.errors import Forbidden, NotFound
from plumbing.probes import ServiceBase
from plumbing.rpc import RemoteService
from plumbing.threads import off_hub
from plumbing.validation import invalid
from services.catalog import demo, domain, images, schemas, stock, store, views
from services.catalog.models import Category, Product, ProductCampaign, Sku
from services.catalog.search import index as search_index
from services.catalog.search.entrypoints import SearchEntrypoints


class CatalogService(SearchEntrypoints, ServiceBase):
    name = "catalog"
    db = Database()
    teams = RemoteService("teams")  # the group prices a price cut must stay above

    # --- categories ---------------------------------------------------------------

    @rpc
    def create_category(self, data):
        data = schemas.load(schemas.CategoryIn, data)
        self._check_images({"icon_url": data["icon_url"]})
        if data["parent_id"] is not None:
            domain.check_parent(store.category(self.db.session, data["parent_id"],
                                               key_share=True).parent_id)
        category = Category(**data)
        self.db.session.add(category)
        self.db.session.flush()
        return views.category(category)

    @rpc
    def update_category(self, category_id, data):
        """Rename, re-order, change the icon, or move it (two levels kept). Its products'
        search entries follow a rename or a move."""
        category_id = schemas.load(schemas.CategoryArgs, {"category_id": category_id}).category_id
        change = schemas.load(schemas.CategoryChange, data)
        self._check_images({"icon_url": change.get("icon_url")})
        session = self.db.session
        category = store.category_for_update(session, category_id)
        if "parent_id" in change:
            parent_id = change["parent_id"]
            parent = store.category(session, parent_id, key_share=True) \
                if parent_id is not None else None
            domain.check_move(category.id, parent_id, parent.parent_id if parent else None,
                              store.category_usage(session, category.id)[0] > 0)
        moved_or_renamed = any(field in change and change[field] != getattr(category, field)
                               for field in ("name", "parent_id"))
        for field, value in change.items():
            setattr(category, field, value)
        session.flush()
        if moved_or_renamed:
            search_index.refresh_category(session, category.id)
        return views.category(category)

    @rpc
    def delete_category(self, category_id):
        """Only an empty one: 409 while it has sub-categories or products (any status)."""
        category_id = schemas.load(schemas.CategoryArgs, {"category_id": category_id}).category_id
        category = store.category_for_update(self.db.session, category_id)
        domain.check_deletable(*store.category_usage(self.db.session, category.id))
        self.db.session.delete(category)
        return {"deleted": category_id}

    @rpc
    def list_categories(self):
        return domain.category_tree(
            [views.category(row) for row in store.all_categories(self.db.session)])

    # --- merchant -------------------------------------------------------------------

    @rpc
    def create_product(self, merchant_id, data):
        merchant_id = self._merchant(merchant_id)
        data = schemas.load(schemas.ProductIn, data)
        domain.check_spec_groups(data["spec_groups"])
        skus = domain.check_skus(data.pop("skus"), data["spec_groups"])
        self._check_product_images(data, skus)
        self._check_category(data["category_id"])
        now = clock.now()
        product = Product(merchant_id=merchant_id, status=domain.DRAFT, version=1,
                          created_at=now, updated_at=now, sales_count=0,
                          skus=[_apply(Sku(), sku) for sku in skus], **data)
        return self._announce(product)

    @rpc
    def update_product(self, merchant_id, product_id, data):
        """Any subset of the fields. Spec groups and SKUs are checked together, as the
        product will be; SKUs holding stock of open orders cannot be removed; a lowered
        price must stay above the group price of a campaign running or to start
        (409 `price_below_group_price`)."""
        change = schemas.load(schemas.ProductChange, data)
        group_prices = self._group_prices_if_lowered(merchant_id, product_id, change)
        product = self._owned(merchant_id, product_id, lock=True)
        if "spec_groups" in change:
            domain.check_spec_groups(change["spec_groups"])
        self._check_product_images(change, change.get("skus", []))
        if "category_id" in change:
            self._check_category(change["category_id"])
        skus = change.pop("skus", None)
        if skus is not None or "spec_groups" in change:
            self._replace_skus(product, skus, change.get("spec_groups", product.spec_groups),
                               group_prices)
        for field, value in change.items():
            setattr(product, field, value)
        for row in product.skus:  # a restock (or a lower threshold) re-arms the notice
            row.low_stock_notified = domain.still_told_of_low_stock(
                row.low_stock_notified, row.stock, product.low_stock_threshold)
        return self._announce(self._touched(product))

    @rpc
    def pin_product(self, merchant_id, product_id, data):
        """Recommended (推荐) on the home page, lower ranks first; pinning again moves it."""
        rank = schemas.load(schemas.PinArgs, data).rank
        product = self._owned(merchant_id, product_id, lock=True)
        if product.pinned_rank == rank:
            return self._admin_view(product)
        product.pinned_rank = rank
        return self._announce(self._touched(product))

    @rpc
    def unpin_product(self, merchant_id, product_id):
        product = self._owned(merchant_id, product_id, lock=True)
        if product.pinned_rank is None:
            return self._admin_view(product)
        product.pinned_rank = None
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
    def admin_list_products(self, merchant_id, status=None, page=1, page_size=20,
                            category_id=None, low_stock=None, q=None):
        args = schemas.load(schemas.AdminListArgs, {
            "merchant_id": merchant_id, "status": status, "page": page, "page_size": page_size,
            "category_id": category_id, "low_stock": low_stock, "q": q})
        filters = args.as_kwargs()
        category_id = filters.pop("category_id")
        if category_id is not None:  # choosing 水果's parent shows 水果 too, as for shoppers
            filters["category_ids"] = store.category_with_children(self.db.session, category_id)
        products, total = store.merchant_products(self.db.session, **filters)
        ids = [product.id for product in products]
        group_buy, sales_7d = self._group_buy_ids(ids), self._sales_7d(ids)
        return views.page([views.admin_product(p, p.id in group_buy, sales_7d.get(p.id, 0))
                           for p in products], total, args.page, args.page_size)

    @rpc
    def product_snapshot(self, merchant_id, product_id):
        """The merchant's product as `product_changed` carries it, now: for a service
        whose copy may not have heard of a change the merchant made a moment ago."""
        return views.snapshot(self._owned(merchant_id, product_id)).to_data()

    @rpc
    def find_product_snapshot(self, product_id):
        """Any product (any merchant, any status) as `product_changed` carries it, or None:
        for a service whose copy has not heard of one made a moment ago (reviews)."""
        product_id = schemas.load(schemas.ProductArgs, {"product_id": product_id}).product_id
        product = self.db.session.get(Product, product_id)
        return None if product is None else views.snapshot(product).to_data()

    # --- shoppers ---------------------------------------------------------------------

    @rpc
    def get_product(self, product_id):
        product_id = schemas.load(schemas.ProductArgs, {"product_id": product_id}).product_id
        product = store.published_product(self.db.session, product_id)
        return views.shopper_product(product, product.id in self._group_buy_ids([product.id]),
                                     self._sales_7d([product.id]).get(product.id, 0))

    # --- images -----------------------------------------------------------------------

    @rpc
    def upload_image(self, user_id, data_b64):
        """Checks the bytes (size, real type, pixels), keeps them under a name made of
        their hash, and answers {id, url, content_type, size, width, height}. The same
        picture twice is one image. A refused upload leaves no file and no row."""
        args = schemas.load(schemas.UploadArgs, {"user_id": user_id, "data_b64": data_b64})
        data = images.decode_upload(args.data_b64, settings.max_image_bytes())
        found = off_hub(images.inspect, data)  # decoding takes a while: not on the hub
        name = images.media_name(data, found.extension)
        # The file first: a row must never point at a missing file; a file left by a
        # transaction that then failed is harmless, and reused by the next upload of it.
        images.MediaStore(settings.media_dir()).save(name, data)
        row = store.image(self.db.session, name) or store.add_image(
            self.db.session, name=name, content_type=found.content_type, size=len(data),
            width=found.width, height=found.height, uploaded_by=args.user_id,
            created_at=clock.now())
        return views.image(row)

    @rpc
    def check_uploads(self, image_urls):
        """400 (per `image_urls.<index>`) unless every path names an image uploaded here:
        for the pictures shoppers attach to reviews and feedback."""
        urls = schemas.load(schemas.UploadRefsArgs, {"image_urls": image_urls}).image_urls
        self._check_images({f"image_urls.{index}": url for index, url in enumerate(urls)})
        return {"checked": len(urls)}

    @rpc
    def read_image(self, name):
        """{name, content_type, data_b64} of an uploaded image; 404 for any other name."""
        row = store.image(self.db.session, name) if images.is_media_name(name) else None
        data = images.MediaStore(settings.media_dir()).read(name) if row else None
        if data is None:
            raise NotFound("image_not_found", "There is no such image.")
        return {"name": name, "content_type": row.content_type,
                "data_b64": base64.b64encode(data).decode("ascii")}

    # --- stock ----------------------------------------------------------------------

    @rpc
    def reserve_stock(self, reservation_id, items):
        """All or nothing. A reservation id is used once: a retry (even a concurrent one)
        answers what the first call did, in the state it is now, and reserves nothing."""
        args = schemas.load(schemas.ReserveArgs, {"reservation_id": reservation_id,
                                                  "items": items})
        return stock.reserve(self.db, args.reservation_id, args.items)

    @rpc
    def commit_reservation(self, reservation_id):
        return stock.commit(self.db, self._reservation_id(reservation_id))

    @rpc
    def release_reservation(self, reservation_id):
        """Returns the stock once. An unknown id is a no-op: the release may be for an
        order whose reserve never happened."""
        return stock.release(self.db, self._reservation_id(reservation_id))

    @event_handler(events.OrderToShip)
    def on_order_to_ship(self, event):
        """The order's units are sold. A reservation that is missing or was released
        fails the handler, so the event ends in the dead-letter queue for a person."""
        stock.commit(self.db, domain.order_reservation_id(event.data.order_id))

    @event_handler(events.OrderCancelled)
    def on_order_cancelled(self, event):
        stock.release(self.db, domain.order_reservation_id(event.data.order_id))

    @event_handler(events.OrderRefunded)
    def on_order_refunded(self, event):
        """Refunded before it shipped (team failed, seat refused): its units go back.
        After a cancellation they are back already, and this is a no-op. A committed
        reservation (a shipped order) is not this flow: the handler fails on it, and
        the event waits in the dead-letter queue for a person."""
        stock.release(self.db, domain.order_reservation_id(event.data.order_id))

    # --- campaigns (teams' own; catalog keeps their windows) ----------------------

    @event_handler(events.CampaignChanged)
    def on_campaign_changed(self, event):
        data = event.data
        incoming = {"product_id": data.product_id, "starts_at": data.starts_at,
                    "ends_at": data.ends_at, "invalidated": data.invalidated,
                    "group_prices": [price.model_dump() for price in data.skus],
                    "changed_at": _occurred_at(event)}
        row = store.campaign(self.db.session, data.id)
        copy = domain.campaign_copy(views.campaign(row) if row else None, incoming)
        if row is None:
            self.db.session.add(ProductCampaign(id=data.id, **copy))
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
            fields = {key: value for key, value in item.items() if key not in ("category", "skus")}
            skus = domain.check_skus(item["skus"], item.get("spec_groups", []))
            self._announce(Product(
                merchant_id=merchant_id, category_id=category_ids[item["category"]],
                status=domain.PUBLISHED, version=1, created_at=now, updated_at=now,
                published_at=now, sales_count=0, skus=[_apply(Sku(), sku) for sku in skus],
                **fields))
        return len(demo.PRODUCTS)

    # --- helpers (not entrypoints) ------------------------------------------------

    def _merchant(self, merchant_id):
        return schemas.load(schemas.MerchantArgs, {"merchant_id": merchant_id}).merchant_id

    def _owned(self, merchant_id, product_id, lock=False):
        args = schemas.load(schemas.MerchantProductArgs,
                            {"merchant_id": merchant_id, "product_id": product_id})
        return store.owned_product(self.db.session, lock=lock, **args.as_kwargs())

    def _check_category(self, category_id):
        if category_id is not None:
            store.category(self.db.session, category_id, key_share=True)

    def _check_product_images(self, data, skus):
        refs = {f"image_urls.{index}": url for index, url in enumerate(data.get("image_urls", []))}
        refs.update({f"skus.{index}.image_url": sku.get("image_url")
                     for index, sku in enumerate(skus)})
        self._check_images(refs)

    def _check_images(self, refs):
        """`/media/<name>` references must name an image uploaded here (URLs elsewhere
        are the merchant's to keep alive). `refs`: {field path: url or None}."""
        names = {path: url.removeprefix(images.URL_PREFIX) for path, url in refs.items()
                 if url and url.startswith(images.URL_PREFIX)}
        known = store.known_images(self.db.session, set(names.values()))
        unknown = {path: ["No image was uploaded under this name."]
                   for path, name in names.items() if name not in known}
        if unknown:
            raise invalid(unknown)

    def _group_prices_if_lowered(self, merchant_id, product_id, change):
        """Teams' group prices of the product when the edit lowers a SKU's price, else [].
        Teams owns them (catalog's copy of campaigns can lag one just created), and is
        asked with no transaction of ours open: on SQLite a worker waiting on another
        service must not hold catalog's write lock."""
        if "skus" not in change:
            return []
        product_id = self._owned(merchant_id, product_id).id
        lowered = domain.lowers_a_price(store.sku_prices(self.db.session, product_id),
                                        change["skus"])
        self.db.session.rollback()  # the read is over before teams is asked
        return self.teams.live_group_prices(product_id) if lowered else []

    def _replace_skus(self, product, incoming, spec_groups, group_prices=()):
        """`incoming` None: the SKUs stay as they are, checked against new spec groups."""
        current = store.lock_skus(self.db.session, product.id)
        if incoming is None:
            incoming = [{"id": row.id} for row in current]
        final, removed = domain.plan_sku_changes([views.sku(row) for row in current], incoming,
                                                 spec_groups)
        domain.check_above_group_prices(final, group_prices)
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
        self.db.emit(views.snapshot(product))
        return self._admin_view(product)

    def _admin_view(self, product):
        return views.admin_product(product, product.id in self._group_buy_ids([product.id]),
                                   self._sales_7d([product.id]).get(product.id, 0))

    def _sales_7d(self, product_ids):
        first_day = domain.sales_window_start(clock.now().date())
        return store.sales_since(self.db.session, product_ids, first_day)

    def _group_buy_ids(self, product_ids):
        """Those of the products with a campaign running at this moment."""
        now = clock.now()
        campaigns = store.live_campaigns(self.db.session, product_ids, now)
        return domain.group_buy_product_ids([views.campaign(row) for row in campaigns], now)

    def _reservation_id(self, reservation_id):
        return schemas.load(schemas.ReservationArgs,
                            {"reservation_id": reservation_id}).reservation_id

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


SKU_FIELDS = ("spec", "spec_values", "price", "market_price", "stock", "code", "image_url")


def _apply(sku, entry):
    for field in SKU_FIELDS:
        setattr(sku, field, entry.get(field))
    return sku
