"""Queries of the catalog service: every read and write of its tables, no rules.

Row locks are always taken in this order, so concurrent workers never deadlock:
a product, then its SKUs by ascending id. Reservations take SKU rows by ascending
id too (the guarded UPDATE locks the row it changes).
"""
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from plumbing import clock
from plumbing.errors import NotFound
from services.catalog import domain
from services.catalog.models import Category, Product, ProductCampaign, Sku, StockReservation

skus_table = Sku.__table__


# --- categories ----------------------------------------------------------------

def category(session, category_id):
    found = session.get(Category, category_id)
    if found is None:
        raise NotFound("category_not_found", f"There is no category {category_id}.")
    return found


def all_categories(session):
    return session.scalars(sa.select(Category)).all()


def ensure_category(session, name, parent_id, sort_order):
    """The category of that name under that parent, created if missing."""
    found = session.scalars(sa.select(Category).where(
        Category.name == name, Category.parent_id.is_(None) if parent_id is None
        else Category.parent_id == parent_id)).first()
    if found is None:
        found = Category(name=name, parent_id=parent_id, sort_order=sort_order)
        session.add(found)
        session.flush()
    return found


def category_with_children(session, category_id):
    """A category's id and its sub-categories' ids: choosing 水果's parent shows 水果 too."""
    children = session.scalars(sa.select(Category.id).where(Category.parent_id == category_id))
    return [category_id, *children]


# --- products ------------------------------------------------------------------

def owned_product(session, merchant_id, product_id, lock=False):
    """The merchant's product; another merchant's is as missing as a deleted one."""
    query = sa.select(Product).where(Product.id == product_id, Product.merchant_id == merchant_id)
    product = session.scalars(query.with_for_update() if lock else query).first()
    if product is None:
        raise NotFound("product_not_found", f"There is no product {product_id}.")
    return product


def published_product(session, product_id):
    product = session.scalars(sa.select(Product).options(selectinload(Product.skus)).where(
        Product.id == product_id, Product.status == domain.PUBLISHED)).first()
    if product is None:
        raise NotFound("product_not_found", f"There is no product {product_id}.")
    return product


def merchant_has_products(session, merchant_id):
    return session.scalar(sa.select(sa.exists().where(Product.merchant_id == merchant_id)))


def merchant_products(session, merchant_id, status, page, page_size):
    """-> (products with their SKUs, total), most recently changed first."""
    query = sa.select(Product).where(Product.merchant_id == merchant_id)
    if status is not None:
        query = query.where(Product.status == status)
    total = _count(session, query)
    products = session.scalars(query.options(selectinload(Product.skus))
                               .order_by(Product.updated_at.desc(), Product.id.desc())
                               .limit(page_size).offset((page - 1) * page_size)).all()
    return products, total


def _count(session, query):
    return session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


# --- shopper listing -----------------------------------------------------------

def _cheapest_skus():
    """Per product, the price and market price of its cheapest SKU."""
    rank = sa.func.row_number().over(partition_by=Sku.product_id, order_by=(Sku.price, Sku.id))
    ranked = sa.select(Sku.product_id, Sku.price, Sku.market_price,
                       rank.label("rank")).subquery("ranked")
    return sa.select(ranked.c.product_id, ranked.c.price, ranked.c.market_price) \
        .where(ranked.c.rank == 1).subquery("cheapest")


