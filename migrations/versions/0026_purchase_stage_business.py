"""Index test purchases by stage and business: the full rescore reads concluded attempts one range of business ids
at a time (so its memory stays that of one batch), and with the stage alone indexed SQLite walked every concluded
attempt for each batch (UK scale: 7.1 s in one batch became 11.8 s in twelve). The naming candidates' evidence reads
the same index, one range per business.

Index current scores by pending enforcement: the candidates page lists the businesses held back by a pending caution
or prosecution, which read every current score (UK scale, PostgreSQL: 50 ms a page).

Revision ID: 0026_purchase_stage_business
Revises: 0025_premises_status_index
"""
from alembic import op

revision = "0026_purchase_stage_business"
down_revision = "0025_premises_status_index"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_test_purchase_stage_business", "test_purchase", ["stage", "business_id"])
    op.drop_index("ix_test_purchase_stage", table_name="test_purchase")
    op.create_index("ix_compliance_score_current_pending", "compliance_score", ["current", "enforcement_pending"])


def downgrade():
    op.drop_index("ix_compliance_score_current_pending", table_name="compliance_score")
    op.create_index("ix_test_purchase_stage", "test_purchase", ["stage"])
    op.drop_index("ix_test_purchase_stage_business", table_name="test_purchase")
