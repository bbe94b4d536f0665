"""Tables of the reviews service, besides the outbox and inbox of plumbing.messaging.

`product_copies` is its copy of catalog's products (from `catalog.product_changed`): only
what the listings and the merchant scoping need. `reviewable_items` is its copy of
completed orders (from `orders.order_completed`):
the only orders a review may name. A review belongs to one of them (unique order_id),
so an order is reviewed once even when two requests race. Reviews keep a snapshot of
the author (nickname, avatar) as it was when they wrote it, like orders keep theirs.
"""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.reviews import domain


class Base(DeclarativeBase):
    pass


def _one_of(column, values):
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class ProductCopy(Base):
    """A catalog product as its latest `product_changed` had it: whose it is (who may
    reply to its reviews, whose back office lists them) and its title."""
    __tablename__ = "product_copies"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    merchant_id: Mapped[int] = mapped_column(sa.Integer, nullable=False, index=True)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)


class ReviewableItem(Base):
    """A completed order, as orders announced it: who bought what."""
    __tablename__ = "reviewable_items"

    order_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(sa.Integer, nullable=False, index=True)
    product_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    sku_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    spec: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    quantity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    completed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (
        sa.CheckConstraint(f"stars BETWEEN {domain.MIN_STARS} AND {domain.MAX_STARS}",
                           name="ck_reviews_stars"),
        sa.Index("ix_reviews_product_created", "product_id", "created_at"),
        sa.Index("ix_reviews_product_stars", "product_id", "stars"),
        sa.Index("ix_reviews_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("reviewable_items.order_id"),
                                          nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    product_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    sku_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    spec: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    stars: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    text: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    image_urls: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    # Kept with the row so the 有图 tab is an indexable column, not a JSON test.
    has_images: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    anonymous: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    author_nickname: Mapped[str | None] = mapped_column(sa.String(64))
    author_avatar_url: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    # 追评: one, by the author
    follow_up_text: Mapped[str | None] = mapped_column(sa.Text)
    follow_up_image_urls: Mapped[list | None] = mapped_column(sa.JSON)
    followed_up_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # 商家回复: one, by the product's merchant, who may edit it
    reply: Mapped[str | None] = mapped_column(sa.Text)
    replied_by: Mapped[int | None] = mapped_column(sa.Integer)
    replied_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    reply_edited_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Feedback(Base):
    """投诉与建议: a shopper's complaint or suggestion, and the back office's answer."""
    __tablename__ = "feedback"
    __table_args__ = (
        sa.CheckConstraint(_one_of("kind", domain.FEEDBACK_KINDS), name="ck_feedback_kind"),
        sa.CheckConstraint(_one_of("status", domain.FEEDBACK_STATUSES),
                           name="ck_feedback_status"),
        sa.Index("ix_feedback_user_created", "user_id", "created_at"),
        sa.Index("ix_feedback_status_created", "status", "created_at"),
        sa.Index("ix_feedback_merchant_created", "merchant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    content: Mapped[str] = mapped_column(sa.Text, nullable=False)
    image_urls: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    # What it is about, as the shopper named it (an order is the orders service's)
    order_id: Mapped[int | None] = mapped_column(sa.Integer)
    product_id: Mapped[int | None] = mapped_column(sa.Integer)
    # The shop it is about (its order's or product's merchant), which answers it; None:
    # about the platform, answered by ops. Ops sees every shop's too.
    merchant_id: Mapped[int | None] = mapped_column(sa.Integer)
    contact: Mapped[str | None] = mapped_column(sa.String(50))
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    # The back office's latest answer
    reply: Mapped[str | None] = mapped_column(sa.Text)
    replied_by: Mapped[int | None] = mapped_column(sa.Integer)
    replied_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
