"""The copies reviews keeps of other services' data: products (from catalog) and
completed orders (from orders), each from its owner's event or from a look at the
owner when the event has not arrived yet (`Owners`); whichever comes second changes
nothing."""
from contract import events
from plumbing.errors import NotFound
from services.reviews import domain, store
from services.reviews.models import ProductCopy

PRODUCT_FIELDS = ("id", "version", "merchant_id", "title")
ORDER_FIELDS = ("order_id", "user_id", "product_id", "sku_id", "spec", "title", "quantity",
                "completed_at")


def keep_product(session, product):
    """What reviews needs of a product (a `catalog.product_changed`) replaces our copy
    if it is newer."""
    fields = {name: getattr(product, name) for name in PRODUCT_FIELDS}
    copy = store.product_copy(session, fields["id"], lock=True)
    if copy is None:
        if store.insert_once(session, ProductCopy(**fields)):
            return
        # the event and a look at catalog brought it at once: the other one is kept
        copy = store.product_copy(session, fields["id"], lock=True)
    if domain.newer_copy(copy.version, fields["version"]):
        for name, value in fields.items():
            setattr(copy, name, value)


def keep_completed_order(session, order):
    """An `orders.order_completed`: the order may now be reviewed."""
    store.add_reviewable(session, {name: getattr(order, name) for name in ORDER_FIELDS})


class Owners:
    """A look at the owners when our copies have not heard yet, for one call: catalog
    (pictures uploaded, a product just made) and orders (an order just completed). Never
    asked with a transaction of ours open (SQLite: one writer per database)."""

    def __init__(self, db, catalog, orders):
        self.db, self.catalog, self.orders = db, catalog, orders

    def check_uploads(self, image_urls):
        """Every picture must be one uploaded to catalog (400 per `image_urls.<index>`
        otherwise). Asked before this worker touches its database."""
        if image_urls:
            self.catalog.check_uploads(list(image_urls))

    def keep_if_completed(self, user_id, order_id):
        """The shopper's order as orders has it now, kept if it is completed: a review
        right after 确认收货 must not depend on `order_completed` having arrived."""
        try:
            order = self.orders.get_order(user_id, order_id)
        except NotFound:  # not this shopper's: as unreviewable as one never completed
            return
        if order["completed_at"] is not None:
            # read by the event's declaration: the one rule for a completed order
            keep_completed_order(self.db.session, events.OrderCompleted.from_data({
                **order, "order_id": order["id"], "user_id": user_id}))

    def order(self, user_id, order_id):
        """The shopper's order as orders has it (another's: NotFound)."""
        return self.orders.get_order(user_id, order_id)

    def product_merchant(self, product_id):
        """The product's merchant, from our copy; a product the copy has not heard of
        (made a moment ago) is asked of catalog and kept. 404 when there is none."""
        merchant_id = store.product_merchant(self.db.session, product_id)
        if merchant_id is not None:
            return merchant_id
        self.db.session.rollback()  # never hold our database while we ask another service
        snapshot = self.catalog.find_product_snapshot(product_id)
        if snapshot is None:
            raise NotFound("product_not_found", f"There is no product {product_id}.")
        keep_product(self.db.session, events.ProductChanged.from_data(snapshot))
        return snapshot["merchant_id"]
