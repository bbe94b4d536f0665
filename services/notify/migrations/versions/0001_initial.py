"""outbox and inbox

Revision ID: 0001
Revises:
"""
from alembic import op

from plumbing import messaging

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    messaging.create_tables(op)


def downgrade():
    messaging.drop_tables(op)
