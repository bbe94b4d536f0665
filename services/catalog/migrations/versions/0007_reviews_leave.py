"""reviews and feedback leave catalog for the reviews service (its own database): their
tables are dropped, rows and all (a local SQLite run loses its reviews and feedback)

Revision ID: 0007
Revises: 0006
"""
from alembic import op
from alembic.script import ScriptDirectory

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

REVIEW_TABLES = ("feedback", "reviews", "reviewable_items")  # reviews refers to its items


def upgrade():
    for table in REVIEW_TABLES:
        op.drop_table(table)  # their indexes go with them


def downgrade():
    """The tables come back empty, as 0005 and 0006 made them: the rows are the reviews
    service's now."""
    scripts = ScriptDirectory.from_config(op.get_context().config)
    for made_them in ("0005", "0006"):
        scripts.get_revision(made_them).module.upgrade()
