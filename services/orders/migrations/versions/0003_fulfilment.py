"""fulfilment: carrier, tracking number, shipping and completion times

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
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("carrier", sa.String(32)))
        batch.add_column(sa.Column("tracking_no", sa.String(40)))
        batch.add_column(sa.Column("shipped_by", sa.Integer))
        batch.add_column(sa.Column("shipped_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("completed_at", sa.DateTime(timezone=True)))
        # No order could reach shipped before this revision, so every row passes.
        batch.create_check_constraint(
            "ck_orders_shipped_complete",
            "status NOT IN ('shipped', 'completed') OR (carrier IS NOT NULL "
            "AND tracking_no IS NOT NULL AND shipped_at IS NOT NULL)")
    op.create_index("ix_orders_status_shipped_at", "orders", ["status", "shipped_at"])


def downgrade():
    op.drop_index("ix_orders_status_shipped_at", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint("ck_orders_shipped_complete", type_="check")
        for column in ("completed_at", "shipped_at", "shipped_by", "tracking_no", "carrier"):
            batch.drop_column(column)