def _escape_like(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def published_listing(session, filters, sort_keys, page, page_size):
    """-> ([(product, price, market_price)], total) for published products."""
    cheapest = _cheapest_skus()
    query = (sa.select(Product, cheapest.c.price, cheapest.c.market_price)
             .join(cheapest, cheapest.c.product_id == Product.id)
             .where(Product.status == domain.PUBLISHED))
    if filters["q"]:
        pattern = f"%{_escape_like(filters['q'])}%"
        query = query.where(sa.or_(Product.title.ilike(pattern, escape="\\"),
                                   Product.subtitle.ilike(pattern, escape="\\")))
    if filters["category_ids"] is not None:
        query = query.where(Product.category_id.in_(filters["category_ids"]))
    if filters["min_price"] is not None:
        query = query.where(cheapest.c.price >= filters["min_price"])
    if filters["max_price"] is not None:
        query = query.where(cheapest.c.price <= filters["max_price"])
    total = _count(session, query)
    rows = session.execute(query.order_by(*_order_by(sort_keys, cheapest))
                           .limit(page_size).offset((page - 1) * page_size)).all()
    return rows, total


def _order_by(sort_keys, cheapest):
    columns = {
        "published_at": Product.published_at,
        "id": Product.id,
        "price": cheapest.c.price,
        # price / market price; 1.0 (no discount) when there is no market price
        "discount": sa.func.coalesce(sa.cast(cheapest.c.price, sa.Float)
                                     / sa.func.nullif(cheapest.c.market_price, 0), 1.0),
    }
    return [columns[key].desc() if direction == "desc" else columns[key].asc()
            for key, direction in sort_keys]


# --- SKUs and stock ------------------------------------------------------------

def lock_skus(session, product_id):
    return session.scalars(sa.select(Sku).where(Sku.product_id == product_id)
                           .order_by(Sku.id).with_for_update()).all()


def reserved_sku_ids(session, sku_ids):
    """Those of `sku_ids` with stock held by a reservation not yet committed or released."""
    if not sku_ids:
        return set()
    return set(session.scalars(sa.select(StockReservation.sku_id).distinct().where(
        StockReservation.sku_id.in_(sku_ids), StockReservation.state == domain.RESERVED)))


def product_statuses(session, sku_ids):
    """{sku_id: status of its product} for those of `sku_ids` that exist."""
    rows = session.execute(sa.select(Sku.id, Product.status).join(Product)
                           .where(Sku.id.in_(sku_ids))).all()
    return {sku_id: status for sku_id, status in rows}


def take_stock(session, sku_id, quantity):
    """Takes units if that many are left: one guarded UPDATE, so concurrent takers queue
    on the row and the second re-checks the stock the first left. False if short."""
    result = session.execute(sa.update(skus_table)
                             .where(skus_table.c.id == sku_id, skus_table.c.stock >= quantity)
                             .values(stock=skus_table.c.stock - quantity))
    return result.rowcount == 1


def return_stock(session, sku_id, quantity):
    session.execute(sa.update(skus_table).where(skus_table.c.id == sku_id)
                    .values(stock=skus_table.c.stock + quantity))


def stock_levels(session, sku_ids):
    return dict(session.execute(sa.select(Sku.id, Sku.stock).where(Sku.id.in_(sku_ids))).all())


# --- reservations --------------------------------------------------------------

def reservation_rows(session, reservation_id, lock=False):
    query = (sa.select(StockReservation).where(StockReservation.reservation_id == reservation_id)
             .order_by(StockReservation.sku_id))
    return session.scalars(query.with_for_update() if lock else query).all()


def claim_reservation(session, reservation_id, items):
    """Writes the reservation's rows; False if the same reservation id got there first.

    Under PostgreSQL a concurrent twin's INSERT waits on the unique index until this
    transaction ends, then fails: only one of them ever takes stock.
    """
    now = clock.now()
    try:
        with session.begin_nested():
            session.execute(sa.insert(StockReservation), [
                {"reservation_id": reservation_id, "sku_id": sku_id, "quantity": quantity,
                 "state": domain.RESERVED, "created_at": now, "updated_at": now}
                for sku_id, quantity in items.items()])
    except IntegrityError:
        return False
    return True


def set_state(rows, state):
    now = clock.now()
    for row in rows:
        row.state = state
        row.updated_at = now


# --- campaign copies -------------------------------------------------------------

def campaign(session, campaign_id):
    """The copy of a campaign, locked, or None. Two first copies racing both find none;
    the second INSERT then fails on the primary key and its event is retried."""
    return session.get(ProductCampaign, campaign_id, with_for_update=True)


def live_campaigns(session, product_ids, now):
    """The campaigns of these products that have not ended or been invalidated: the
    only ones that may be running now (domain.campaign_running decides)."""
    if not product_ids:
        return []
    return session.scalars(sa.select(ProductCampaign).where(
        ProductCampaign.product_id.in_(product_ids), ProductCampaign.ends_at > now,
        ProductCampaign.invalidated.is_(False))).all()
