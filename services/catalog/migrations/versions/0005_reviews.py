"""reviews: reviewable items (completed orders), reviews with follow-up and reply, feedback

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
    op.create_index("ix_feedback_status_created", "feedback", ["status", "created_at"])


def downgrade():
    op.drop_index("ix_feedback_status_created", table_name="feedback")
    op.drop_index("ix_feedback_user_created", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_reviews_user_created", table_name="reviews")
    op.drop_index("ix_reviews_product_stars", table_name="reviews")
    op.drop_index("ix_reviews_product_created", table_name="reviews")
    op.drop_table("reviews")
    op.drop_index("ix_reviewable_items_user_id", table_name="reviewable_items")
    op.drop_table("reviewable_items")
