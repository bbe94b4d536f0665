"""Tables of the payments service.

Ours: payments (one per order), refunds, and the double-entry ledger.
The sandbox's: `sandbox_*`, the provider side of the WeChat Pay sandbox. They live in
this database only because the sandbox runs inside this service; only sandbox.py
reads them, as a provider would its own database.
"""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def _when(nullable=True):
    return mapped_column(sa.DateTime(timezone=True), nullable=nullable)


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        sa.CheckConstraint("status IN ('created', 'succeeded', 'closed')", name="ck_payments_status"),
        sa.CheckConstraint("amount > 0", name="ck_payments_amount"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.Integer, nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(sa.Integer, nullable=False, index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)  # fen
    description: Mapped[str] = mapped_column(sa.String(127), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    out_trade_no: Mapped[str] = mapped_column(sa.String(32), nullable=False, unique=True)
    prepay_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    transaction_id: Mapped[str | None] = mapped_column(sa.String(64))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    paid_at: Mapped[datetime | None] = _when()
    closed_at: Mapped[datetime | None] = _when()
    created_at: Mapped[datetime] = _when(nullable=False)


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (
        sa.CheckConstraint("status IN ('requested', 'processing', 'succeeded', 'failed')",
                           name="ck_refunds_status"),
        sa.CheckConstraint("amount > 0", name="ck_refunds_amount"),
        sa.Index("ix_refunds_due", "next_attempt_at", postgresql_where=sa.text("status = 'requested'"),
                 sqlite_where=sa.text("status = 'requested'")),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payments.id"), nullable=False, index=True)
    order_id: Mapped[int] = mapped_column(sa.Integer, nullable=False, index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    reason: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    refund_key: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    out_refund_no: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    provider_refund_id: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = _when(nullable=False)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = _when(nullable=False)
    # When it was last asked for: made, or retried by ops (how long it has been stuck)
    requested_at: Mapped[datetime] = _when(nullable=False)
    succeeded_at: Mapped[datetime | None] = _when()


class LedgerMovement(Base):
    __tablename__ = "ledger_movements"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('payment', 'refund')", name="ck_ledger_movements_kind"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    order_id: Mapped[int] = mapped_column(sa.Integer, nullable=False, index=True)
    # "payment:<transaction_id>" or "refund:<out_refund_no>": a notification is recorded once
    reference: Mapped[str] = mapped_column(sa.String(100), nullable=False, unique=True)
    created_at: Mapped[datetime] = _when(nullable=False)


class LedgerPosting(Base):
    __tablename__ = "ledger_postings"
    __table_args__ = (
        sa.CheckConstraint("amount <> 0", name="ck_ledger_postings_amount"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    movement_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_movements.id"), nullable=False,
                                             index=True)
    account: Mapped[str] = mapped_column(sa.String(40), nullable=False, index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)  # signed fen; debit > 0


# --- the sandbox provider's own tables ------------------------------------------------

class SandboxOrder(Base):
    __tablename__ = "sandbox_orders"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    prepay_id: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    out_trade_no: Mapped[str] = mapped_column(sa.String(32), nullable=False, unique=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    description: Mapped[str] = mapped_column(sa.String(127), nullable=False)
    notify_url: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    state: Mapped[str] = mapped_column(sa.String(10), nullable=False)  # NOTPAY | SUCCESS | CLOSED
    transaction_id: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    success_time: Mapped[datetime | None] = _when()
    created_at: Mapped[datetime] = _when(nullable=False)


class SandboxRefund(Base):
    __tablename__ = "sandbox_refunds"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    refund_id: Mapped[str] = mapped_column(sa.String(32), nullable=False, unique=True)
    out_refund_no: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    out_trade_no: Mapped[str] = mapped_column(sa.String(32), nullable=False, index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    total: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    notify_url: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    state: Mapped[str] = mapped_column(sa.String(12), nullable=False)  # PROCESSING | SUCCESS
    succeed_after: Mapped[datetime] = _when(nullable=False)
    success_time: Mapped[datetime | None] = _when()
    created_at: Mapped[datetime] = _when(nullable=False)


class SandboxNotification(Base):
    __tablename__ = "sandbox_notifications"
    __table_args__ = (
        sa.Index("ix_sandbox_notifications_due", "next_attempt_at",
                 postgresql_where=sa.text("delivered_at IS NULL"),
                 sqlite_where=sa.text("delivered_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    event_type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    headers: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)  # as last sent
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = _when(nullable=False)
    delivered_at: Mapped[datetime | None] = _when()
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    duplicate_of: Mapped[int | None] = mapped_column(sa.ForeignKey("sandbox_notifications.id"))
    created_at: Mapped[datetime] = _when(nullable=False)
