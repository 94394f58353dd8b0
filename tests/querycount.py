"""Count the SQL statements a piece of code runs (issue 15: a page or export runs a fixed number of queries,
whatever the number of rows)."""
from contextlib import contextmanager

from sqlalchemy import event

from retail.extensions import db


@contextmanager
def counted_statements():
    """Yields the list of statements run inside the block (PostgreSQL's scope switches, `set_config`, left out:
    they are not queries of ours)."""
    statements: list[str] = []

    def record(conn, cursor, statement, *rest):
        if "set_config" not in statement and not statement.lstrip().upper().startswith(("SET ", "RESET ")):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
