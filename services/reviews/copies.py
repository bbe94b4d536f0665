"""The copies reviews keeps of other services' data: products (from catalog) and
completed orders (from orders), each from its owner's event or from a look at the
owner when the event has not arrived yet; whichever comes second changes nothing."""
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
