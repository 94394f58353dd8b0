"""Advice visits: an officer's visit to a shop (who was seen, what was checked, the advice left, next visit due).

Owned by the visiting officer's authority, with its row-level security rule (see retail.scoping.RLS_RULES).

Revision ID: 0011_advice_visits
Revises: 0007_retention
"""
import sqlalchemy as sa
from alembic import op

import retail.timeutil

revision = "0011_advice_visits"
down_revision = "0007_retention"
branch_labels = None
depends_on = None

CHECKS = ("display_check", "challenge25_policy_check", "signage_check", "refusals_log_check", "till_prompts_check",
          "training_check")


def _check(name):
    return sa.Column(name, sa.Enum("in-place", "advice", "not-checked", name=name, native_enum=False,
                                   create_constraint=True, length=19), nullable=False)


def upgrade():
    op.create_table(
        "advice_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("premises_id", sa.Integer(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("officer_name", sa.String(length=120), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("person_seen", sa.String(length=120), nullable=False),
        sa.Column("person_role", sa.String(length=120), nullable=False),
        *[_check(name) for name in CHECKS],
        sa.Column("staff_trained_on", sa.Date(), nullable=True),
        sa.Column("rra", sa.Enum("already-signed", "signed", "offered", "declined", "not-offered", name="visit_rra",
                                 native_enum=False, create_constraint=True, length=22), nullable=False),
        sa.Column("advice_given", sa.Text(), nullable=False),
        sa.Column("photo_refs", sa.String(length=500), nullable=False),
        sa.Column("next_visit_due", sa.Date(), nullable=True),
        sa.Column("officer_notes", sa.Text(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", retail.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", retail.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["authority_id"], ["authority.id"], name=op.f("fk_advice_visit_authority_id_authority")),
        sa.ForeignKeyConstraint(["business_id"], ["business.id"], name=op.f("fk_advice_visit_business_id_business")),
        sa.ForeignKeyConstraint(["officer_id"], ["user_account.id"],
                                name=op.f("fk_advice_visit_officer_id_user_account")),
        sa.ForeignKeyConstraint(["premises_id"], ["premises.id"], name=op.f("fk_advice_visit_premises_id_premises")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advice_visit")),
    )
    with op.batch_alter_table("advice_visit", schema=None) as batch_op:
        batch_op.create_index("ix_advice_visit_premises_on", ["premises_id", "visited_on"], unique=False)
        batch_op.create_index("ix_advice_visit_business", ["business_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_advice_visit_authority_id"), ["authority_id"], unique=False)

    from retail.scoping import install_row_level_security

    install_row_level_security(op.get_bind())


def downgrade():
    with op.batch_alter_table("advice_visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advice_visit_authority_id"))
        batch_op.drop_index("ix_advice_visit_business")
        batch_op.drop_index("ix_advice_visit_premises_on")
    op.drop_table("advice_visit")
