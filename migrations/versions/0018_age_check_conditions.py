"""The s.141B conditions a listing's strong age check covers, and whether a store checks age at the sale (issue 13).

Revision ID: 0018_age_check_conditions
Revises: 0017_import_jobs
"""
import sqlalchemy as sa
from alembic import op

revision = "0018_age_check_conditions"
down_revision = "0017_import_jobs"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conditions", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("store_monitor", schema=None) as batch_op:
        batch_op.add_column(sa.Column("check_at_sale", sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table("store_monitor", schema=None) as batch_op:
        batch_op.drop_column("check_at_sale")
    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.drop_column("conditions")
