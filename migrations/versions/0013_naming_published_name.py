"""The names a naming case publishes, frozen when the supervisor approves the notice (issue 9 part 3, issue 14).

Cases already approved take the names the public would be shown today: the trading name (else the legal name), and
the legal name only for a company with a company number (never a sole trader's own name).

Revision ID: 0013_naming_published_name
Revises: 0012_letters_outbox
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_naming_published_name"
down_revision = "0012_letters_outbox"
branch_labels = None
depends_on = None

NOT_YET_APPROVED = ("candidate", "proposed")


def upgrade():
    with op.batch_alter_table("naming_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_name", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("published_legal_name", sa.String(length=200), nullable=False,
                                      server_default=""))
    display = "coalesce(nullif(b.trading_name, ''), b.legal_name)"
    op.get_bind().execute(sa.text(
        f"UPDATE naming_case SET "
        f"published_name = (SELECT substr({display}, 1, 200) FROM business b WHERE b.id = naming_case.business_id), "
        f"published_legal_name = (SELECT substr(CASE WHEN coalesce(trim(b.company_number), '') <> '' "
        f"THEN b.legal_name ELSE {display} END, 1, 200) FROM business b WHERE b.id = naming_case.business_id) "
        f"WHERE status NOT IN ('candidate', 'proposed')"))


def downgrade():
    with op.batch_alter_table("naming_case", schema=None) as batch_op:
        batch_op.drop_column("published_legal_name")
        batch_op.drop_column("published_name")
