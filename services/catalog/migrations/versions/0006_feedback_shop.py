"""feedback belongs to a shop (the merchant of its order or product; none: the platform);
category ids never reused on SQLite

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

from plumbing.migrate import never_reuse_ids

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("merchant_id", sa.Integer))
    op.create_index("ix_feedback_merchant_created", "feedback", ["merchant_id", "created_at"])
    never_reuse_ids(op, "categories")


def downgrade():
    op.drop_index("ix_feedback_merchant_created", table_name="feedback")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("merchant_id")
