"""outbox, inbox, users and addresses

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
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("openid", sa.String(64), unique=True),
        sa.Column("username", sa.String(64), unique=True),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("roles", sa.String(64), nullable=False),
        sa.Column("nickname", sa.String(32), nullable=False),
        sa.Column("avatar_url", sa.String(500)),
        sa.Column("phone", sa.String(11)),
        sa.Column("invite_code", sa.String(16), nullable=False, unique=True),
        sa.Column("invited_by", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("recipient", sa.String(32), nullable=False),
        sa.Column("phone", sa.String(11), nullable=False),
        sa.Column("province", sa.String(32), nullable=False),
        sa.Column("city", sa.String(32), nullable=False),
        sa.Column("district", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_addresses_user_id", "addresses", ["user_id"])
    op.create_index("ix_addresses_one_default", "addresses", ["user_id"], unique=True,
                    postgresql_where=sa.text("is_default"), sqlite_where=sa.text("is_default"))


def downgrade():
    op.drop_index("ix_addresses_one_default", table_name="addresses")
    op.drop_index("ix_addresses_user_id", table_name="addresses")
    op.drop_table("addresses")
    op.drop_table("users")
    messaging.drop_tables(op)
