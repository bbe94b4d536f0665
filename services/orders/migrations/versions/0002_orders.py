"""orders and their status history

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STATUSES = ("placing", "pending_payment", "awaiting_team", "paid", "to_ship", "shipped",
            "completed", "cancelled", "refunding", "refunded")


def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("type", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("team_id", sa.Integer),
        sa.Column("is_leader", sa.Boolean),
        sa.Column("campaign_id", sa.Integer),
        sa.Column("product_id", sa.Integer),
        sa.Column("sku_id", sa.Integer, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price", sa.Integer),
        sa.Column("amount", sa.Integer),
        sa.Column("title", sa.String(200)),
        sa.Column("spec", sa.String(100)),
        sa.Column("address", sa.JSON),
        sa.Column("pay_deadline", sa.DateTime(timezone=True)),
        sa.Column("paid_at", sa.DateTime(timezone=True)),
        sa.Column("payment_id", sa.Integer),
        sa.Column("transaction_id", sa.String(64)),
        sa.Column("cancel_reason", sa.String(40)),
        sa.Column("refund_reason", sa.String(40)),
        sa.Column("idempotency_key", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "idempotency_key", name="uq_orders_user_idempotency_key"),
        sa.CheckConstraint("type IN ('normal', 'team')", name="ck_orders_type"),
        sa.CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")",
                           name="ck_orders_status"),
        sa.CheckConstraint("quantity > 0", name="ck_orders_quantity"),
        sa.CheckConstraint(
            "status = 'placing' OR (product_id IS NOT NULL AND unit_price > 0 AND amount > 0 "
            "AND title IS NOT NULL AND spec IS NOT NULL AND pay_deadline IS NOT NULL)",
            name="ck_orders_placed_complete"),
        sa.CheckConstraint("type = 'normal' OR status = 'placing' OR team_id IS NOT NULL",
                           name="ck_orders_team_has_team"),
    )
    op.create_index("ix_orders_user_created", "orders", ["user_id", "created_at"])
    op.create_index("ix_orders_status_pay_deadline", "orders", ["status", "pay_deadline"])
    op.create_index("ix_orders_status_created", "orders", ["status", "created_at"])
    op.create_index("ix_orders_team_id", "orders", ["team_id"])
    op.create_table(
        "order_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("from_status", sa.String(20), nullable=False),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(40)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_order_history_order_id", "order_history", ["order_id"])


def downgrade():
    op.drop_index("ix_order_history_order_id", table_name="order_history")
    op.drop_table("order_history")
    op.drop_index("ix_orders_team_id", table_name="orders")
    op.drop_index("ix_orders_status_created", table_name="orders")
    op.drop_index("ix_orders_status_pay_deadline", table_name="orders")
    op.drop_index("ix_orders_user_created", table_name="orders")
    op.drop_table("orders")
