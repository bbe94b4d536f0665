"""reviews: outbox and inbox; product copies, reviewable items (completed orders),
reviews with follow-up and reply, feedback (the tables catalog held until its 0007)

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
        "product_copies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("merchant_id", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
    )
    op.create_index("ix_product_copies_merchant_id", "product_copies", ["merchant_id"])
    op.create_table(
        "reviewable_items",
        sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("product_id", sa.Integer, nullable=False),
        sa.Column("sku_id", sa.Integer, nullable=False),
        sa.Column("spec", sa.String(100), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_reviewable_items_user_id", "reviewable_items", ["user_id"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("reviewable_items.order_id"),
                  nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("product_id", sa.Integer, nullable=False),
        sa.Column("sku_id", sa.Integer, nullable=False),
        sa.Column("spec", sa.String(100), nullable=False),
        sa.Column("stars", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("image_urls", sa.JSON, nullable=False),
        sa.Column("has_images", sa.Boolean, nullable=False),
        sa.Column("anonymous", sa.Boolean, nullable=False),
        sa.Column("author_nickname", sa.String(64)),
        sa.Column("author_avatar_url", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("follow_up_text", sa.Text),
        sa.Column("follow_up_image_urls", sa.JSON),
        sa.Column("followed_up_at", sa.DateTime(timezone=True)),
        sa.Column("reply", sa.Text),
        sa.Column("replied_by", sa.Integer),
        sa.Column("replied_at", sa.DateTime(timezone=True)),
        sa.Column("reply_edited_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name="ck_reviews_stars"),
    )
    op.create_index("ix_reviews_product_created", "reviews", ["product_id", "created_at"])
    op.create_index("ix_reviews_product_stars", "reviews", ["product_id", "stars"])
    op.create_index("ix_reviews_user_created", "reviews", ["user_id", "created_at"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("image_urls", sa.JSON, nullable=False),
        sa.Column("order_id", sa.Integer),
        sa.Column("product_id", sa.Integer),
        sa.Column("merchant_id", sa.Integer),
        sa.Column("contact", sa.String(50)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reply", sa.Text),
        sa.Column("replied_by", sa.Integer),
        sa.Column("replied_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('complaint', 'suggestion')", name="ck_feedback_kind"),
        sa.CheckConstraint("status IN ('open', 'processing', 'resolved')",
                           name="ck_feedback_status"),
    )
    op.create_index("ix_feedback_user_created", "feedback", ["user_id", "created_at"])
    op.create_index("ix_feedback_merchant_created", "feedback", ["merchant_id", "created_at"])
    op.create_index("ix_feedback_status_created", "feedback", ["status", "created_at"])


def downgrade():
    for table in ("feedback", "reviews", "reviewable_items", "product_copies"):
        op.drop_table(table)  # their indexes go with them
    messaging.drop_tables(op)
