"""Moving personal values out of the append-only audit log into the erasable `audit_personal` table.

Run by the migration that introduced `audit_personal`, and by any later migration that declares a new personal field
(`__audit_personal__` on the model): entries already masked are left as they are, so it can run again safely.
"""
import sqlalchemy as sa

from ..audit import PERSONAL_MARK, personal_fields_by_type, split_personal
from ..extensions import db


def _audit_triggers(connection) -> list[str]:
    if connection.dialect.name == "postgresql":
        return [row[0] for row in connection.exec_driver_sql(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_entry'::regclass AND NOT tgisinternal")]
    return [row[0] for row in connection.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entry'")]


def _sqlite_trigger_sql(connection) -> list[str]:
    return [row[0] for row in connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entry'")]


def move_personal_values(connection) -> int:
    """Mask every declared personal field in existing audit entries, keeping the values in `audit_personal`.
    The append-only triggers are lifted for this one rewrite (inside the migration's transaction) and restored."""
    by_type = personal_fields_by_type()
    tables = {m.class_.__name__: m.local_table for m in db.Model.registry.mappers}
    audit = sa.table("audit_entry", sa.column("id", sa.Integer), sa.column("record_type", sa.String),
                     sa.column("record_id", sa.Integer), sa.column("changes", sa.JSON))
    personal = sa.table("audit_personal", sa.column("audit_entry_id", sa.Integer),
                        sa.column("authority_id", sa.Integer), sa.column("record_type", sa.String),
                        sa.column("record_id", sa.Integer), sa.column("changes", sa.JSON))
    rewrites, held_rows = [], []
    for record_type, fields in by_type.items():
        owners = {}
        table = tables.get(record_type)
        if table is not None and "authority_id" in table.c:
            owners = dict(connection.execute(sa.select(table.c.id, table.c.authority_id)).all())
        for entry_id, record_id, changes in connection.execute(
                sa.select(audit.c.id, audit.c.record_id, audit.c.changes).where(audit.c.record_type == record_type)):
            changes = changes or {}
            if not any(key in fields and value != [None, None] and PERSONAL_MARK not in value
                       for key, value in changes.items()):
                continue
            public, held = split_personal(fields, changes)
            held = {k: v for k, v in held.items() if PERSONAL_MARK not in v}
            rewrites.append((entry_id, public))
            if held:
                held_rows.append(dict(audit_entry_id=entry_id, authority_id=owners.get(record_id),
                                      record_type=record_type, record_id=record_id, changes=held))
    if not rewrites:
        return 0
    if held_rows:
        connection.execute(sa.insert(personal), held_rows)
    postgres = connection.dialect.name == "postgresql"
    triggers = _audit_triggers(connection)
    saved = [] if postgres else _sqlite_trigger_sql(connection)
    for name in triggers:
        connection.exec_driver_sql(f"ALTER TABLE audit_entry DISABLE TRIGGER {name}" if postgres
                                   else f"DROP TRIGGER {name}")
    for entry_id, public in rewrites:
        connection.execute(sa.update(audit).where(audit.c.id == entry_id).values(changes=public))
    for name in triggers if postgres else ():
        connection.exec_driver_sql(f"ALTER TABLE audit_entry ENABLE TRIGGER {name}")
    for sql in saved:
        connection.exec_driver_sql(sql)
    return len(rewrites)
