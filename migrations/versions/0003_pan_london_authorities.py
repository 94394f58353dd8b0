"""Pan-London: authorities and partners; every user and every owned record names its authority.

An existing single-authority database moves whole to one authority, chosen at upgrade:
    flask --app wsgi db upgrade -x authority=hackney        (or RETAIL_UPGRADE_AUTHORITY=hackney)
A database with no users and no owned records needs no choice. Premises take the authority of their borough.
On PostgreSQL, row-level security policies are installed as a second line behind the app's own scoping.

Revision ID: 0003
Revises: 0002
"""
import os

import sqlalchemy as sa
from alembic import context, op

import retail.timeutil

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OWNED = ("operation", "volunteer", "volunteer_consent", "test_purchase", "notification_letter", "follow_up_action",
         "training_session", "naming_case")
ROLES_BEFORE = ("admin", "supervisor", "officer", "police", "retailer")
ROLES_AFTER = ROLES_BEFORE + ("city-hall",)


def _authority_rows():
    from retail.authorities import standard_authorities

    now = retail.timeutil.utcnow()
    return [{**row, "kind": row["kind"].value, "active": True, "created_at": now, "updated_at": now}
            for row in standard_authorities()]


def _chosen_authority(bind, table) -> int | None:
    needs_choice = any(bind.execute(sa.text(f"SELECT 1 FROM {t} LIMIT 1")).first()
                       for t in OWNED + ("user_account",))
    code = context.get_x_argument(as_dictionary=True).get("authority") or os.environ.get("RETAIL_UPGRADE_AUTHORITY")
    if not code:
        if needs_choice:
            raise RuntimeError(
                "This database holds one authority's records. Say which authority they belong to: "
                "`flask --app wsgi db upgrade -x authority=CODE` (or RETAIL_UPGRADE_AUTHORITY=CODE), where CODE is a "
                "borough slug such as `hackney` or `city-of-london`, or `met`.")
        return None
    found = bind.execute(sa.select(table.c.id).where(table.c.code == code.strip().lower())).scalar()
    if found is None:
        raise RuntimeError(f"There is no authority with the code {code!r}: use a borough slug such as `hackney`.")
    return found


