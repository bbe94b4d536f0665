"""outbox, inbox, categories, products, skus and stock reservations

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from plumbing import messaging

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    messaging.create_tables(op)
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("categories.id")),
        sa.Column("sort_order", sa.Integer, nullable=False),
        sa.Column("icon_url", sa.String(500)),
    )
    op.create_index("ix_categories_parent_id", "categories", ["parent_id"])
    op.create_table(
        "products",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("merchant_id", sa.Integer, nullable=False),
        sa.Column("category_id", sa.Integer, sa.ForeignKey("categories.id")),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("subtitle", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("image_urls", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("group_buy", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('draft', 'published', 'unpublished')",
                           name="ck_products_status"),
    )
    op.create_index("ix_products_category_id", "products", ["category_id"])
    op.create_index("ix_products_merchant_status", "products", ["merchant_id", "status"])
    op.create_index("ix_products_status_published_at", "products", ["status", "published_at"])
    op.create_table(
        "skus",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id"), nullable=False),
        sa.Column("spec", sa.String(64), nullable=False),
        sa.Column("price", sa.Integer, nullable=False),
        sa.Column("market_price", sa.Integer),
        sa.Column("stock", sa.Integer, nullable=False),
        sa.CheckConstraint("price > 0", name="ck_skus_price_positive"),
        sa.CheckConstraint("market_price IS NULL OR market_price >= price",
                           name="ck_skus_market_price"),
        sa.CheckConstraint("stock >= 0", name="ck_skus_stock_not_negative"),
    )
    op.create_index("ix_skus_product_id", "skus", ["product_id"])
    op.create_table(
        "stock_reservations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reservation_id", sa.String(64), nullable=False),
        sa.Column("sku_id", sa.Integer, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("reservation_id", "sku_id", name="uq_stock_reservations_id_sku"),
        sa.CheckConstraint("quantity > 0", name="ck_stock_reservations_quantity"),
        sa.CheckConstraint("state IN ('reserved', 'committed', 'released')",
                           name="ck_stock_reservations_state"),
    )
    op.create_index("ix_stock_reservations_sku_state", "stock_reservations", ["sku_id", "state"])


def downgrade():
    op.drop_table("stock_reservations")
    op.drop_index("ix_skus_product_id", table_name="skus")
    op.drop_table("skus")
    op.drop_index("ix_products_status_published_at", table_name="products")
    op.drop_index("ix_products_merchant_status", table_name="products")
    op.drop_index("ix_products_category_id", table_name="products")
    op.drop_table("products")
    op.drop_index("ix_categories_parent_id", table_name="categories")
    op.drop_table("categories")
    messaging.drop_tables(op)
