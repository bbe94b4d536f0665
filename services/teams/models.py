"""Tables of the teams service."""
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ProductCopy(Base):
    """Teams' own copy of a catalog product, kept from catalog's `product_changed` events
    (a service never reads another's tables). Campaigns check SKUs and prices against it."""
    __tablename__ = "product_copies"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    skus: Mapped[list] = mapped_column(sa.JSON, nullable=False)
