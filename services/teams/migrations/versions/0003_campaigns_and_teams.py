"""campaigns, teams, seats and per-user campaign quotas

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

HOLDING = sa.text("state IN ('reserved', 'paid')")


def upgrade():
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("merchant_id", sa.Integer, nullable=False),
        sa.Column("product_id", sa.Integer, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("team_size", sa.Integer, nullable=False),
        sa.Column("validity_seconds", sa.Integer, nullable=False),
        sa.Column("per_user_limit", sa.Integer, nullable=False),
        sa.Column("skus", sa.JSON, nullable=False),
        sa.Column("invalidated_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("starts_at < ends_at", name="ck_campaigns_window"),
        sa.CheckConstraint("team_size >= 2", name="ck_campaigns_team_size"),
        sa.CheckConstraint("validity_seconds >= 1", name="ck_campaigns_validity"),
        sa.CheckConstraint("per_user_limit >= 1", name="ck_campaigns_per_user_limit"),
    )
    op.create_index("ix_campaigns_product_ends_at", "campaigns", ["product_id", "ends_at"])
    op.create_index("ix_campaigns_merchant_id", "campaigns", ["merchant_id", "id"])
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("product_id", sa.Integer, nullable=False),
        sa.Column("leader_id", sa.Integer, nullable=False),
        sa.Column("leader_order_id", sa.Integer, nullable=False),
        sa.Column("team_size", sa.Integer, nullable=False),
        sa.Column("validity_seconds", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("seats_taken", sa.Integer, nullable=False),
        sa.Column("paid_count", sa.Integer, nullable=False),
        sa.Column("share_token", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True)),
        sa.Column("deadline", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('pending', 'open', 'succeeded', 'failed', 'cancelled')",
                           name="ck_teams_status"),
        sa.CheckConstraint("seats_taken >= 0 AND seats_taken <= team_size",
                           name="ck_teams_seats_taken"),
        sa.CheckConstraint("paid_count >= 0 AND paid_count <= seats_taken",
                           name="ck_teams_paid_count"),
    )
    op.create_index("ix_teams_status_deadline", "teams", ["status", "deadline"])
    op.create_index("ix_teams_product_status", "teams", ["product_id", "status"])
    op.create_index("ix_teams_campaign_status", "teams", ["campaign_id", "status"])
    op.create_table(
        "seats",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id"), nullable=False),
        sa.Column("order_id", sa.Integer, nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("is_leader", sa.Boolean, nullable=False),
        sa.Column("sku_id", sa.Integer, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("spec", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("hold_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True)),
        sa.Column("released_at", sa.DateTime(timezone=True)),
        sa.Column("refused_reason", sa.String(40)),
        sa.CheckConstraint("state IN ('reserved', 'paid', 'released', 'refused')",
                           name="ck_seats_state"),
        sa.CheckConstraint("quantity >= 1", name="ck_seats_quantity"),
    )
    op.create_index("ix_seats_team_id", "seats", ["team_id"])
    op.create_index("uq_seats_team_user_holding", "seats", ["team_id", "user_id"], unique=True,
                    postgresql_where=HOLDING, sqlite_where=HOLDING)
    op.create_table(
        "campaign_quotas",
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), primary_key=True),
        sa.Column("user_id", sa.Integer, primary_key=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.CheckConstraint("quantity >= 0", name="ck_campaign_quotas_quantity"),
    )


def downgrade():
    op.drop_table("campaign_quotas")
    op.drop_index("uq_seats_team_user_holding", table_name="seats")
    op.drop_index("ix_seats_team_id", table_name="seats")
    op.drop_table("seats")
    op.drop_index("ix_teams_campaign_status", table_name="teams")
    op.drop_index("ix_teams_product_status", table_name="teams")
    op.drop_index("ix_teams_status_deadline", table_name="teams")
    op.drop_table("teams")
    op.drop_index("ix_campaigns_merchant_id", table_name="campaigns")
    op.drop_index("ix_campaigns_product_ends_at", table_name="campaigns")
    op.drop_table("campaigns")
