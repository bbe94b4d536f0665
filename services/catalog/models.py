"""Tables of the catalog service.

Stock is the number of units still available to reserve: a reservation takes units
out of `skus.stock` at once, so `stock >= 0` (a database CHECK) is the guarantee
that nothing is ever oversold.

A product is in group buy (拼团) while one of its campaigns runs; campaigns are the
teams service's, and catalog keeps a copy of their windows (`product_campaigns`)
to answer that from the clock at read time: no stored flag to go stale.
"""
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Category(Base):
    """The platform's category tree (ops keeps it; merchants file products under it)."""
    __tablename__ = "categories"
    __table_args__ = {"sqlite_autoincrement": True}  # a deleted category never lends its id

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    sort_order: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    icon_url: Mapped[str | None] = mapped_column(sa.String(500))


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        sa.CheckConstraint("status IN ('draft', 'published', 'unpublished')",
                           name="ck_products_status"),
        sa.Index("ix_products_merchant_status", "merchant_id", "status"),
        sa.Index("ix_products_status_published_at", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    subtitle: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    image_urls: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    video_url: Mapped[str | None] = mapped_column(sa.String(500))
    # [{"name": "颜色", "values": ["红色", "蓝色"]}, ...]; empty: SKUs carry a free-text spec
    spec_groups: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    # Merchant-pinned for the home page's 推荐 section; None: not pinned. Lower shows first.
    pinned_rank: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    # A SKU whose stock falls to this or below sends the merchant a low-stock notice.
    low_stock_threshold: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=10)
    # Units sold (orders gone to ship), all time; per day in product_daily_sales.
    sales_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="draft")
    # Bumped on every change; consumers of `product_changed` keep the newest only.
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    skus: Mapped[list["Sku"]] = relationship(back_populates="product", order_by="Sku.id",
                                             cascade="all, delete-orphan")


class Sku(Base):
    __tablename__ = "skus"
    __table_args__ = (
        sa.CheckConstraint("price > 0", name="ck_skus_price_positive"),
        sa.CheckConstraint("market_price IS NULL OR market_price >= price",
                           name="ck_skus_market_price"),
        sa.CheckConstraint("stock >= 0", name="ck_skus_stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), nullable=False,
                                            index=True)
    spec: Mapped[str] = mapped_column(sa.String(64), nullable=False)  # e.g. "红色 / L"
    price: Mapped[int] = mapped_column(sa.Integer, nullable=False)  # fen
    market_price: Mapped[int | None] = mapped_column(sa.Integer)  # fen, the crossed-out price
    stock: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    code: Mapped[str | None] = mapped_column(sa.String(64))  # the merchant's own SKU code
    image_url: Mapped[str | None] = mapped_column(sa.String(500))
    # One value per product spec group, in group order; `spec` is them joined by " / ".
    spec_values: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    # The merchant was sent a low-stock notice since the SKU was last stocked above the
    # product's threshold: stock coming back from a cancelled order and going again
    # does not repeat it; a restock above the threshold re-arms it.
    low_stock_notified: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)

    product: Mapped[Product] = relationship(back_populates="skus")


class StockReservation(Base):
    """One row per SKU of a reservation. The unique (reservation_id, sku_id) makes a
    retried or concurrent reserve with the same id collide instead of reserving twice.
    No foreign key to skus: the rows are history, kept after a SKU is removed."""
    __tablename__ = "stock_reservations"
    __table_args__ = (
        sa.UniqueConstraint("reservation_id", "sku_id", name="uq_stock_reservations_id_sku"),
        sa.CheckConstraint("quantity > 0", name="ck_stock_reservations_quantity"),
        sa.CheckConstraint("state IN ('reserved', 'committed', 'released')",
                           name="ck_stock_reservations_state"),
        sa.Index("ix_stock_reservations_sku_state", "sku_id", "state"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    reservation_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    sku_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    quantity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    state: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="reserved")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)


class ProductCampaign(Base):
    """Catalog's copy of a teams campaign, from `teams.campaign_changed` events. No
    foreign key to products: it is another service's fact, kept as it was told."""
    __tablename__ = "product_campaigns"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(sa.Integer, nullable=False, index=True)
    starts_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    invalidated: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    group_prices: Mapped[list] = mapped_column(sa.JSON, nullable=False)  # [{sku_id, group_price}]
    # When teams emitted the newest change applied here (its envelope's occurred_at).
    changed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class ProductDailySales(Base):
    """Units sold per product per day (UTC): the 热销 section counts the last 7 days."""
    __tablename__ = "product_daily_sales"

    product_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True, index=True)
    units: Mapped[int] = mapped_column(sa.Integer, nullable=False)


class Image(Base):
    """An uploaded image, stored under var/ as `name` (content hash + extension)."""
    __tablename__ = "images"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), nullable=False, unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    width: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    height: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    uploaded_by: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
