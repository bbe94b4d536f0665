"""search: one search row per listed product (price, discount, sales, pin, terms), its
indexes, an index for the week of sales behind 热销, and the backfill of the products
already listed

PostgreSQL keeps the terms as a weighted tsvector with a GIN index; SQLite (the local run)
in an FTS5 table, product_search_fts, whose rowid is the product id.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The products columns the backfill reads, typed (SQLite hands back times as text otherwise).
PRODUCTS = sa.table("products", *[sa.column(name, sa.Integer) for name in (
    "id", "category_id", "pinned_rank", "sales_count")],
    sa.column("title", sa.String), sa.column("subtitle", sa.String), sa.column("status", sa.String),
    sa.column("published_at", sa.DateTime(timezone=True)))

# (name, columns): the sorts of a listing, each ending in product_id like its ORDER BY.
# On PostgreSQL each also carries the other columns a page shows (INCLUDE): a listing
# without words reads its index alone, not the rows with their large tsvectors.
SORT_INDEXES = [
    ("ix_product_search_published_at", ["published_at", "product_id"]),
    ("ix_product_search_price", ["price", "product_id"]),
    ("ix_product_search_sales_count", ["sales_count", "product_id"]),
    ("ix_product_search_discount", ["discount", "product_id"]),
]
SHOWN = ["category_id", "price", "market_price", "discount", "sales_count", "published_at",
         "pinned_rank"]


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "product_search",
        sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
        sa.Column("category_id", sa.Integer),
        sa.Column("price", sa.Integer, nullable=False),
        sa.Column("market_price", sa.Integer),
        sa.Column("discount", sa.Float, nullable=False),
        sa.Column("sales_count", sa.Integer, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pinned_rank", sa.Integer),
        sa.Column("terms", postgresql.TSVECTOR() if postgres else sa.Text, nullable=not postgres),
    )
    for name, columns in SORT_INDEXES:
        op.create_index(name, "product_search", columns,
                        postgresql_include=[c for c in SHOWN if c not in columns])
    op.create_index("ix_product_search_category_id", "product_search", ["category_id"])
    op.create_index("ix_product_search_pinned_rank", "product_search", ["pinned_rank"],
                    postgresql_where=sa.text("pinned_rank IS NOT NULL"),
                    sqlite_where=sa.text("pinned_rank IS NOT NULL"))
    if postgres:
        # fastupdate off: no pending list for a search to read through; writes are rare
        op.create_index("ix_product_search_terms", "product_search", ["terms"],
                        postgresql_using="gin", postgresql_with={"fastupdate": "off"})
        # 热销 sums a week of daily sales: from the index alone
        op.create_index("ix_product_daily_sales_day_units", "product_daily_sales", ["day"],
                        postgresql_include=["product_id", "units"])
    else:
        op.execute("CREATE VIRTUAL TABLE product_search_fts USING fts5(title, body)")
    _backfill()


def _backfill():
    from services.catalog.search import index as search_index  # the app's tokenizer, as of now
    from services.catalog.search import rules as search
    bind = op.get_bind()
    products = bind.execute(sa.select(PRODUCTS).where(PRODUCTS.c.status == "published")
                            .order_by(PRODUCTS.c.id)).mappings().all()
    if not products:
        return
    search.initialize()
    skus = {}
    for sku in bind.execute(sa.text("SELECT id, product_id, price, market_price, spec FROM skus "
                                    "ORDER BY id")).mappings():
        skus.setdefault(sku["product_id"], []).append(dict(sku))
    categories = {row["id"]: row for row in bind.execute(sa.text(
        "SELECT id, name, parent_id FROM categories")).mappings()}
    session = Session(bind=bind)
    for product in products:
        if product["id"] in skus:
            fields = {key: value for key, value in product.items() if key not in ("id", "status")}
            search_index.write(session, search_index.search_row(
                product_id=product["id"], **fields, skus=skus[product["id"]],
                category_names=_names(categories, product["category_id"])))
    session.flush()


def _names(categories, category_id):
    names = []
    while category_id in categories and len(names) < 2:
        names.append(categories[category_id]["name"])
        category_id = categories[category_id]["parent_id"]
    return names


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_product_daily_sales_day_units", table_name="product_daily_sales")
        op.drop_index("ix_product_search_terms", table_name="product_search")
    else:
        op.execute("DROP TABLE product_search_fts")
    op.drop_index("ix_product_search_pinned_rank", table_name="product_search")
    op.drop_index("ix_product_search_category_id", table_name="product_search")
    for name, _ in SORT_INDEXES:
        op.drop_index(name, table_name="product_search")
    op.drop_table("product_search")
