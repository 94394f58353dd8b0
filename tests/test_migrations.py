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


def _insert(conn, table_name: str, **values) -> None:
    """Insert a row at the schema of the moment, filling every other NOT NULL column with a plain value."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=conn)
    for column in table.columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        kind = column.type.python_type if not isinstance(column.type, sa.JSON) else dict
        values[column.name] = {str: "", int: 0, bool: False, dict: {}}.get(kind) if kind not in (
            sa.Date().python_type, sa.DateTime().python_type) else sa.func.current_timestamp()
    conn.execute(table.insert().values(**values))


def test_upgrade_to_0004_keeps_every_record_and_records_unknowns_as_unknown(empty_database_url, monkeypatch):
    """Issue 8: existing records are migrated, not reset; a fact nobody recorded stays 'not recorded'. A prosecution
    completed before court outcomes were recorded does not count until an officer records how it ended."""
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    app = create_app({"TESTING": True, "ENV_NAME": "testing"})
    with app.app_context():
        upgrade(revision="0003")
        with db.engine.begin() as conn:
            hackney = conn.scalar(sa.text("SELECT id FROM authority WHERE code = 'hackney'"))
            _insert(conn, "business", id=1, legal_name="Partnered Ltd", legal_name_key="partnered ltd",
                    business_type="multiple", primary_authority="Westminster City Council")
            _insert(conn, "business", id=2, legal_name="Other Ltd", legal_name_key="other ltd",
                    business_type="independent", primary_authority="Kent County Council")
            _insert(conn, "premises", id=1, business_id=1, name="Shop", postcode="E8 1AA", postcode_key="E81AA",
                    borough="hackney", status="trading", authority_id=hackney)
            for purchase_id in (1, 2):
                _insert(conn, "test_purchase", id=purchase_id, kind="underage", channel="in-store",
                        stage="concluded", business_id=1, premises_id=1, purchase_date=sa.func.current_date(),
                        outcome="FAIL_SOLD_NO_CHALLENGE", failed=True, item_category="folding",
                        authority_id=hackney)
            _insert(conn, "follow_up_action", id=1, test_purchase_id=1, business_id=1, action_type="prosecution",
                    status="completed", decided_on=sa.func.current_date(), court_result="Guilty plea",
                    authority_id=hackney)
        upgrade()
        with db.engine.connect() as conn:
            rows = dict(conn.execute(sa.text("SELECT id, enforcement_stage FROM test_purchase")).all())
            assert rows == {1: "court-outcome-not-recorded", 2: "undecided"}
            verdicts = conn.execute(sa.text("SELECT item_verdict, item_blade_length_cm, officer_present "
                                            "FROM test_purchase")).all()
            assert set(verdicts) == {(None, None, None)}  # not recorded, never guessed
            partners = dict(conn.execute(sa.text("SELECT id, primary_authority_id FROM business")).all())
            westminster = conn.scalar(sa.text("SELECT id FROM authority WHERE code = 'westminster'"))
            assert partners == {1: westminster, 2: None}
        downgrade(revision="base")
        db.engine.dispose()


def test_upgrade_to_0007_moves_personal_values_out_of_the_append_only_log(empty_database_url, monkeypatch):
    """Issue 9 part 6: dates of birth already copied into the audit log move to the erasable side table; the log
    keeps that the field changed and stays append-only."""
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    app = create_app({"TESTING": True, "ENV_NAME": "testing"})
    with app.app_context():
        upgrade(revision="0005")
        with db.engine.begin() as conn:
            hackney = conn.scalar(sa.text("SELECT id FROM authority WHERE code = 'hackney'"))
            _insert(conn, "volunteer", id=1, code_name="OWL", date_of_birth=sa.func.current_date(),
                    authority_id=hackney)
            conn.execute(sa.text(
                "INSERT INTO audit_entry (at, actor, action, record_type, record_id, changes) VALUES "
                "(CURRENT_TIMESTAMP, 'test', 'create', 'Volunteer', 1, "
                "'{\"code_name\": [null, \"OWL\"], \"date_of_birth\": [null, \"2012-03-17\"]}')"))
        upgrade()
        with db.engine.connect() as conn:
            changes = conn.scalar(sa.text("SELECT changes FROM audit_entry WHERE record_type = 'Volunteer'"))
            changes = changes if isinstance(changes, dict) else __import__("json").loads(changes)
            assert changes == {"code_name": [None, "OWL"], "date_of_birth": [None, "(personal, held apart)"]}
            held = conn.execute(sa.text("SELECT authority_id, record_id, changes FROM audit_personal")).one()
            assert held[0] == hackney and held[1] == 1 and "2012-03-17" in str(held[2])
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with db.engine.begin() as conn:
                conn.execute(sa.text("UPDATE audit_entry SET actor = 'someone else'"))
        downgrade(revision="base")
        db.engine.dispose()
