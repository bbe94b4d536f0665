"""products in full: video, spec groups, recommended pin, low-stock threshold, sales
counters; SKU code, image, spec values and low-stock notice flag; daily sales; uploaded
images

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("video_url", sa.String(500)))
        batch.add_column(sa.Column("spec_groups", sa.JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("pinned_rank", sa.Integer))
        batch.add_column(sa.Column("low_stock_threshold", sa.Integer, nullable=False,
                                   server_default="10"))
        batch.add_column(sa.Column("sales_count", sa.Integer, nullable=False,
                                   server_default="0"))
    op.create_index("ix_products_pinned_rank", "products", ["pinned_rank"])
    with op.batch_alter_table("skus") as batch:
        batch.add_column(sa.Column("code", sa.String(64)))
        batch.add_column(sa.Column("image_url", sa.String(500)))
        batch.add_column(sa.Column("spec_values", sa.JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("low_stock_notified", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        "product_daily_sales",
        sa.Column("product_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("units", sa.Integer, nullable=False),
    )
    op.create_index("ix_product_daily_sales_day", "product_daily_sales", ["day"])
    op.create_table(
        "images",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),  # <sha256>.<ext>
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("uploaded_by", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade():
    op.drop_table("images")
    op.drop_index("ix_product_daily_sales_day", table_name="product_daily_sales")
    op.drop_table("product_daily_sales")
    with op.batch_alter_table("skus") as batch:
        for column in ("low_stock_notified", "spec_values", "image_url", "code"):
            batch.drop_column(column)
    op.drop_index("ix_products_pinned_rank", table_name="products")
    with op.batch_alter_table("products") as batch:
        for column in ("sales_count", "low_stock_threshold", "pinned_rank", "spec_groups",
                       "video_url"):
            batch.drop_column(column)
