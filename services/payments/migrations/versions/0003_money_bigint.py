"""money columns 64-bit: payments, refunds and the sandbox's trades and refunds

Revision ID: 0003
Revises: 0002
"""
from alembic import op

from plumbing.migrate import widen_to_bigint

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = {
    "payments": ["amount"],
    "refunds": ["amount"],
    "sandbox_orders": ["amount"],
    "sandbox_refunds": ["amount", "total"],
}


def upgrade():
    widen_to_bigint(op, COLUMNS)


def downgrade():
    widen_to_bigint(op, COLUMNS, back=True)
