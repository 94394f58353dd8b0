"""How long a request spent in SQL, as a standard `Server-Timing` header (issue 15 part 6: each page's time beside its
bare-SQL time). Off unless RETAIL_SERVER_TIMING=1: timings tell an outsider something about the data, so only a
benchmark or a developer switches it on. Browsers show the header in their developer tools."""
from __future__ import annotations

import time

from flask import Flask, g, has_request_context
from sqlalchemy import event

from .extensions import db


def init_app(app: Flask) -> None:
    if not app.config.get("RETAIL_SERVER_TIMING"):
        return

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _started(conn, cursor, statement, parameters, context, executemany):
        if has_request_context():
            g._sql_started = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _finished(conn, cursor, statement, parameters, context, executemany):
        if has_request_context() and g.get("_sql_started") is not None:
            g._sql_ms = g.get("_sql_ms", 0.0) + (time.perf_counter() - g._sql_started) * 1000
            g._sql_count = g.get("_sql_count", 0) + 1
            g._sql_started = None

    @app.before_request
    def _request_started():
        g._request_started = time.perf_counter()

    @app.after_request
    def _timing_header(response):
        total = (time.perf_counter() - g.get("_request_started", time.perf_counter())) * 1000
        sql = g.get("_sql_ms", 0.0)
        response.headers["Server-Timing"] = (f'sql;dur={sql:.2f};desc="{g.get("_sql_count", 0)} statements", '
                                             f"app;dur={total:.2f}")
        return response
