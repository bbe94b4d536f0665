"""Tables of the teams service.

Two counters carry the guarantees, each changed by one guarded UPDATE so concurrent
orders queue on the row and re-check: `teams.seats_taken` (reserved + paid seats, never
above team_size: a team is never over-filled) and `campaign_quotas.quantity` (what a
shopper holds in a campaign, never above its per-user limit).
"""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class ProductCopy(Base):
    """Teams' own copy of a catalog product, kept from catalog's `product_changed` events
    (a service never reads another's tables). Campaigns check SKUs and prices against it."""
    __tablename__ = "product_copies"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    # None only for copies made before the snapshot carried it (migration 0002).
    merchant_id: Mapped[int | None] = mapped_column(sa.Integer)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    cover_image: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    skus: Mapped[list] = mapped_column(sa.JSON, nullable=False)


class Campaign(Base):
    """拼团活动. Its status is computed from the clock (domain.campaign_status); only the
    merchant's early end is stored, as invalidated_at."""
    __tablename__ = "campaigns"
    __table_args__ = (
        sa.CheckConstraint("starts_at < ends_at", name="ck_campaigns_window"),
        sa.CheckConstraint("team_size >= 2", name="ck_campaigns_team_size"),
        sa.CheckConstraint("validity_seconds >= 1", name="ck_campaigns_validity"),
        sa.CheckConstraint("per_user_limit >= 1", name="ck_campaigns_per_user_limit"),
        sa.Index("ix_campaigns_product_ends_at", "product_id", "ends_at"),
        sa.Index("ix_campaigns_merchant_id", "merchant_id", "id"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    product_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    starts_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    team_size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    validity_seconds: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    per_user_limit: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    skus: Mapped[list] = mapped_column(sa.JSON, nullable=False)  # [{sku_id, group_price}]
    invalidated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)


class Team(Base):
    """团单. team_size and validity are copied from the campaign when the team is made
    (a campaign with teams is active or final, so they no longer change anyway)."""
    __tablename__ = "teams"
    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'open', 'succeeded', 'failed', 'cancelled')",
                           name="ck_teams_status"),
        sa.CheckConstraint("seats_taken >= 0 AND seats_taken <= team_size",
                           name="ck_teams_seats_taken"),
        sa.CheckConstraint("paid_count >= 0 AND paid_count <= seats_taken",
                           name="ck_teams_paid_count"),
        sa.Index("ix_teams_status_deadline", "status", "deadline"),
        sa.Index("ix_teams_product_status", "product_id", "status"),
        sa.Index("ix_teams_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    leader_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    leader_order_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    team_size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    validity_seconds: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    seats_taken: Mapped[int] = mapped_column(sa.Integer, nullable=False)  # reserved + paid
    paid_count: Mapped[int] = mapped_column(sa.Integer, nullable=False)  # members
    share_token: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    opened_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    deadline: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    seats: Mapped[list["Seat"]] = relationship(order_by="Seat.id", back_populates="team")


class Seat(Base):
    """One order's place in a team. The partial unique index lets a shopper hold one
    place per team at a time (a released seat does not block joining again)."""
    __tablename__ = "seats"
    __table_args__ = (
        sa.CheckConstraint("state IN ('reserved', 'paid', 'released', 'refused')",
                           name="ck_seats_state"),
        sa.CheckConstraint("quantity >= 1", name="ck_seats_quantity"),
        sa.Index("uq_seats_team_user_holding", "team_id", "user_id", unique=True,
                 postgresql_where=sa.text("state IN ('reserved', 'paid')"),
                 sqlite_where=sa.text("state IN ('reserved', 'paid')")),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"), nullable=False, index=True)
    order_id: Mapped[int] = mapped_column(sa.Integer, nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    is_leader: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    sku_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    quantity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    # What the order was priced at, kept so a replayed open/join answers the same.
    unit_price: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    spec: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    state: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    hold_until: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    paid_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    released_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    refused_reason: Mapped[str | None] = mapped_column(sa.String(40))

    team: Mapped[Team] = relationship(back_populates="seats")


class CampaignQuota(Base):
    """How much one shopper holds in one campaign (reserved + paid seats that may still
    be bought), against the campaign's per-user limit."""
    __tablename__ = "campaign_quotas"
    __table_args__ = (sa.CheckConstraint("quantity >= 0", name="ck_campaign_quotas_quantity"),)

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    quantity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
