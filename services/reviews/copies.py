"""The copies reviews keeps of other services' data: products (from catalog) and
completed orders (from orders), each from its owner's event or from a look at the
owner when the event has not arrived yet; whichever comes second changes nothing."""
from services.reviews import domain, store
from services.reviews.models import ProductCopy


def keep_product(session, fields):
    """`fields` (schemas.ProductChanged) replace our copy if they are newer."""
    copy = store.product_copy(session, fields["id"], lock=True)
    if copy is None:
        if store.insert_once(session, ProductCopy(**fields)):
            return
        # the event and a look at catalog brought it at once: the other one is kept
        copy = store.product_copy(session, fields["id"], lock=True)
    if domain.newer_copy(copy.version, fields["version"]):
        for name, value in fields.items():
            setattr(copy, name, value)


def keep_completed_order(session, fields):
    """`fields` (schemas.OrderCompleted): the order may now be reviewed."""
    store.add_reviewable(session, fields)
