"""How long a request spent in SQL, as a standard `Server-Timing` header (issue 15 part 6: each page's time beside its
bare-SQL time). Off unless RETAIL_SERVER_TIMING=1: timings tell an outsider something about the data, so only a
benchmark or a developer switches it on. Browsers show the header in their developer tools.

The hooks are always installed and do nothing unless the setting is on for the request (one flag read), so the
setting can be switched without rebuilding the app."""
from __future__ import annotations

import time

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import event

from .extensions import db


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _started(conn, cursor, statement, parameters, context, executemany):
        if has_request_context() and g.get("_timing_on"):
            g._sql_started = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _finished(conn, cursor, statement, parameters, context, executemany):
        if has_request_context() and g.get("_sql_started") is not None:
            g._sql_ms = g.get("_sql_ms", 0.0) + (time.perf_counter() - g._sql_started) * 1000
            g._sql_count = g.get("_sql_count", 0) + 1
            g._sql_started = None

    @app.before_request
    def _request_started():
        if current_app.config.get("RETAIL_SERVER_TIMING"):
            g._timing_on = True
            g._request_started = time.perf_counter()

    @app.after_request
    def _timing_header(response):
        if g.get("_timing_on"):
            total = (time.perf_counter() - g._request_started) * 1000
            response.headers["Server-Timing"] = (f'sql;dur={g.get("_sql_ms", 0.0):.2f};'
                                                 f'desc="{g.get("_sql_count", 0)} statements", app;dur={total:.2f}')
        return response
