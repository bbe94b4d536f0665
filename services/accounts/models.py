"""Tables of the accounts service."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    """A shopper (known by WeChat openid) or a staff member (known by username).

    `roles` is a comma list of `plumbing.tokens.ROLES`, e.g. "merchant,ops".
    """
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    openid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    username: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    roles: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    nickname: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    avatar_url: Mapped[str | None] = mapped_column(sa.String(500))
    phone: Mapped[str | None] = mapped_column(sa.String(11))
    invite_code: Mapped[str] = mapped_column(sa.String(16), nullable=False, unique=True)
    invited_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)


class Address(Base):
    """A delivery address. While a user has any, exactly one is the default; the
    partial unique index makes a second default impossible even under races."""
    __tablename__ = "addresses"
    __table_args__ = (
        sa.Index("ix_addresses_one_default", "user_id", unique=True,
                 postgresql_where=sa.text("is_default"), sqlite_where=sa.text("is_default")),
        {"sqlite_autoincrement": True},  # a deleted address never lends its id
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         nullable=False, index=True)
    recipient: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    phone: Mapped[str] = mapped_column(sa.String(11), nullable=False)
    province: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    city: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    district: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    detail: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    is_default: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)


class Shop(Base):
    """A merchant's shop: the merchant account (a staff user with the merchant role)
    and the name shoppers see. Products, campaigns and orders carry its merchant id."""
    __tablename__ = "shops"

    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                             primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(32), nullable=False, unique=True)
    created_by: Mapped[int | None] = mapped_column(sa.Integer)  # the ops user; None: demo
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)


class LoginFailures(Base):
    """Failed staff logins of one scope (domain.LOCKOUT_SCOPES): a (username, address)
    pair, a username or an address, and the lockout they caused."""
    __tablename__ = "login_failures"

    scope: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    window_started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
