"""money columns 64-bit: a seat's unit price

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
    "seats": ["unit_price"],
}


def upgrade():
    widen_to_bigint(op, COLUMNS)


def downgrade():
    widen_to_bigint(op, COLUMNS, back=True)
