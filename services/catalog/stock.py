"""Stock reservations of orders: reserving (all or nothing, once per reservation id),
committing (the units are sold and counted as sales) and releasing (the units go back),
and the `stock_low` notice when a reservation takes a SKU down to its threshold."""
from plumbing import clock
from plumbing.errors import NotFound
from services.catalog import domain, store, views
from services.catalog.models import Product, Sku
from services.catalog.search import index as search_index


def reserve(db, reservation_id, items):
    """A reservation id is used once: a retry (even a concurrent one) answers what the
    first call did, in the state it is now, and reserves nothing."""
    wanted = domain.merge_items(items)
    session = db.session
    if store.reservation_rows(session, reservation_id):
        return _replay(db, reservation_id, wanted)
    domain.check_sellable(wanted, store.product_statuses(session, list(wanted)))
    if not store.claim_reservation(session, reservation_id, wanted):
        return _replay(db, reservation_id, wanted)
    taken = {sku_id: store.take_stock(session, sku_id, quantity)
             for sku_id, quantity in wanted.items()}
    short = [sku_id for sku_id, row in taken.items() if row is None]
    if short:  # raising rolls back the stock already taken and the claim
        raise domain.out_of_stock(wanted, store.stock_levels(session, short))
    for sku_id, (stock, notified, product_id) in taken.items():
        _tell_if_low(db, product_id, sku_id, stock + wanted[sku_id], stock, notified)
    return views.reservation(reservation_id, domain.RESERVED, wanted)


def commit(db, reservation_id):
    rows = store.reservation_rows(db.session, reservation_id, lock=True)
    if not rows:
        raise NotFound("reservation_not_found", f"There is no reservation {reservation_id}.")
    if domain.commit(rows[0].state):  # a reservation's rows always share one state
        store.set_state(rows, domain.COMMITTED)
        _count_sales(db, _items(rows))
    return views.reservation(reservation_id, rows[0].state, _items(rows))


def release(db, reservation_id):
    rows = store.reservation_rows(db.session, reservation_id, lock=True)
    if not rows:
        return {"released": 0}
    released = 0
    if domain.release(rows[0].state):
        for row in rows:  # ordered by sku id, like every other stock lock
            store.return_stock(db.session, row.sku_id, row.quantity)
            released += row.quantity
        store.set_state(rows, domain.RELEASED)
    return {**views.reservation(reservation_id, rows[0].state, _items(rows)),
            "released": released}


def _replay(db, reservation_id, wanted):
    rows = store.reservation_rows(db.session, reservation_id)
    domain.check_same_items(_items(rows), wanted)
    return views.reservation(reservation_id, rows[0].state, _items(rows))


def _count_sales(db, items):
    """Committed units are sold: counted once, as the commit happens once."""
    units = {}
    for sku_id, product_id in store.sku_products(db.session, list(items)).items():
        units[product_id] = units.get(product_id, 0) + items[sku_id]
    today = clock.now().date()
    for product_id in sorted(units):  # products are locked in id order
        product = store.add_sales(db.session, product_id, units[product_id], today)
        search_index.refresh(db.session, product)


def _tell_if_low(db, product_id, sku_id, stock_before, stock_after, notified):
    """A `stock_low` event, in the reservation's transaction, when this took the SKU
    down to its product's threshold."""
    product = db.session.get(Product, product_id)
    if domain.low_stock_crossed(stock_before, stock_after, product.low_stock_threshold,
                                notified):
        store.mark_low_stock_notified(db.session, sku_id)
        db.emit(views.stock_low(product, db.session.get(Sku, sku_id), stock_after))


def _items(rows):
    return {row.sku_id: row.quantity for row in rows}
