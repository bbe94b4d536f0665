"""The catalog service: entrypoints only, each loading its arguments, calling the work and
answering its view. The work lives in modules named for it: categories.py (the two-level
tree), products.py (a merchant's products: creating, editing, SKUs, publishing, pins, their
announcement and views), uploads.py (uploaded images: taking, reading back, checking
references; the bytes judged by images.py), stock.py (reserve, commit, release, sales
counts, the low-stock notice), campaigns.py (our copy of teams' campaigns), demo.py (the
demo shop); search in the sub-package search/. Input rules are in schemas.py, business
rules in domain.py, queries in store.py, answers and event payloads in views.py.

It follows other services through events: teams' campaigns (kept as copies, from
which the group-buy flag is worked out when asked) and orders' ends (an order's
stock reservation is committed when it goes to ship, released when it is cancelled
or refunded). Committed units are counted as sales; a reservation that takes a SKU
down to its product's low-stock threshold tells the merchant (`stock_low`).
"""
from contract import events
from plumbing.db import Database
from plumbing.entrypoints import event_handler, rpc
from plumbing.probes import ServiceBase
from plumbing.rpc import RemoteService
from services.catalog import campaigns, categories, demo, domain, products, schemas, stock, uploads, views
from services.catalog.search.entrypoints import SearchEntrypoints


class CatalogService(SearchEntrypoints, ServiceBase):
    name = "catalog"
    db = Database()
    teams = RemoteService("teams")  # the group prices a price cut must stay above

    # --- categories ---------------------------------------------------------------

    @rpc
    def create_category(self, data):
        return categories.create(self.db, schemas.load(schemas.CategoryIn, data))

    @rpc
    def update_category(self, category_id, data):
        """Rename, re-order, change the icon, or move it (two levels kept). Its products'
        search entries follow a rename or a move."""
        category_id = schemas.load(schemas.CategoryArgs, {"category_id": category_id}).category_id
        return categories.update(self.db, category_id, schemas.load(schemas.CategoryChange, data))

    @rpc
    def delete_category(self, category_id):
        """Only an empty one: 409 while it has sub-categories or products (any status)."""
        category_id = schemas.load(schemas.CategoryArgs, {"category_id": category_id}).category_id
        return categories.delete(self.db, category_id)

    @rpc
    def list_categories(self):
        return categories.tree(self.db)

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
        return uploads.upload(self.db, args.user_id, args.data_b64)

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
        return uploads.read(self.db, name)

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
        campaigns.keep(self.db, event)

    # --- demo ---------------------------------------------------------------------

    @rpc
    def seed_demo_catalog(self, merchant_id):
        """Fills an empty demo shop; returns how many products it created."""
        demo.refuse_in_production()
        return demo.seed(self.db, self._merchant(merchant_id))

    # --- helpers (not entrypoints) ------------------------------------------------

    def _merchant(self, merchant_id):
        return schemas.load(schemas.MerchantArgs, {"merchant_id": merchant_id}).merchant_id

    def _merchant_product(self, merchant_id, product_id):
        return schemas.load(schemas.MerchantProductArgs,
                            {"merchant_id": merchant_id, "product_id": product_id})

    def _reservation_id(self, reservation_id):
        return schemas.load(schemas.ReservationArgs,
                            {"reservation_id": reservation_id}).reservation_id
