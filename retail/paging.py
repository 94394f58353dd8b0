"""A page of a ranked list whose query must read every row to rank them (a sort on computed columns): the rows and
the total come from one statement, `count(*) OVER ()`, instead of db.paginate's page query plus a count query over
the same rows (issue 15: the monitor's targets ran their heaviest query three times per page)."""
import sqlalchemy as sa
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
