"""The catalog's search index: one row per listed (published) product in `product_search`,
kept current in the transaction of every change that shows in a listing (the product, its
SKUs, its category's name, its sales). A product that leaves the shop window loses its row.

The row holds what listings filter and sort on (cheapest SKU price and its market price,
discount, sales, publication time, recommended pin) and the product's search terms: on
PostgreSQL a weighted tsvector with a GIN index; on SQLite (the local run) the terms go
into the FTS5 table `product_search_fts` (rowid = product id) instead.
"""
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from services.catalog.models import Base, Category, Product
from services.catalog.search import rules

PUBLISHED = "published"

product_search = sa.Table(
    "product_search", Base.metadata,
    sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id", ondelete="CASCADE"),
              primary_key=True, autoincrement=False),
    sa.Column("category_id", sa.Integer),
    sa.Column("price", sa.Integer, nullable=False),  # fen, of the cheapest SKU
    sa.Column("market_price", sa.Integer),  # fen, that SKU's crossed-out price
    sa.Column("discount", sa.Float, nullable=False),  # share off the market price, 0 if none
    sa.Column("sales_count", sa.Integer, nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("pinned_rank", sa.Integer),
    # PostgreSQL: tsvector; SQLite: NULL (the terms are in product_search_fts)
    sa.Column("terms", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql")),
)
FTS_TABLE = "product_search_fts"  # SQLite only
REFRESH_BATCH = 200


def refresh(session, product):
    """Called in the transaction of every product change (after flush)."""
    if product.status != PUBLISHED or not product.skus:
        remove(session, product.id)
        return
    row = search_row(
        product_id=product.id, title=product.title, subtitle=product.subtitle,
        category_id=product.category_id, published_at=product.published_at,
        pinned_rank=product.pinned_rank, sales_count=product.sales_count,
        skus=[{"id": sku.id, "price": sku.price, "market_price": sku.market_price,
               "spec": sku.spec} for sku in product.skus],
        category_names=category_names(session, product.category_id))
    write(session, row)


def refresh_category(session, category_id):
    """Called after a category is renamed or moved: the terms of its products, and of its
    sub-categories' products (which carry their parent's name), hold its name."""
    children = sa.select(Category.id).where(Category.parent_id == category_id)
    product_ids = session.scalars(sa.select(Product.id).where(
        Product.status == PUBLISHED,
        sa.or_(Product.category_id == category_id, Product.category_id.in_(children)))).all()
    for start in range(0, len(product_ids), REFRESH_BATCH):
        batch = product_ids[start:start + REFRESH_BATCH]
        for product in session.scalars(sa.select(Product).options(selectinload(Product.skus))
                                       .where(Product.id.in_(batch))):
            refresh(session, product)


def remove(session, product_id):
    session.execute(sa.delete(product_search).where(product_search.c.product_id == product_id))
    if _dialect(session) == "sqlite":
        session.execute(sa.text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), {"id": product_id})


def category_names(session, category_id):
    """The product's category name and its parent's (a search for 水果 finds its apples)."""
    names = []
    while category_id is not None and len(names) < 2:
        category = session.get(Category, category_id)
        if category is None:
            break
        names.append(category.name)
        category_id = category.parent_id
    return names


def search_row(product_id, title, subtitle, category_id, published_at, pinned_rank,
               sales_count, skus, category_names):
    """The search row of a listed product from plain values (the migration's backfill
    uses it too). `skus`: dicts with id, price, market_price and spec."""
    cheapest = min(skus, key=lambda sku: (sku["price"], sku["id"]))
    fields = rules.document_fields(title, subtitle, category_names,
                                    [sku["spec"] for sku in skus])
    return {"product_id": product_id, "category_id": category_id, "price": cheapest["price"],
            "market_price": cheapest["market_price"],
            "discount": rules.discount(cheapest["price"], cheapest["market_price"]),
            "sales_count": sales_count, "published_at": published_at,
            "pinned_rank": pinned_rank, "fields": fields}


def write(session, row):
    """Insert or replace a product's search row (and its FTS5 row on SQLite)."""
    write_all(session, [row])


def write_all(session, rows):
    """Insert or replace search rows (from search_row), one statement per table."""
    if not rows:
        return
    dialect = _dialect(session)
    values = [{**{key: value for key, value in row.items() if key != "fields"},
               "terms": rules.tsvector_literal(row["fields"]) if dialect == "postgresql"
               else None} for row in rows]
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(product_search)
    changed = {column: insert.excluded[column] for column in values[0] if column != "product_id"}
    session.execute(insert.on_conflict_do_update(index_elements=["product_id"], set_=changed),
                    values)
    if dialect == "sqlite":
        ids = [{"id": row["product_id"]} for row in rows]
        session.execute(sa.text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), ids)
        session.execute(sa.text(f"INSERT INTO {FTS_TABLE} (rowid, title, body) "
                                "VALUES (:id, :title, :body)"),
                        [dict(zip(("title", "body"), rules.fts5_columns(row["fields"])),
                              id=row["product_id"]) for row in rows])


def _dialect(session):
    return session.get_bind().dialect.name
