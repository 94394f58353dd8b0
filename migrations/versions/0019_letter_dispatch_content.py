"""A sent letter keeps the text it was sent with, now that an authority can reword its letters (issue 12 part 2).

Revision ID: 0019_letter_dispatch_content
Revises: 0018_age_check_conditions
"""
import sqlalchemy as sa
from alembic import op

revision = "0019_letter_dispatch_content"
down_revision = "0018_age_check_conditions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("letter_dispatch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("letter_dispatch", schema=None) as batch_op:
        batch_op.drop_column("content")
