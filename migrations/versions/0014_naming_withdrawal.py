"""Withdrawal of a published naming entry by two supervisors, and the date open-data re-users follow (issue 9).

Revision ID: 0014_naming_withdrawal
Revises: 0013_naming_published_name
"""
import sqlalchemy as sa
from alembic import op

import retail.timeutil

revision = "0014_naming_withdrawal"
down_revision = "0013_naming_published_name"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("naming_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawal_requested_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("withdrawal_requested_at", retail.timeutil.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("withdrawal_reason", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("withdrawn_on", sa.Date(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_naming_case_withdrawal_requested_by_id_user_account"),
                                    "user_account", ["withdrawal_requested_by_id"], ["id"])


def downgrade():
    with op.batch_alter_table("naming_case", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_naming_case_withdrawal_requested_by_id_user_account"),
                                 type_="foreignkey")
        batch_op.drop_column("withdrawn_on")
        batch_op.drop_column("withdrawal_reason")
        batch_op.drop_column("withdrawal_requested_at")
        batch_op.drop_column("withdrawal_requested_by_id")
