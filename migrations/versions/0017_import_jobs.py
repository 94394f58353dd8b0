"""Large register imports run in the background with their progress (issue 14).

Revision ID: 0017_import_jobs
Revises: 0016_operation_targets
"""
import sqlalchemy as sa
from alembic import op

import retail.timeutil

revision = "0017_import_jobs"
down_revision = "0016_operation_targets"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("rows_total", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("rows_done", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("progress_at", retail.timeutil.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        for column in ("error", "progress_at", "rows_done", "rows_total", "status"):
            batch_op.drop_column(column)
