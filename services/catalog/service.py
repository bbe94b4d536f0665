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
from services.catalog import demo, domain, images, products, schemas, stock, store, uploads, views
from services.catalog.models import Category, Product, ProductCampaign
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
        uploads.check(self.db, {"icon_url": data["icon_url"]})
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
        uploads.check(self.db, {"icon_url": change.get("icon_url")})
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
        return products.create(self.db, merchant_id, schemas.load(schemas.ProductIn, data))

    @rpc
    def update_product(self, merchant_id, product_id, data):
        """Any subset of the fields; a lowered price must stay above the group price of a
        campaign running or to start (409 `price_below_group_price`)."""
        change = schemas.load(schemas.ProductChange, data)
        args = self._merchant_product(merchant_id, product_id)
        return products.Editor(self.db, self.teams).update(change=change, **args.as_kwargs())

    @rpc
    def pin_product(self, merchant_id, product_id, data):
        """Recommended (推荐) on the home page, lower ranks first; pinning again moves it."""
        rank = schemas.load(schemas.PinArgs, data).rank
        args = self._merchant_product(merchant_id, product_id)
        return products.pin(self.db, rank=rank, **args.as_kwargs())

    @rpc
    def unpin_product(self, merchant_id, product_id):
        args = self._merchant_product(merchant_id, product_id)
        return products.unpin(self.db, **args.as_kwargs())

    @rpc
    def publish_product(self, merchant_id, product_id):
        args = self._merchant_product(merchant_id, product_id)
        return products.publish(self.db, **args.as_kwargs())

    @rpc
    def unpublish_product(self, merchant_id, product_id):
        args = self._merchant_product(merchant_id, product_id)
        return products.unpublish(self.db, **args.as_kwargs())

    @rpc
    def admin_get_product(self, merchant_id, product_id):
        args = self._merchant_product(merchant_id, product_id)
        return products.admin_view(self.db, products.owned(self.db, **args.as_kwargs()))

    @rpc
    def admin_list_products(self, merchant_id, status=None, page=1, page_size=20,
                            category_id=None, low_stock=None, q=None):
        args = schemas.load(schemas.AdminListArgs, {
            "merchant_id": merchant_id, "status": status, "page": page, "page_size": page_size,
            "category_id": category_id, "low_stock": low_stock, "q": q})
        return products.admin_page(self.db, args)

    @rpc
    def product_snapshot(self, merchant_id, product_id):
        """The merchant's product as `product_changed` carries it, now: for a service
        whose copy may not have heard of a change the merchant made a moment ago."""
        args = self._merchant_product(merchant_id, product_id)
        return views.snapshot(products.owned(self.db, **args.as_kwargs())).to_data()

    @rpc
    def find_product_snapshot(self, product_id):
        """Any product (any merchant, any status) as `product_changed` carries it, or None:
        for a service whose copy has not heard of one made a moment ago (reviews)."""
        product_id = schemas.load(schemas.ProductArgs, {"product_id": product_id}).product_id
        return products.snapshot_or_none(self.db, product_id)

    # --- shoppers ---------------------------------------------------------------------

    @rpc
    def get_product(self, product_id):
        product_id = schemas.load(schemas.ProductArgs, {"product_id": product_id}).product_id
        return products.shopper_view(self.db, product_id)

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
        uploads.check(self.db, {f"image_urls.{index}": url for index, url in enumerate(urls)})
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
            products.announce(self.db, Product(
                merchant_id=merchant_id, category_id=category_ids[item["category"]],
                status=domain.PUBLISHED, version=1, created_at=now, updated_at=now,
                published_at=now, sales_count=0, skus=products.new_skus(skus),
                **fields))
        return len(demo.PRODUCTS)

    # --- helpers (not entrypoints) ------------------------------------------------

    def _merchant(self, merchant_id):
        return schemas.load(schemas.MerchantArgs, {"merchant_id": merchant_id}).merchant_id

    def _merchant_product(self, merchant_id, product_id):
        return schemas.load(schemas.MerchantProductArgs,
                            {"merchant_id": merchant_id, "product_id": product_id})

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
