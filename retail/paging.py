"""Paging long lists.

`RankedPage`: a ranked list whose query must read every row to rank them (a sort on computed columns): the rows and
the total come from one statement, `count(*) OVER ()`, instead of db.paginate's page query plus a count query over
the same rows (issue 15: the monitor's targets ran their heaviest query three times per page).

`KeysetPage`: a long list in a fixed order (test purchases, visits, invitations: they grow every week), found from
the last row seen instead of an OFFSET, so the 2,000th page costs what the first does (an OFFSET reads and drops
every row before it)."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask import abort
from flask_sqlalchemy.pagination import Pagination

from .extensions import db


class RankedPage(Pagination):
    """Flask-SQLAlchemy's Pagination (page numbers, iter_pages, has_next) over plain rows of `query`."""

    def _query_items(self) -> list:
        query = self._query_args["query"]
        rows = db.session.execute(query.add_columns(sa.func.count().over().label("_total"))
                                  .limit(self.per_page).offset(self._query_offset)).all()
        self._total = rows[0][-1] if rows else None
        return [tuple(row)[:-1] for row in rows]

    def _query_count(self) -> int:
        if self._total is not None:
            return self._total
        # A page past the end has no row to carry the total: count once (rare: an old link or a typed page number).
        query = self._query_args["query"].order_by(None)
        return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def ranked_page(query, per_page: int) -> RankedPage:
    return RankedPage(query=query, per_page=per_page, error_out=False)


SEPARATOR = "~"  # not in an ISO date or time, and kept as is in a URL


class KeysetPage:
    """One page of ORM rows of `query` in the order of `keys`: (attribute, descending) pairs, the last one unique
    (the id), which the list's index serves. `after` / `before` are cursors from a page's links (the values of the
    keys of its last / first row): the page that follows or precedes it. Neither: the first page.

    Attributes the templates use: items, total, has_next, has_prev, next_cursor, prev_cursor, paged, span()."""

    def __init__(self, query, keys, per_page: int, after: str | None = None, before: str | None = None):
        self.keys = list(keys)
        self.per_page = per_page
        cursor, backwards = (before, True) if before else (after, False)
        page = query.order_by(None)
        if cursor:
            page = page.where(self._beyond(self._parse(cursor), backwards))
        order = [(column.asc() if descending == backwards else column.desc()) for column, descending in self.keys]
        rows = list(db.session.scalars(page.order_by(*order).limit(per_page + 1)))
        more = len(rows) > per_page
        rows = rows[:per_page]
        if backwards:
            rows.reverse()
        self.items = rows
        self.at_start = not cursor
        # Back from a page, the row of the cursor follows; forward from one, the row of the cursor precedes.
        self.has_next, self.has_prev = (True, more) if backwards else (more, bool(cursor))
        if not rows:  # a cursor past either end (an old link): only the way back to the start is offered
            self.has_next = self.has_prev = False
        self.next_cursor = self._format(rows[-1]) if rows and self.has_next else None
        self.prev_cursor = self._format(rows[0]) if rows and self.has_prev else None
        self.total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))

    @property
    def paged(self) -> bool:
        """The list runs over more than one page (there is a page after this one, or this is not the first)."""
        return self.has_next or not self.at_start

    def span(self, attribute: str) -> tuple | None:
        """(first row's, last row's) `attribute` on this page, where the page needs saying (keyset pages have no
        numbers); None for an empty page or a list that fits on one."""
        if not self.items or not self.paged:
            return None
        return getattr(self.items[0], attribute), getattr(self.items[-1], attribute)

    def _beyond(self, values: list, backwards: bool):
        """Rows after the cursor in the list's order (before it when going back): a lexicographic comparison
        spelled out, since the keys may run in different directions."""
        clauses = []
        for i, ((column, descending), value) in enumerate(zip(self.keys, values, strict=True)):
            later = column < value if descending != backwards else column > value
            equal_before = [c == v for (c, _), v in zip(self.keys[:i], values[:i], strict=True)]
            clauses.append(sa.and_(*equal_before, later))
        return sa.or_(*clauses)

    def _format(self, row) -> str:
        return SEPARATOR.join(_cursor_value(getattr(row, column.key)) for column, _ in self.keys)

    def _parse(self, cursor: str) -> list:
        parts = cursor.split(SEPARATOR)
        if len(parts) != len(self.keys):
            abort(400, "This page link is not valid: start again from the first page.")
        try:
            return [_parse_value(column, part) for (column, _), part in zip(self.keys, parts, strict=True)]
        except (ValueError, OverflowError):
            abort(400, "This page link is not valid: start again from the first page.")


def _cursor_value(value) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(int(value))


def _parse_value(column, text: str):
    python_type = column.type.python_type
    if python_type is date:
        return date.fromisoformat(text)
    if python_type is datetime:
        return datetime.fromisoformat(text)
    value = int(text)
    if not -2 ** 63 <= value < 2 ** 63:
        raise OverflowError(text)
    return value


def keyset_page(query, keys, per_page: int, args) -> KeysetPage:
    """The page a request's `after` / `before` arguments ask for."""
    return KeysetPage(query, keys, per_page, after=args.get("after") or None, before=args.get("before") or None)
