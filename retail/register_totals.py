"""The register's totals on every staff home page (businesses, trading shops), kept by the database itself.

Counting 224,000 businesses and 250,000 shops took 23 ms of PostgreSQL on each home page at UK scale. The totals live
in `register_total` instead, and triggers on `business` and `premises` move them in the same transaction as the rows
they count, however those rows are written (a form, an import, the seed's COPY, SQL by hand):

- PostgreSQL: statement-level triggers read the statement's transition tables, so a load of 250,000 rows makes one
  update of the total, not 250,000;
- SQLite: row-level triggers (SQLite writes one transaction at a time, and updates a row in place).

Each add is an upsert, so a total whose row was deleted starts again from its delta; `recount()` (nightly) puts the
totals right from a real count should anything ever bypass the triggers (a TRUNCATE of one table, triggers disabled).
"""
from __future__ import annotations

import sqlalchemy as sa

from .extensions import db
from .models.register import Business, Premises, PremisesStatus, RegisterTotal

BUSINESSES, TRADING_PREMISES = "businesses", "trading_premises"
_TRADING = PremisesStatus.TRADING.value


def _add(total: str, delta: str) -> str:
    """SQL adding `delta` to a total (both dialects spell the upsert alike)."""
    return (f"INSERT INTO register_total (name, value) VALUES ('{total}', {delta}) "
            "ON CONFLICT (name) DO UPDATE SET value = register_total.value + excluded.value")


def _sqlite_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER register_total_business_insert AFTER INSERT ON business BEGIN "
        f"{_add(BUSINESSES, '1')}; END",
        f"CREATE TRIGGER register_total_business_delete AFTER DELETE ON business BEGIN "
        f"{_add(BUSINESSES, '-1')}; END",
        f"CREATE TRIGGER register_total_premises_insert AFTER INSERT ON premises WHEN NEW.status = '{_TRADING}' BEGIN "
        f"{_add(TRADING_PREMISES, '1')}; END",
        f"CREATE TRIGGER register_total_premises_delete AFTER DELETE ON premises WHEN OLD.status = '{_TRADING}' BEGIN "
        f"{_add(TRADING_PREMISES, '-1')}; END",
        f"CREATE TRIGGER register_total_premises_status AFTER UPDATE OF status ON premises "
        f"WHEN (OLD.status = '{_TRADING}') <> (NEW.status = '{_TRADING}') BEGIN "
        f"{_add(TRADING_PREMISES, f'CASE WHEN NEW.status = {_TRADING!r} THEN 1 ELSE -1 END')}; END",
    ]


# (trigger and function name, table, event, transition tables, the delta as SQL over them)
_POSTGRES = [
    ("register_total_business_insert", "business", "INSERT", "NEW TABLE AS new_rows", BUSINESSES,
     "(SELECT count(*) FROM new_rows)"),
    ("register_total_business_delete", "business", "DELETE", "OLD TABLE AS old_rows", BUSINESSES,
     "-(SELECT count(*) FROM old_rows)"),
    ("register_total_premises_insert", "premises", "INSERT", "NEW TABLE AS new_rows", TRADING_PREMISES,
     f"(SELECT count(*) FROM new_rows WHERE status = '{_TRADING}')"),
    ("register_total_premises_delete", "premises", "DELETE", "OLD TABLE AS old_rows", TRADING_PREMISES,
     f"-(SELECT count(*) FROM old_rows WHERE status = '{_TRADING}')"),
    ("register_total_premises_update", "premises", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
     TRADING_PREMISES, f"(SELECT count(*) FROM new_rows WHERE status = '{_TRADING}') - "
                       f"(SELECT count(*) FROM old_rows WHERE status = '{_TRADING}')"),
]


def _postgres_triggers() -> list[str]:
    # Every trigger touches both totals, businesses first, even to add 0: two transactions that write businesses and
    # shops in opposite orders (an import adding a shop, then a business; an officer adding a business with its
    # shop) then lock the two rows in the same order and cannot deadlock. A statement that changes neither total
    # (an edit of a shop's address) locks nothing.
    both = ("INSERT INTO register_total (name, value) VALUES ('businesses', {b}), ('trading_premises', {p}) "
            "ON CONFLICT (name) DO UPDATE SET value = register_total.value + excluded.value")
    statements = []
    for name, table, event, transition, total, delta in _POSTGRES:
        add = both.format(b="delta" if total == BUSINESSES else "0", p="delta" if total == TRADING_PREMISES else "0")
        statements.append(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"DECLARE delta bigint := {delta};\n"
            f"BEGIN\n  IF delta <> 0 THEN\n    {add};\n  END IF;\n  RETURN NULL;\nEND $$")
        statements.append(f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transition} "
                          f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
    return statements


def install(connection) -> None:
    """Create the triggers (the migration, and the tests' schema built from the models), then count what is there:
    in one transaction, so no row is written between the count and the first trigger."""
    statements = _postgres_triggers() if connection.dialect.name == "postgresql" else _sqlite_triggers()
    for statement in statements:
        connection.exec_driver_sql(statement)
    _write_counts(connection)


def uninstall(connection) -> None:
    if connection.dialect.name == "postgresql":
        for name, table, *_rest in _POSTGRES:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in ("business_insert", "business_delete", "premises_insert", "premises_delete", "premises_status"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS register_total_{name}")


def _write_counts(connection) -> dict[str, int]:
    counts = {
        BUSINESSES: connection.execute(sa.select(sa.func.count()).select_from(Business.__table__)).scalar_one(),
        TRADING_PREMISES: connection.execute(sa.select(sa.func.count()).select_from(Premises.__table__).where(
            Premises.__table__.c.status == _TRADING)).scalar_one(),
    }
    table = RegisterTotal.__table__
    connection.execute(table.delete())
    connection.execute(table.insert(), [{"name": name, "value": value} for name, value in counts.items()])
    return counts


def totals() -> dict[str, int]:
    """{"businesses": n, "trading_premises": n}: one read of a two-row table."""
    found = dict(db.session.execute(sa.select(RegisterTotal.name, RegisterTotal.value)).all())
    return {BUSINESSES: found.get(BUSINESSES, 0), TRADING_PREMISES: found.get(TRADING_PREMISES, 0)}


def recount() -> dict[str, int]:
    """Nightly: set the totals from a real count (they drift only if something bypassed the triggers). Commits.
    The tables are locked against writes for the count on PostgreSQL, so no row slips between count and write."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("LOCK TABLE business, premises IN SHARE MODE")
    counts = _write_counts(connection)
    db.session.commit()
    return counts
