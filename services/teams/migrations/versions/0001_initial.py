"""outbox, inbox and product copies

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from plumbing import messaging

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    messaging.create_tables(op)
    op.create_table(
        "product_copies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("skus", sa.JSON, nullable=False),
    )


def downgrade():
    op.drop_table("product_copies")
    messaging.drop_tables(op)
