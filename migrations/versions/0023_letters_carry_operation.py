"""Letters and follow-up actions carry their test purchase's operation, so the rule "records of operations shared
with us" reads the shared operations directly instead of listing every test purchase made in them (issue 15: on
PostgreSQL that list was built twice, by the app's rule and by the row-level security policy, on each count of the
officer's home page).

Revision ID: 0023_letters_carry_operation
Revises: 0022_check_evidence_index
"""
import sqlalchemy as sa
from alembic import op

from retail.scoping import install_row_level_security

revision = "0023_letters_carry_operation"
down_revision = "0022_check_evidence_index"
branch_labels = None
depends_on = None

TABLES = ("notification_letter", "follow_up_action")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("operation_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(f"fk_{table}_operation_id_operation", "operation", ["operation_id"], ["id"])
            batch_op.create_index(f"ix_{table}_operation_id", ["operation_id"], unique=False)
        op.execute(f"UPDATE {table} SET operation_id = (SELECT test_purchase.operation_id FROM test_purchase "
                   f"WHERE test_purchase.id = {table}.test_purchase_id)")
    install_row_level_security(op.get_bind())


def downgrade():
    install_row_level_security(op.get_bind(), carry_operation=False)  # the policies no longer read the column
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_operation_id")
            batch_op.drop_constraint(f"fk_{table}_operation_id_operation", type_="foreignkey")
            batch_op.drop_column("operation_id")