def upgrade():
    authority = op.create_table(
        "authority",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.Enum("london-borough", "other-authority", "police", "city-hall", "partnership",
                                  name="authority_kind", native_enum=False, create_constraint=True, length=23),
                  nullable=False),
        sa.Column("borough", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", retail.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", retail.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authority")),
        sa.UniqueConstraint("borough", name=op.f("uq_authority_borough")),
        sa.UniqueConstraint("code", name=op.f("uq_authority_code")),
    )
    op.bulk_insert(authority, _authority_rows())
    op.create_table(
        "operation_authority",
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["authority_id"], ["authority.id"],
                                name=op.f("fk_operation_authority_authority_id_authority")),
        sa.ForeignKeyConstraint(["operation_id"], ["operation.id"],
                                name=op.f("fk_operation_authority_operation_id_operation"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("operation_id", "authority_id", name=op.f("pk_operation_authority")),
    )
    with op.batch_alter_table("operation_authority") as batch_op:
        batch_op.create_index("ix_operation_authority_authority", ["authority_id", "operation_id"], unique=False)

    bind = op.get_bind()
    chosen = _chosen_authority(bind, authority)

    # Owned records: add the column, give every row the chosen authority, then make it required.
    for table in OWNED + ("user_account",):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("authority_id", sa.Integer(), nullable=True))
        if chosen is not None:
            op.execute(sa.text(f"UPDATE {table} SET authority_id = :a").bindparams(a=chosen))
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("authority_id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_index(batch_op.f(f"ix_{table}_authority_id"), ["authority_id"], unique=False)
            batch_op.create_foreign_key(batch_op.f(f"fk_{table}_authority_id_authority"), "authority",
                                        ["authority_id"], ["id"])
            if table == "volunteer":
                batch_op.drop_constraint(batch_op.f("uq_volunteer_code_name"), type_="unique")
                batch_op.create_unique_constraint("uq_volunteer_authority_code_name", ["authority_id", "code_name"])
            if table == "user_account":
                batch_op.drop_constraint(batch_op.f("ck_user_account_role"), type_="check")
                batch_op.create_check_constraint(
                    "role", "role IN (" + ", ".join(f"'{r}'" for r in ROLES_AFTER) + ")")

    # Premises belong to the authority of their borough.
    with op.batch_alter_table("premises") as batch_op:
        batch_op.add_column(sa.Column("authority_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_premises_authority_id"), ["authority_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_premises_authority_id_authority"), "authority",
                                    ["authority_id"], ["id"])
    op.execute("UPDATE premises SET authority_id = (SELECT id FROM authority WHERE authority.borough = premises.borough)")

    # Council references are the chosen authority's; settings were its settings.
    with op.batch_alter_table("business") as batch_op:
        batch_op.add_column(sa.Column("ref_authority_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f("uq_business_external_ref"), type_="unique")
        batch_op.create_unique_constraint("uq_business_ref_authority_external_ref",
                                          ["ref_authority_id", "external_ref"])
        batch_op.create_foreign_key(batch_op.f("fk_business_ref_authority_id_authority"), "authority",
                                    ["ref_authority_id"], ["id"])
    with op.batch_alter_table("setting") as batch_op:
        batch_op.add_column(sa.Column("authority_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f("uq_setting_key"), type_="unique")
        batch_op.create_index(batch_op.f("ix_setting_authority_id"), ["authority_id"], unique=False)
        batch_op.create_unique_constraint("uq_setting_authority_key", ["authority_id", "key"])
        batch_op.create_foreign_key(batch_op.f("fk_setting_authority_id_authority"), "authority",
                                    ["authority_id"], ["id"])
    if chosen is not None:
        op.execute(sa.text("UPDATE business SET ref_authority_id = :a WHERE external_ref IS NOT NULL")
                   .bindparams(a=chosen))
        # The old authority name was the letterhead's: it stays that authority's letterhead.
        op.execute(sa.text("UPDATE setting SET authority_id = :a").bindparams(a=chosen))

    if bind.dialect.name == "postgresql":
        from retail.scoping import install_row_level_security

        install_row_level_security(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in OWNED + ("naming_step", "naming_attachment"):
            op.execute(f"DROP POLICY IF EXISTS scoped_by_authority ON {table}")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    with op.batch_alter_table("setting") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_setting_authority_id_authority"), type_="foreignkey")
        batch_op.drop_constraint("uq_setting_authority_key", type_="unique")
        batch_op.drop_index(batch_op.f("ix_setting_authority_id"))
        batch_op.create_unique_constraint(batch_op.f("uq_setting_key"), ["key"])
        batch_op.drop_column("authority_id")
    with op.batch_alter_table("business") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_business_ref_authority_id_authority"), type_="foreignkey")
        batch_op.drop_constraint("uq_business_ref_authority_external_ref", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_business_external_ref"), ["external_ref"])
        batch_op.drop_column("ref_authority_id")
    with op.batch_alter_table("premises") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_premises_authority_id_authority"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_premises_authority_id"))
        batch_op.drop_column("authority_id")
    op.execute("DELETE FROM user_account WHERE role = 'city-hall'")
    for table in reversed(OWNED + ("user_account",)):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_authority_id_authority"), type_="foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_authority_id"))
            if table == "volunteer":
                batch_op.drop_constraint("uq_volunteer_authority_code_name", type_="unique")
                batch_op.create_unique_constraint(batch_op.f("uq_volunteer_code_name"), ["code_name"])
            if table == "user_account":
                batch_op.drop_constraint(batch_op.f("ck_user_account_role"), type_="check")
                batch_op.create_check_constraint(
                    "role", "role IN (" + ", ".join(f"'{r}'" for r in ROLES_BEFORE) + ")")
            batch_op.drop_column("authority_id")
    with op.batch_alter_table("operation_authority") as batch_op:
        batch_op.drop_index("ix_operation_authority_authority")
    op.drop_table("operation_authority")
    op.drop_table("authority")
