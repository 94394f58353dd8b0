"""A store whose pages need JavaScript is fetched with headless Chromium (issue 13 part 6).

Revision ID: 0021_store_needs_browser
Revises: 0020_listing_evidence
"""
import sqlalchemy as sa
from alembic import op

revision = "0021_store_needs_browser"
down_revision = "0020_listing_evidence"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("store_monitor", schema=None) as batch_op:
        batch_op.add_column(sa.Column("needs_browser", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("store_monitor", schema=None) as batch_op:
        batch_op.drop_column("needs_browser")
