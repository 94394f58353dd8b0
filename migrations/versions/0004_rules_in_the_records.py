"""The law in the records: items judged under s.141A, online sales judged per party (the courier a party of its own),
the code of practice's safeguards on each attempt, enforcement stages with court outcomes, and Primary Authority
partners from the authority register.

Older records keep NULL (or blank) for every new fact: the pages say "not recorded", nothing is guessed. Their
enforcement stage is worked out from their follow-up actions; a prosecution completed before court outcomes were
recorded is "court outcome not recorded", which does not count against the business until an officer records it.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OUTCOMES_BEFORE = ("PASS_REFUSED", "PASS_ID_REQUESTED_REFUSED", "FAIL_SOLD_NO_CHALLENGE", "FAIL_SOLD_AFTER_CHALLENGE",
                   "PASS_REFUSED_AT_CHECKOUT", "PASS_REFUSED_AT_DELIVERY", "FAIL_DELIVERED_NO_AGE_CHECK",
                   "FAIL_LEFT_UNATTENDED", "FAIL_DELIVERED_TO_LOCKER", "INCONCLUSIVE")
OUTCOMES_AFTER = OUTCOMES_BEFORE + ("FAIL_SELLER_NO_SAFEGUARDS", "PASS_SELLER_COURIER_FAILED",
                                    "NO_OFFENCE_EXEMPT_ITEM")
TYPES_BEFORE = ("independent", "multiple", "national-agreement", "online-only", "marketplace-seller")
TYPES_AFTER = TYPES_BEFORE + ("courier",)


def _in(column, values):
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade():
    bind = op.get_bind()
    with op.batch_alter_table("test_purchase") as batch_op:
        batch_op.alter_column("item_category", existing_type=sa.String(16), type_=sa.String(32),
                              existing_nullable=False)
        for column in (
            sa.Column("item_blade_length_cm", sa.Numeric(6, 2), nullable=True),
            sa.Column("item_locking", sa.Boolean(), nullable=True),
            sa.Column("item_features", sa.JSON(), nullable=True),
            sa.Column("item_cartridge_exposure_under_2mm", sa.Boolean(), nullable=True),
            sa.Column("item_traditional_or_antique", sa.Boolean(), nullable=True),
            sa.Column("item_verdict", sa.String(16), nullable=True),
            sa.Column("item_verdict_reason", sa.Text(), nullable=False, server_default=""),
            sa.Column("risk_assessment_ref", sa.String(100), nullable=False, server_default=""),
            sa.Column("officer_present", sa.Boolean(), nullable=True),
            sa.Column("photo_on_day_ref", sa.String(100), nullable=False, server_default=""),
            sa.Column("courier_business_id", sa.Integer(), nullable=True),
            sa.Column("overseas_seller", sa.Boolean(), nullable=True),
            sa.Column("residential_premises", sa.Boolean(), nullable=True),
            sa.Column("seller_result", sa.String(16), nullable=True),
            sa.Column("courier_result", sa.String(16), nullable=True),
            sa.Column("conditions", sa.JSON(), nullable=True),
            sa.Column("enforcement_stage", sa.String(32), nullable=False, server_default="undecided"),
        ):
            batch_op.add_column(column)
        batch_op.create_index(batch_op.f("ix_test_purchase_courier_business_id"), ["courier_business_id"],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_test_purchase_courier_business_id_business"), "business",
                                    ["courier_business_id"], ["id"])
        batch_op.drop_constraint(batch_op.f("ck_test_purchase_purchase_outcome"), type_="check")
        batch_op.create_check_constraint("purchase_outcome", _in("outcome", OUTCOMES_AFTER))
    # The defaults were for the rows already there; the app always writes these columns itself.
    with op.batch_alter_table("test_purchase") as batch_op:
        for name in ("item_verdict_reason", "risk_assessment_ref", "photo_on_day_ref"):
            batch_op.alter_column(name, server_default=None)

    with op.batch_alter_table("notification_letter") as batch_op:
        batch_op.add_column(sa.Column("party", sa.Enum("seller", "courier", name="letter_party", native_enum=False,
                                                       create_constraint=True, length=15),
                                      nullable=False, server_default="seller"))
    with op.batch_alter_table("follow_up_action") as batch_op:
        batch_op.add_column(sa.Column("court_outcome", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("primary_authority_notified_on", sa.Date(), nullable=True))
    with op.batch_alter_table("business") as batch_op:
        batch_op.add_column(sa.Column("primary_authority_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_business_primary_authority_id_authority"), "authority",
                                    ["primary_authority_id"], ["id"])
        batch_op.drop_constraint(batch_op.f("ck_business_business_type"), type_="check")
        batch_op.create_check_constraint("business_type", _in("business_type", TYPES_AFTER))

    # A recorded Primary Authority that names an authority in the register is linked to it; others stay as text.
    op.execute("UPDATE business SET primary_authority_id = (SELECT authority.id FROM authority "
               "WHERE lower(authority.name) = lower(trim(business.primary_authority))) "
               "WHERE primary_authority <> ''")

    # Each failure's enforcement stage from its follow-up actions (rules.enforcement, brief 5.3).
    from retail.rules import enforcement

    actions: dict[int, list] = {}
    for row in bind.execute(sa.text("SELECT test_purchase_id, action_type, status FROM follow_up_action")):
        actions.setdefault(row.test_purchase_id, []).append(
            enforcement.Action(action_type=row.action_type, status=row.status, court_outcome=None))
    by_stage: dict[str, list[int]] = {}
    for purchase_id, rows in actions.items():
        by_stage.setdefault(enforcement.stage(rows).value, []).append(purchase_id)
    update = sa.text("UPDATE test_purchase SET enforcement_stage = :stage WHERE id IN :ids").bindparams(
        sa.bindparam("ids", expanding=True))
    for stage, ids in by_stage.items():
        for start in range(0, len(ids), 500):
            bind.execute(update, {"stage": stage, "ids": ids[start:start + 500]})


def downgrade():
    op.execute("DELETE FROM notification_letter WHERE party = 'courier'")
    op.execute("UPDATE test_purchase SET outcome = 'INCONCLUSIVE' WHERE outcome IN "
               "('FAIL_SELLER_NO_SAFEGUARDS', 'PASS_SELLER_COURIER_FAILED', 'NO_OFFENCE_EXEMPT_ITEM')")
    op.execute("UPDATE business SET business_type = 'independent' WHERE business_type = 'courier'")
    with op.batch_alter_table("business") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_business_business_type"), type_="check")
        batch_op.create_check_constraint("business_type", _in("business_type", TYPES_BEFORE))
        batch_op.drop_constraint(batch_op.f("fk_business_primary_authority_id_authority"), type_="foreignkey")
        batch_op.drop_column("primary_authority_id")
    with op.batch_alter_table("follow_up_action") as batch_op:
        batch_op.drop_column("primary_authority_notified_on")
        batch_op.drop_column("court_outcome")
    with op.batch_alter_table("notification_letter") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_notification_letter_letter_party"), type_="check")
        batch_op.drop_column("party")
    with op.batch_alter_table("test_purchase") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_test_purchase_purchase_outcome"), type_="check")
        batch_op.create_check_constraint("purchase_outcome", _in("outcome", OUTCOMES_BEFORE))
        batch_op.drop_constraint(batch_op.f("fk_test_purchase_courier_business_id_business"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_test_purchase_courier_business_id"))
        for name in ("enforcement_stage", "conditions", "courier_result", "seller_result", "residential_premises",
                     "overseas_seller", "courier_business_id", "photo_on_day_ref", "officer_present",
                     "risk_assessment_ref", "item_verdict_reason", "item_verdict", "item_traditional_or_antique",
                     "item_cartridge_exposure_under_2mm", "item_features", "item_locking", "item_blade_length_cm"):
            batch_op.drop_column(name)
        batch_op.alter_column("item_category", existing_type=sa.String(32), type_=sa.String(16),
                              existing_nullable=False)
