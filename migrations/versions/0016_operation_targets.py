"""An operation's target list, chosen from the risk-based programme (issue 11 part 2).

Revision ID: 0016_operation_targets
Revises: 0015_naming_appeal
"""
import sqlalchemy as sa
from alembic import op

import retail.timeutil
from retail.scoping import install_row_level_security

revision = "0016_operation_targets"
down_revision = "0015_naming_appeal"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "operation_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("premises_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", retail.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["operation_id"], ["operation.id"],
                                name=op.f("fk_operation_target_operation_id_operation"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["premises_id"], ["premises.id"],
                                name=op.f("fk_operation_target_premises_id_premises")),
        sa.ForeignKeyConstraint(["added_by_id"], ["user_account.id"],
                                name=op.f("fk_operation_target_added_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operation_target")),
        sa.UniqueConstraint("operation_id", "premises_id", name="uq_operation_target_pair"),
    )
    with op.batch_alter_table("operation_target", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operation_target_premises_id"), ["premises_id"], unique=False)
    install_row_level_security(op.get_bind())


def downgrade():
    with op.batch_alter_table("operation_target", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operation_target_premises_id"))
    op.drop_table("operation_target")
