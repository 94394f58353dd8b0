"""The register's totals (businesses, trading shops) on every staff home page, kept by triggers: counting 224,000
businesses and 250,000 shops took 23 ms of PostgreSQL on each home page at UK scale (issue 15: counts every home page
shows come from an index or a maintained counter). See retail/register_totals.py for the triggers.

Revision ID: 0027_register_totals
Revises: 0026_purchase_stage_business
"""
import sqlalchemy as sa
from alembic import op

revision = "0027_register_totals"
down_revision = "0026_purchase_stage_business"
branch_labels = None
depends_on = None


def upgrade():
    from retail import register_totals

    op.create_table(
        "register_total",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_register_total")),
    )
    register_totals.install(op.get_bind())  # the triggers, then today's counts, in this transaction
    # A signed-in user's writes run as the row-level security role, and their triggers write the totals: grant it.
    from retail.scoping import install_row_level_security

    install_row_level_security(op.get_bind())


def downgrade():
    from retail import register_totals

    register_totals.uninstall(op.get_bind())
    op.drop_table("register_total")
