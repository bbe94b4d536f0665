"""money columns 64-bit: an order's unit price and amount

Revision ID: 0004
Revises: 0003
"""
from alembic import op

from plumbing.migrate import widen_to_bigint

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = {
    "orders": ["unit_price", "amount"],
}


def upgrade():
    widen_to_bigint(op, COLUMNS)


def downgrade():
    widen_to_bigint(op, COLUMNS, back=True)
