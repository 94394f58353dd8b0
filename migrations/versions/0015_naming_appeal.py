"""The appeal after a decision to publish a naming entry, the correction of a published one (issue 9 part 1), and
the shops and websites an entry names, frozen on the case with its names (issue 9 part 3).

Cases already decided for publication get an appeal window from their decision date (21 days, the default), so no
entry decided before this release can be published without the business having had the chance to appeal.

Revision ID: 0015_naming_appeal
Revises: 0014_naming_withdrawal
"""
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import retail.timeutil

revision = "0015_naming_appeal"
down_revision = "0014_naming_withdrawal"
branch_labels = None
depends_on = None

STATUSES_BEFORE = ("candidate", "proposed", "approved-for-notice", "notice-sent", "representations-received",
                   "decided-publish", "no-action", "published", "removed")
STATUSES_AFTER = STATUSES_BEFORE[:6] + ("appealed",) + STATUSES_BEFORE[6:]
APPEAL_DAYS = 21


def _statuses(values) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade():
    with op.batch_alter_table("naming_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("appeal_due", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("appeal_text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("appeal_lodged_at", retail.timeutil.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("appeal_lodged_by", sa.String(length=254), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("appeal_decided_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("appeal_decided_at", retail.timeutil.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("appeal_outcome", sa.String(length=16), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("appeal_reasons", sa.Text(), nullable=False, server_default=""))
        batch_op.create_foreign_key(batch_op.f("fk_naming_case_appeal_decided_by_id_user_account"),
                                    "user_account", ["appeal_decided_by_id"], ["id"])
        batch_op.add_column(sa.Column("correction_statement", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("correction_name", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("correction_reason", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("correction_requested_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("correction_requested_at", retail.timeutil.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("corrected_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("published_places", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.create_foreign_key(batch_op.f("fk_naming_case_correction_requested_by_id_user_account"),
                                    "user_account", ["correction_requested_by_id"], ["id"])
        batch_op.drop_constraint(batch_op.f("ck_naming_case_naming_case_status"), type_="check")
        batch_op.create_check_constraint("naming_case_status", _statuses(STATUSES_AFTER))

    naming_case = sa.table("naming_case", sa.column("id", sa.Integer), sa.column("status", sa.String),
                           sa.column("decided_at", retail.timeutil.UTCDateTime(timezone=True)),
                           sa.column("updated_at", retail.timeutil.UTCDateTime(timezone=True)),
                           sa.column("appeal_due", sa.Date))
    connection = op.get_bind()
    rows = connection.execute(sa.select(naming_case.c.id, naming_case.c.decided_at, naming_case.c.updated_at)
                              .where(naming_case.c.status == "decided-publish")).all()
    for row in rows:
        decided = (row.decided_at or row.updated_at).date()
        connection.execute(naming_case.update().where(naming_case.c.id == row.id)
                           .values(appeal_due=decided + timedelta(days=APPEAL_DAYS)))


def downgrade():
    op.execute("UPDATE naming_case SET status = 'decided-publish' WHERE status = 'appealed'")
    with op.batch_alter_table("naming_case", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_naming_case_naming_case_status"), type_="check")
        batch_op.create_check_constraint("naming_case_status", _statuses(STATUSES_BEFORE))
        batch_op.drop_constraint(batch_op.f("fk_naming_case_appeal_decided_by_id_user_account"),
                                 type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_naming_case_correction_requested_by_id_user_account"),
                                 type_="foreignkey")
        for column in ("published_places", "corrected_on", "correction_requested_at", "correction_requested_by_id",
                       "correction_reason",
                       "correction_name", "correction_statement",
                       "appeal_reasons", "appeal_outcome", "appeal_decided_at", "appeal_decided_by_id",
                       "appeal_lodged_by", "appeal_lodged_at", "appeal_text", "appeal_due"):
            batch_op.drop_column(column)
