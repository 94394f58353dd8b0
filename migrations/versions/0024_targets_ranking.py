"""The online test purchase targets' ranking kept on store_monitor (target group, weight, failed online test
purchases, RRA), with an index the targets page reads instead of counting failures and RRAs for every store on each
load (issue 15). Filled here for the stores already monitored; kept by scrapers.targets.refresh_ranking from then on.

Revision ID: 0024_targets_ranking
Revises: 0023_letters_carry_operation
"""
import sqlalchemy as sa
from alembic import op

revision = "0024_targets_ranking"
down_revision = "0023_letters_carry_operation"
branch_labels = None
depends_on = None

# The ranking as of this migration, in plain SQL (the model may change later; this must not).
FILL = """
UPDATE store_monitor SET
  target_group = CASE
    WHEN (age_check IN ('none', 'weak') AND risky_listings > 0) OR prohibited_count > 0
         OR (age_check = 'strong' AND check_at_sale = {false} AND bladed_listings > 0)
    THEN CASE age_check WHEN 'none' THEN 0 WHEN 'weak' THEN 1 ELSE 2 END END,
  target_weight = risky_listings + prohibited_count,
  online_failures = (SELECT count(*) FROM test_purchase
                     WHERE test_purchase.online_store_id = store_monitor.online_store_id
                       AND test_purchase.channel = 'online' AND test_purchase.failed = {true}),
  rra_active = EXISTS (SELECT 1 FROM rra_signature JOIN online_store
                         ON online_store.business_id = rra_signature.business_id
                       WHERE online_store.id = store_monitor.online_store_id AND rra_signature.status = 'active')
"""


def upgrade():
    with op.batch_alter_table("store_monitor") as batch_op:
        batch_op.add_column(sa.Column("target_group", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("target_weight", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("online_failures", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("rra_active", sa.Boolean(), nullable=False, server_default=sa.false()))
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(FILL.format(true="true" if postgres else "1", false="false" if postgres else "0"))
    op.create_index("ix_store_monitor_target_rank", "store_monitor",
                    ["target_group", "target_weight", "online_failures", "rra_active", "online_store_id"])


def downgrade():
    op.drop_index("ix_store_monitor_target_rank", table_name="store_monitor")
    with op.batch_alter_table("store_monitor") as batch_op:
        batch_op.drop_column("rra_active")
        batch_op.drop_column("online_failures")
        batch_op.drop_column("target_weight")
        batch_op.drop_column("target_group")
