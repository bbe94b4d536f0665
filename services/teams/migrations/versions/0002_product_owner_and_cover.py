"""product copies carry the merchant and the cover image

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: copies made before catalog's snapshot carried them get them with the
    # product's next version.
    with op.batch_alter_table("product_copies") as batch:
        batch.add_column(sa.Column("merchant_id", sa.Integer))
        batch.add_column(sa.Column("cover_image", sa.String(500)))


def downgrade():
    with op.batch_alter_table("product_copies") as batch:
        batch.drop_column("cover_image")
        batch.drop_column("merchant_id")
