"""Tables of the orders service (plus the outbox and inbox of plumbing.messaging).

An order keeps snapshots of what was bought (title, spec, unit price, address) as they
were when it was placed: later changes to the product or the address book never
rewrite an order. While `placing`, the fields the teams service answers are still empty;
a CHECK makes every shown order complete, and another makes every shipped one carry
its carrier, tracking number and shipping time.
"""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.orders import domain


class Base(DeclarativeBase):
    pass


def _one_of(column, values):
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "idempotency_key", name="uq_orders_user_idempotency_key"),
        sa.CheckConstraint(_one_of("type", domain.TYPES), name="ck_orders_type"),
        sa.CheckConstraint(_one_of("status", domain.STATUSES), name="ck_orders_status"),
        sa.CheckConstraint("quantity > 0", name="ck_orders_quantity"),
        sa.CheckConstraint(
            "status = 'placing' OR (product_id IS NOT NULL AND unit_price > 0 AND amount > 0 "
            "AND title IS NOT NULL AND spec IS NOT NULL AND pay_deadline IS NOT NULL)",
            name="ck_orders_placed_complete"),
        sa.CheckConstraint("type = 'normal' OR status = 'placing' OR team_id IS NOT NULL",
                           name="ck_orders_team_has_team"),
        sa.CheckConstraint(
            "status NOT IN ('shipped', 'completed') OR (carrier IS NOT NULL "
            "AND tracking_no IS NOT NULL AND shipped_at IS NOT NULL)",
            name="ck_orders_shipped_complete"),
        sa.Index("ix_orders_user_created", "user_id", "created_at"),
        sa.Index("ix_orders_status_shipped_at", "status", "shipped_at"),
        sa.Index("ix_orders_status_pay_deadline", "status", "pay_deadline"),
        sa.Index("ix_orders_status_created", "status", "created_at"),
        sa.Index("ix_orders_team_id", "team_id"),
        sa.Index("ix_orders_merchant_created", "merchant_id", "created_at"),
        # An order dropped while placing must never lend its id to the next one: teams'
        # seats and catalog's reservations are keyed by it (PostgreSQL never reuses one).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    type: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    # The team: the one asked to join while placing, the one teams answered once placed.
    team_id: Mapped[int | None] = mapped_column(sa.Integer)
    is_leader: Mapped[bool | None] = mapped_column(sa.Boolean)  # opened its team (团长)
    campaign_id: Mapped[int | None] = mapped_column(sa.Integer)
    product_id: Mapped[int | None] = mapped_column(sa.Integer)
    # The shop selling it (the product's merchant), known once placed; the back office
    # shows and touches only its own shop's orders.
    merchant_id: Mapped[int | None] = mapped_column(sa.Integer)
    sku_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    quantity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    unit_price: Mapped[int | None] = mapped_column(sa.BigInteger)  # fen
    amount: Mapped[int | None] = mapped_column(sa.BigInteger)  # fen, unit_price x quantity
    title: Mapped[str | None] = mapped_column(sa.String(200))
    spec: Mapped[str | None] = mapped_column(sa.String(100))
    address: Mapped[dict | None] = mapped_column(sa.JSON)
    pay_deadline: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    payment_id: Mapped[int | None] = mapped_column(sa.Integer)
    transaction_id: Mapped[str | None] = mapped_column(sa.String(64))
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(40))
    refund_reason: Mapped[str | None] = mapped_column(sa.String(40))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64))
    # sha256 of what the keyed request asked for (domain.request_fingerprint)
    request_fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    # Fulfilment: set when the merchant ships (by `shipped_by`), and when it completes.
    carrier: Mapped[str | None] = mapped_column(sa.String(32))
    tracking_no: Mapped[str | None] = mapped_column(sa.String(40))
    shipped_by: Mapped[int | None] = mapped_column(sa.Integer)
    shipped_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)


class OrderHistory(Base):
    """One row per status change, written with the change."""
    __tablename__ = "order_history"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"),
                                          nullable=False, index=True)
    from_status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    to_status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    reason: Mapped[str | None] = mapped_column(sa.String(40))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
