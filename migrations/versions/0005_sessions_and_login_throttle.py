"""Revocable sessions and a sign-in throttle that slows guessing without locking the real user out.

- user_account.session_token: every session cookie carries it; a new token ends every older session (sign-out,
  password, role, authority or business change, deactivation). Existing users get a random one, so sessions
  issued before the upgrade end and everyone signs in again once.
- login_throttle: failed sign-ins per account, per client address and per (account, address), shared by every
  web worker. It replaces user_account.failed_logins / locked_until (the 15-minute lock anyone could trigger).

Revision ID: 0005
Revises: 0004
"""
import secrets

import sqlalchemy as sa
from alembic import op

import retail.timeutil

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_token", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    users = sa.table("user_account", sa.column("id", sa.Integer), sa.column("session_token", sa.String))
    for (user_id,) in bind.execute(sa.select(users.c.id)).all():
        bind.execute(users.update().where(users.c.id == user_id).values(session_token=secrets.token_urlsafe(32)))
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.alter_column("session_token", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("locked_until")

    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", retail.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", retail.timeutil.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_throttle_last_failure_at"), ["last_failure_at"], unique=False)
    if bind.dialect.name == "postgresql":
        # Sign-in runs before any scope is set, but the scoped role reads users too: give it the new table.
        bind.exec_driver_sql("DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'retail_scoped') THEN "
                             "GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttle TO retail_scoped; END IF; END $$")


def downgrade():
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttle_last_failure_at"))
    op.drop_table("login_throttle")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", retail.timeutil.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_column("session_token")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.alter_column("failed_logins", existing_type=sa.Integer(), server_default=None)
