"""shops: a merchant account's shop; address ids never reused on SQLite

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

from plumbing.migrate import never_reuse_ids

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "shops",
        sa.Column("merchant_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("name", sa.String(32), nullable=False, unique=True),
        sa.Column("created_by", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    never_reuse_ids(op, "addresses")


def downgrade():
    op.drop_table("shops")
