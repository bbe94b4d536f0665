"""request_fingerprint: what an order's keyed request asked for, so a reused
Idempotency-Key with another request is told apart from a retry

Revision ID: 0005_request_fingerprint
Revises: 0004_money_bigint
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_request_fingerprint"
down_revision = "0004_money_bigint"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("request_fingerprint", sa.String(64)))


def downgrade():
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("request_fingerprint")
