"""Queries of the catalog service: every read and write of its tables, no rules.

Row locks are always taken in this order, so concurrent workers never deadlock:
a product, then its SKUs by ascending id. Reservations take SKU rows by ascending
id too (the guarded UPDATE locks the row it changes).
"""
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from plumbing import clock
from plumbing.errors import NotFound
from services.catalog import domain
from services.catalog.models import (
    Category,
    Image,
    Product,
    ProductCampaign,
    ProductDailySales,
    Sku,
    StockReservation,
)

skus_table = Sku.__table__


# --- categories ----------------------------------------------------------------

def category(session, category_id, key_share=False):
    """`key_share`: for a row about to point at it (a product, a sub-category), so a
    concurrent delete waits for it, or it for the delete and then finds it gone."""
    found = session.get(Category, category_id,
                        with_for_update={"key_share": True} if key_share else None)
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


def category_for_update(session, category_id):
    found = session.get(Category, category_id, with_for_update=True)
    if found is None:
        raise NotFound("category_not_found", f"There is no category {category_id}.")
    return found


def category_usage(session, category_id):
    """-> (sub-categories, products of any status) in the category."""
    children = session.scalar(sa.select(sa.func.count()).where(Category.parent_id == category_id))
    products = session.scalar(sa.select(sa.func.count()).where(Product.category_id == category_id))
    return children, products


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


def merchant_products(session, merchant_id, status, page, page_size, category_ids=None,
                      low_stock=None, q=None):
    """-> (products with their SKUs, total), most recently changed first. `low_stock`:
    True keeps products with a SKU at or below the product's threshold, False the rest."""
    query = sa.select(Product).where(Product.merchant_id == merchant_id)
    if status is not None:
        query = query.where(Product.status == status)
    if category_ids is not None:
        query = query.where(Product.category_id.in_(category_ids))
    if low_stock is not None:
        some_low = sa.exists().where(Sku.product_id == Product.id,
                                     Sku.stock <= Product.low_stock_threshold)
        query = query.where(some_low if low_stock else ~some_low)
    if q:
        query = query.where(Product.title.ilike(f"%{_escape_like(q)}%", escape="\\"))
    total = _count(session, query)
    products = session.scalars(query.options(selectinload(Product.skus))
                               .order_by(Product.updated_at.desc(), Product.id.desc())
                               .limit(page_size).offset((page - 1) * page_size)).all()
    return products, total


def _count(session, query):
    return session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def _escape_like(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- SKUs and stock ------------------------------------------------------------

def sku_prices(session, product_id):
    """{sku_id: price} of the product's SKUs as they are now."""
    return dict(session.execute(sa.select(Sku.id, Sku.price)
                                .where(Sku.product_id == product_id)).all())


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
    on the row and the second re-checks the stock the first left. -> the row after
    (stock, low_stock_notified, product_id), or None if short."""
    return session.execute(sa.update(skus_table)
                           .where(skus_table.c.id == sku_id, skus_table.c.stock >= quantity)
                           .values(stock=skus_table.c.stock - quantity)
                           .returning(skus_table.c.stock, skus_table.c.low_stock_notified,
                                      skus_table.c.product_id)).first()


def mark_low_stock_notified(session, sku_id):
    session.execute(sa.update(skus_table).where(skus_table.c.id == sku_id)
                    .values(low_stock_notified=True))


def product_and_sku(session, product_id, sku_id):
    return session.get(Product, product_id), session.get(Sku, sku_id)


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


# --- sales ------------------------------------------------------------------------

def sku_products(session, sku_ids):
    """{sku_id: product_id} for those of `sku_ids` that exist."""
    return dict(session.execute(sa.select(Sku.id, Sku.product_id)
                                .where(Sku.id.in_(sku_ids))).all())


def add_sales(session, product_id, units, day):
    """Counts units sold, all time (the product row, locked) and on `day`; -> the product."""
    product = session.get(Product, product_id, with_for_update=True, populate_existing=True)
    product.sales_count += units
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert
    statement = insert(ProductDailySales).values(product_id=product_id, day=day, units=units)
    session.execute(statement.on_conflict_do_update(
        index_elements=[ProductDailySales.product_id, ProductDailySales.day],
        set_={"units": ProductDailySales.units + statement.excluded.units}))
    return product


def sales_since(session, product_ids, first_day):
    """{product_id: units sold from first_day on}; products with none are left out."""
    if not product_ids:
        return {}
    return dict(session.execute(
        sa.select(ProductDailySales.product_id, sa.func.sum(ProductDailySales.units))
        .where(ProductDailySales.product_id.in_(product_ids), ProductDailySales.day >= first_day)
        .group_by(ProductDailySales.product_id)).all())


# --- images ---------------------------------------------------------------------

def image(session, name):
    return session.scalars(sa.select(Image).where(Image.name == name)).first()


def add_image(session, **fields):
    """The image row of that name: this one, or the one a concurrent upload of the same
    picture wrote first."""
    try:
        with session.begin_nested():
            row = Image(**fields)
            session.add(row)
        return row
    except IntegrityError:
        return image(session, fields["name"])


def known_images(session, names):
    if not names:
        return set()
    return set(session.scalars(sa.select(Image.name).where(Image.name.in_(names))))


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
