"""Evidence of what a listing said: the page as fetched with its SHA-256, and a screenshot (issue 13 part 5).

Revision ID: 0020_listing_evidence
Revises: 0019_letter_dispatch_content
"""
import sqlalchemy as sa
from alembic import op

from retail.timeutil import UTCDateTime

revision = "0020_listing_evidence"
down_revision = "0019_letter_dispatch_content"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "listing_evidence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("listing_id", sa.Integer(), sa.ForeignKey("listing.id", ondelete="CASCADE"), nullable=False),
        sa.Column("online_store_id", sa.Integer(), sa.ForeignKey("online_store.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("html_gz", sa.LargeBinary(), nullable=False),
        sa.Column("final_url", sa.String(1000), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("first_fetched_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_fetched_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("screenshot_png", sa.LargeBinary(), nullable=True),
        sa.Column("screenshot_sha256", sa.String(64), nullable=True),
        sa.Column("screenshot_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("screenshot_error", sa.Text(), nullable=False),
        sa.UniqueConstraint("listing_id", "sha256", name="uq_listing_evidence_page"),
    )
    op.create_index("ix_listing_evidence_store", "listing_evidence", ["online_store_id", "first_fetched_at"])
    with op.batch_alter_table("listing_check", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_listing_check_evidence_id_listing_evidence", "listing_evidence",
                                    ["evidence_id"], ["id"], ondelete="SET NULL")


def downgrade():
    with op.batch_alter_table("listing_check", schema=None) as batch_op:
        batch_op.drop_constraint("fk_listing_check_evidence_id_listing_evidence", type_="foreignkey")
        batch_op.drop_column("evidence_id")
    op.drop_index("ix_listing_evidence_store", table_name="listing_evidence")
    op.drop_table("listing_evidence")
