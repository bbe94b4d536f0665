"""Teams' copy of catalog's products: kept from catalog's `product_changed` events, and
refreshed by asking catalog where our copy may lag behind the merchant's own edit."""
from sqlalchemy.exc import IntegrityError

from contract import events
from services.teams import domain, store
from services.teams.models import ProductCopy


def keep(db, snapshot):
    """A product snapshot (from catalog's event, or asked of catalog) replaces our
    copy if it is newer."""
    session = db.session
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


class Refresher:
    """Asks catalog for a product (built per call with the service's unit and proxy)."""

    def __init__(self, db, catalog):
        self.db, self.catalog = db, catalog

    def refresh(self, merchant_id, product_id):
        """Our copy of the product, made current by asking catalog: the merchant may have
        published or edited it a moment ago, before its event reached us (read your own
        writes). Another merchant's product stays as missing as one that never existed."""
        keep(self.db, events.ProductChanged.from_data(
            self.catalog.product_snapshot(merchant_id, product_id)))


def _copied(copy, snapshot):
    copy.version = snapshot.version
    copy.merchant_id = snapshot.merchant_id
    copy.title = snapshot.title
    copy.cover_image = snapshot.cover_image
    copy.status = snapshot.status
    copy.skus = [{"id": sku.id, "spec": sku.spec, "price": sku.price} for sku in snapshot.skus]
    return copy
