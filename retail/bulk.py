"""Rows straight to the database driver, for bulk loads (the full rescore's scores, the demo seed).

SQLAlchemy's per-row parameter processing costs more than the insert itself at national scale, and on PostgreSQL
an executemany is one INSERT per row (pipelined). PostgreSQL gets COPY instead: the UK seed's 2 million rows went
from 130 s of inserts to a few seconds of COPY.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa


def _quoted(connection, table: sa.Table, columns: Sequence[str]) -> tuple[str, str]:
    """The table's name and its column list, quoted for this database."""
    quote = connection.dialect.identifier_preparer.quote
    return quote(table.name), ", ".join(quote(c) for c in columns)


def copy_rows(connection, table: sa.Table, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """PostgreSQL only: COPY `rows` (tuples in `columns` order, values as psycopg adapts them) into `table`."""
    name, names = _quoted(connection, table, columns)
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def insert_rows(connection, table: sa.Table, columns: Sequence[str], rows: list[Sequence], chunk: int = 20000) -> None:
    """Tuples of values already in the form the backend stores: COPY on PostgreSQL, the driver's executemany
    elsewhere (SQLite stores dates as ISO text: the caller converts them)."""
    if connection.dialect.name == "postgresql":
        copy_rows(connection, table, columns, rows)
        return
    name, names = _quoted(connection, table, columns)
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {name} ({names}) VALUES ({', '.join(mark for _ in columns)})"
    for start in range(0, len(rows), chunk):
        connection.exec_driver_sql(sql, rows[start:start + chunk])


def copy_dicts(connection, table: sa.Table, rows: list[Mapping]) -> None:
    """PostgreSQL: COPY rows given as dicts, as `INSERT ... VALUES` through SQLAlchemy would store them: each value
    through its column type (enums to their values, JSON to JSON), and the columns' Python-side defaults filled in
    (`created_at`, `version`...). Every row has the first row's keys."""
    if not rows:
        return
    dialect = connection.dialect
    given = list(rows[0])
    defaulted = [c for c in table.columns
                 if c.key not in rows[0] and c.default is not None and (c.default.is_scalar or c.default.is_callable)]
    processors = [table.c[key].type._cached_bind_processor(dialect) for key in given]
    default_processors = [c.type._cached_bind_processor(dialect) for c in defaulted]

    def process(value, processor):
        return value if value is None or processor is None else processor(value)

    def default_value(column):
        return column.default.arg if column.default.is_scalar else column.default.arg(None)

    def tuples():
        for row in rows:
            values = [process(row[key], p) for key, p in zip(given, processors, strict=True)]
            values += [process(default_value(c), p) for c, p in zip(defaulted, default_processors, strict=True)]
            yield values

    copy_rows(connection, table, [table.c[key].name for key in given] + [c.name for c in defaulted], tuples())
