"""request_fingerprint: what an order's keyed request asked for, so a reused
Idempotency-Key with another request is told apart from a retry

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("request_fingerprint", sa.String(64)))


def downgrade():
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("request_fingerprint")
