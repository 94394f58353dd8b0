"""Index the checks' link to their evidence page, so the retention job's bulk removal of old evidence (which sets the
link NULL on every check that pointed at a removed page) looks each one up instead of scanning `listing_check`.

Revision ID: 0022_check_evidence_index
Revises: 0021_store_needs_browser
"""
from alembic import op

revision = "0022_check_evidence_index"
down_revision = "0021_store_needs_browser"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_listing_check_evidence", "listing_check", ["evidence_id"])


def downgrade():
    op.drop_index("ix_listing_check_evidence", table_name="listing_check")
