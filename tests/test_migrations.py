"""The schema comes only from migrations: upgrading an empty database gives exactly what the models describe."""
import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from retail import create_app
from retail.extensions import db


@pytest.fixture
def empty_database_url(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield "sqlite:///" + str(tmp_path / "migrations.sqlite3")
        return
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = "retail_migrations_check"
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    yield url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def test_migrations_match_the_models(empty_database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    app = create_app({"TESTING": True, "ENV_NAME": "testing"})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations disagree (run `flask db migrate`): {diff}"
        # The audit log is append-only in the database itself, not just by convention.
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO audit_entry (at, actor, action, record_type, record_id, changes) "
                                 "VALUES (CURRENT_TIMESTAMP, 'test', 'create', 'Business', 1, '{}')"))
        for statement in ("UPDATE audit_entry SET actor = 'someone else'", "DELETE FROM audit_entry"):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                with db.engine.begin() as conn:
                    conn.execute(sa.text(statement))
        # And the way back works, so a bad release can be rolled back.
        downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() in ([], ["alembic_version"])
        db.engine.dispose()
