"""product_campaigns (copies of teams' campaigns); products.group_buy goes: the flag is
derived from the campaigns and the clock when asked

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "product_campaigns",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("product_id", sa.Integer, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("invalidated", sa.Boolean, nullable=False),
        sa.Column("group_prices", sa.JSON, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_product_campaigns_product_id", "product_campaigns", ["product_id"])
    with op.batch_alter_table("products") as batch:  # SQLite rebuilds the table
        batch.drop_column("group_buy")


def downgrade():
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("group_buy", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
    op.drop_index("ix_product_campaigns_product_id", table_name="product_campaigns")
    op.drop_table("product_campaigns")
