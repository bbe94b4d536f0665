"""payments, refunds, the double-entry ledger, and the WeChat Pay sandbox's own tables

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _when(name, nullable=True):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("description", sa.String(127), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("out_trade_no", sa.String(32), nullable=False, unique=True),
        sa.Column("prepay_id", sa.String(64), unique=True),
        sa.Column("transaction_id", sa.String(64)),
        sa.Column("idempotency_key", sa.String(64), unique=True),
        _when("paid_at"),
        _when("closed_at"),
        _when("created_at", nullable=False),
        sa.CheckConstraint("status IN ('created', 'succeeded', 'closed')", name="ck_payments_status"),
        sa.CheckConstraint("amount > 0", name="ck_payments_amount"),
    )
    op.create_index("ix_payments_user_id", "payments", ["user_id"])
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("payment_id", sa.Integer, sa.ForeignKey("payments.id"), nullable=False),
        sa.Column("order_id", sa.Integer, nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(80), nullable=False),
        sa.Column("refund_key", sa.String(64), nullable=False, unique=True),
        sa.Column("out_refund_no", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("provider_refund_id", sa.String(64)),
        sa.Column("attempts", sa.Integer, nullable=False),
        _when("next_attempt_at", nullable=False),
        sa.Column("last_error", sa.String(500)),
        _when("created_at", nullable=False),
        _when("succeeded_at"),
        sa.CheckConstraint("status IN ('requested', 'processing', 'succeeded', 'failed')",
                           name="ck_refunds_status"),
        sa.CheckConstraint("amount > 0", name="ck_refunds_amount"),
    )
    op.create_index("ix_refunds_payment_id", "refunds", ["payment_id"])
    op.create_index("ix_refunds_order_id", "refunds", ["order_id"])
    op.create_index("ix_refunds_due", "refunds", ["next_attempt_at"],
                    postgresql_where=sa.text("status = 'requested'"),
                    sqlite_where=sa.text("status = 'requested'"))
    op.create_table(
        "ledger_movements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("order_id", sa.Integer, nullable=False),
        sa.Column("reference", sa.String(100), nullable=False, unique=True),
        _when("created_at", nullable=False),
        sa.CheckConstraint("kind IN ('payment', 'refund')", name="ck_ledger_movements_kind"),
    )
    op.create_index("ix_ledger_movements_order_id", "ledger_movements", ["order_id"])
    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("movement_id", sa.Integer, sa.ForeignKey("ledger_movements.id"), nullable=False),
        sa.Column("account", sa.String(40), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.CheckConstraint("amount <> 0", name="ck_ledger_postings_amount"),
    )
    op.create_index("ix_ledger_postings_movement_id", "ledger_postings", ["movement_id"])
    op.create_index("ix_ledger_postings_account", "ledger_postings", ["account"])
    _create_sandbox_tables()


def _create_sandbox_tables():
    op.create_table(
        "sandbox_orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("prepay_id", sa.String(64), nullable=False, unique=True),
        sa.Column("out_trade_no", sa.String(32), nullable=False, unique=True),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("description", sa.String(127), nullable=False),
        sa.Column("notify_url", sa.String(500), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("transaction_id", sa.String(32), unique=True),
        _when("success_time"),
        _when("created_at", nullable=False),
    )
    op.create_table(
        "sandbox_refunds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("refund_id", sa.String(32), nullable=False, unique=True),
        sa.Column("out_refund_no", sa.String(64), nullable=False, unique=True),
        sa.Column("out_trade_no", sa.String(32), nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("notify_url", sa.String(500), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        _when("succeed_after", nullable=False),
        _when("success_time"),
        _when("created_at", nullable=False),
    )
    op.create_index("ix_sandbox_refunds_out_trade_no", "sandbox_refunds", ["out_trade_no"])
    op.create_table(
        "sandbox_notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        _when("next_attempt_at", nullable=False),
        _when("delivered_at"),
        sa.Column("last_error", sa.String(500)),
        sa.Column("duplicate_of", sa.Integer, sa.ForeignKey("sandbox_notifications.id")),
        _when("created_at", nullable=False),
    )
    op.create_index("ix_sandbox_notifications_due", "sandbox_notifications", ["next_attempt_at"],
                    postgresql_where=sa.text("delivered_at IS NULL"),
                    sqlite_where=sa.text("delivered_at IS NULL"))


def downgrade():
    op.drop_index("ix_sandbox_notifications_due", table_name="sandbox_notifications")
    op.drop_table("sandbox_notifications")
    op.drop_index("ix_sandbox_refunds_out_trade_no", table_name="sandbox_refunds")
    op.drop_table("sandbox_refunds")
    op.drop_table("sandbox_orders")
    op.drop_index("ix_ledger_postings_account", table_name="ledger_postings")
    op.drop_index("ix_ledger_postings_movement_id", table_name="ledger_postings")
    op.drop_table("ledger_postings")
    op.drop_index("ix_ledger_movements_order_id", table_name="ledger_movements")
    op.drop_table("ledger_movements")
    op.drop_index("ix_refunds_due", table_name="refunds")
    op.drop_index("ix_refunds_order_id", table_name="refunds")
    op.drop_index("ix_refunds_payment_id", table_name="refunds")
    op.drop_table("refunds")
    op.drop_index("ix_payments_user_id", table_name="payments")
    op.drop_table("payments")
