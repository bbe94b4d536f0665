"""refunds.requested_at: when a refund was last asked for (made, or retried by ops), from
which a refund not done in time counts as stuck

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("refunds", sa.Column("requested_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE refunds SET requested_at = created_at")
    with op.batch_alter_table("refunds") as batch:
        batch.alter_column("requested_at", existing_type=sa.DateTime(timezone=True),
                           nullable=False)


def downgrade():
    with op.batch_alter_table("refunds") as batch:
        batch.drop_column("requested_at")
