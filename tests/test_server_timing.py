"""The Server-Timing header a benchmark reads (issue 15 part 6): off by default, since timings tell an outsider
something about the data; when switched on, each response says how long it spent in SQL and in how many statements."""
import re

from tests.conftest import login_as


def test_no_timing_header_unless_switched_on(client, users):
    login_as(client, users["officer"])
    assert "Server-Timing" not in client.get("/").headers


def test_switched_on_each_response_reports_its_sql_time(app, client, users, monkeypatch):
    monkeypatch.setitem(app.config, "RETAIL_SERVER_TIMING", True)
    login_as(client, users["officer"])
    header = client.get("/").headers.get("Server-Timing", "")
    sql = re.search(r'sql;dur=([\d.]+);desc="(\d+) statements"', header)
    total = re.search(r"app;dur=([\d.]+)", header)
    assert sql and total, header
    assert int(sql.group(2)) > 0 and 0 < float(sql.group(1)) <= float(total.group(1))
