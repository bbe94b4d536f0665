"""orders carry their shop (merchant_id); ids are never reused on SQLite

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

from plumbing.migrate import never_reuse_ids

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # Orders placed before this revision stay without a shop: no merchant sees them.
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("merchant_id", sa.Integer))
    op.create_index("ix_orders_merchant_created", "orders", ["merchant_id", "created_at"])
    never_reuse_ids(op, "orders")


def downgrade():
    op.drop_index("ix_orders_merchant_created", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("merchant_id")
