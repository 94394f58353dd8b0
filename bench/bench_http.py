"""Pages as a browser gets them: real HTTP against gunicorn (2 workers), signed in as a demo officer, median and p90.

    python bench/bench_http.py [--scale london] [--runs 30]            # SQLite (bench/results/<scale>.sqlite3)
    BENCH_DATABASE_URL=postgresql+psycopg://... python bench/bench_http.py --scale london   # PostgreSQL

The database is seeded once (`seed-demo --scale ...`) and kept. gunicorn runs with RETAIL_ENV=development only so
that session cookies work over plain http on 127.0.0.1; everything else is the production configuration.
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PASSWORD, ROOT, ensure_seeded  # noqa: E402

OFFICER = "officer@hackney.demo"
SUPERVISOR = "supervisor@hackney.demo"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_gunicorn(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "RETAIL_ENV": "development", "SECRET_KEY": "bench-secret-key",
           "RETAIL_SERVER_TIMING": "1"}  # each response says how long it spent in SQL
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(workers), "--timeout", "120",
                               "--bind", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            requests.get(f"http://127.0.0.1:{port}/login", timeout=5)
            return server
        except requests.RequestException:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def _signed_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    response = session.post(f"{base}/login", data={"email": email, "password": PASSWORD,
                                                   "csrf_token": token.group(1) if token else ""},
                            allow_redirects=False)
    if response.status_code != 302:
        raise RuntimeError(f"sign-in as {email} failed ({response.status_code})")
    return session


SQL_TIMING = re.compile(r'sql;dur=([\d.]+);desc="(\d+) statements"')


def _time(session: requests.Session, url: str, runs: int) -> tuple[float, float, int, float, int]:
    """Median and p90 ms as the client sees them, size, and the median ms the server spent in SQL (and statements)."""
    for _ in range(3):
        session.get(url)
    times, sql, statements, size = [], [], 0, 0
    for _ in range(runs):
        started = time.perf_counter()
        response = session.get(url)
        times.append((time.perf_counter() - started) * 1000)
        size = len(response.content)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
        timing = SQL_TIMING.search(response.headers.get("Server-Timing", ""))
        if timing:
            sql.append(float(timing.group(1)))
            statements = int(timing.group(2))
    times.sort()
    return (statistics.median(times), times[int(len(times) * 0.9) - 1], size,
            statistics.median(sql) if sql else 0.0, statements)


def _rss_mb(pids: list[int]) -> float:
    """Resident memory of the gunicorn workers, MB (summed)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _workers(server: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def _export(session: requests.Session, url: str, server: subprocess.Popen) -> tuple[float, float, int, float]:
    """The whole-register CSV as a browser downloads it: ms to the first byte, ms to the last, bytes, and the
    largest growth of the workers' memory seen while it streamed (MB)."""
    workers = _workers(server)
    before = _rss_mb(workers)
    peak = before
    started = time.perf_counter()
    first, size = None, 0
    with session.get(url, stream=True) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
        for chunk in response.iter_content(chunk_size=1 << 16):
            if first is None:
                first = (time.perf_counter() - started) * 1000
            size += len(chunk)
            peak = max(peak, _rss_mb(workers)) if size % (1 << 22) < (1 << 16) else peak
    total = (time.perf_counter() - started) * 1000
    return first or total, total, size, max(peak, _rss_mb(workers)) - before


def _bare_export_ms(url: str) -> float:
    """The same rows written by the database driver and csv.writer alone: the statement the app runs, no app."""
    import csv
    import io

    import sqlalchemy as sa

    from retail.register_export import export_statement

    engine = sa.create_engine(url)
    started = time.perf_counter()
    with engine.connect() as conn:
        out = io.StringIO()
        writer = csv.writer(out)
        result = conn.execution_options(stream_results=True, yield_per=2000).execute(export_statement())
        for rows in result.partitions():
            writer.writerows(rows)
            out.seek(0)
            out.truncate()
    engine.dispose()
    return (time.perf_counter() - started) * 1000


def _prepare_post(url: str) -> dict:
    """An operation in Hackney with a consenting volunteer, and shops to log attempts at (made once, kept)."""
    from datetime import date, timedelta

    import sqlalchemy as sa

    from retail import purchases as P
    from retail.app import create_app
    from retail.extensions import db
    from retail.models.authority import Authority
    from retail.models.purchases import Operation, Volunteer
    from retail.models.register import Premises
    from retail.scoping import AUTHORITY, Scope, acting_for

    app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        hackney = db.session.scalar(sa.select(Authority.id).where(Authority.code == "hackney"))
        with acting_for(Scope(AUTHORITY, hackney)):
            today = date.today()
            op = db.session.scalar(sa.select(Operation).where(Operation.name == "HTTP benchmark operation"))
            if op is None:
                op = P.create_operation({"name": "HTTP benchmark operation", "lead_agency": "police",
                                         "boroughs": ["hackney"], "starts_on": today - timedelta(days=1),
                                         "ends_on": today + timedelta(days=60), "officer_ids": [],
                                         "risk_assessment_ref": "RA-BENCH-HTTP"})
                volunteer = P.create_volunteer({"code_name": "BENCH-HTTP", "active": True,
                                                "date_of_birth": date(today.year - 14, 1, 1)})
                P.add_consent(op, {"volunteer_id": volunteer.id, "given_by": "Guardian", "given_on": op.starts_on,
                                   "birth_certificate_checked_by": "PC", "photo_ref": "PH-BH"})
                db.session.commit()
            volunteer = db.session.scalar(sa.select(Volunteer).where(Volunteer.code_name == "BENCH-HTTP"))
            shops = db.session.scalars(sa.select(Premises.id).where(Premises.status == "trading",
                                                                    Premises.borough == "hackney").limit(500)).all()
            return {"operation": op.id, "volunteer": volunteer.id, "shops": shops}


def _time_post(session: requests.Session, base: str, setup: dict, runs: int) -> tuple[float, float]:
    """Median and p90 ms of logging an in-store attempt (the form's POST and its redirect, not the GET)."""
    form = session.get(f"{base}/purchases/new?operation_id={setup['operation']}").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    times = []
    for n in range(runs + 3):
        data = {"kind": "underage", "operation_id": str(setup["operation"]),
                "premises_id": str(setup["shops"][n % len(setup["shops"])]), "purchase_date": time.strftime("%Y-%m-%d"),
                "volunteer_id": str(setup["volunteer"]), "staff_action": "refused", "sale_made": "no",
                "item_category": "kitchen", "id_shown": "none", "signage_seen": "", "knives_secure": "",
                "officer_present": "yes", "photo_on_day_ref": f"PH-DAY-{n}",
                "submission_token": f"bench-http-{os.getpid()}-{time.time_ns()}-{n}", "csrf_token": token}
        started = time.perf_counter()
        response = session.post(f"{base}/purchases/new", data=data, allow_redirects=False)
        if response.status_code != 302:
            errors = re.findall(r"invalid-feedback[^>]*>([^<]+)<", response.text)
            raise RuntimeError(f"logging an attempt: HTTP {response.status_code} {errors}")
        if n >= 3:
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1]


def _sample_ids(url: str) -> dict:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        chain = conn.execute(sa.text(
            "SELECT business_id FROM premises GROUP BY business_id ORDER BY count(*) DESC LIMIT 1")).scalar()
        independent = conn.execute(sa.text(
            "SELECT id FROM business WHERE business_type = 'independent' ORDER BY id LIMIT 1")).scalar()
        purchase = conn.execute(sa.text(
            "SELECT id FROM test_purchase WHERE failed AND authority_id = "
            "(SELECT id FROM authority WHERE code = 'hackney') ORDER BY id DESC LIMIT 1")).scalar()
        # A deep page of the officer's test purchases: the list's cursor three quarters of the way down Hackney's
        # own (keyset paging: it should cost what the first page does).
        hackney = "(SELECT id FROM authority WHERE code = 'hackney')"
        owned = conn.execute(sa.text(f"SELECT count(*) FROM test_purchase WHERE authority_id = {hackney}")).scalar()
        deep_date, deep_id = conn.execute(sa.text(
            f"SELECT purchase_date, id FROM test_purchase WHERE authority_id = {hackney} "
            "ORDER BY purchase_date DESC, id DESC LIMIT 1 OFFSET :skip"), {"skip": owned * 3 // 4}).one()
    engine.dispose()
    return {"chain": chain, "independent": independent, "purchase": purchase,
            "deep_cursor": f"{str(deep_date)[:10]}~{deep_id}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="london")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url = ensure_seeded(args.scale)
    ids = _sample_ids(url)
    setup = _prepare_post(url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start_gunicorn(url, port, args.workers)
    try:
        officer, supervisor = _signed_in(base, OFFICER), _signed_in(base, SUPERVISOR)
        pages = [
            ("officer home", officer, "/"),
            ("register, first page", officer, "/register"),
            ("register, postcode search", officer, "/register?q=E8"),
            ("business page (independent)", officer, f"/businesses/{ids['independent']}"),
            ("business page (largest chain)", officer, f"/businesses/{ids['chain']}"),
            ("test purchases list", officer, "/purchases"),
            ("test purchases, a page 3/4 down", officer, f"/purchases?after={ids['deep_cursor']}"),
            ("test purchase record", officer, f"/purchases/{ids['purchase']}"),
            ("monitor targets", officer, "/monitor/targets"),
            ("naming candidates", supervisor, "/compliance/candidates"),
            ("measures dashboard", supervisor, "/measures"),
            ("public register", requests.Session(), "/named"),
        ]
        engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        print(f"{engine}, scale {args.scale}, gunicorn {args.workers} workers, {args.runs} requests each")
        # SQL ms: time inside the database driver (Server-Timing); the ratio is what the page costs per ms of SQL.
        print("| page | median ms | p90 ms | SQL ms (statements) | x SQL | KB |")
        print("|---|---|---|---|---|---|")
        for label, session, path in pages:
            median, p90, size, sql, statements = _time(session, base + path, args.runs)
            ratio = f"{median / sql:.1f}" if sql else "-"
            print(f"| {label} | {median:.0f} | {p90:.0f} | {sql:.1f} ({statements}) | {ratio} | {size // 1024} |",
                  flush=True)
        median, p90 = _time_post(officer, base, setup, args.runs)
        print(f"| log an in-store attempt (POST, target < 80 ms) | {median:.0f} | {p90:.0f} | - | - | - |", flush=True)
        first, total, size, growth = _export(officer, base + "/register/export.csv", server)
        bare = _bare_export_ms(url)
        print(f"whole-register CSV export: first byte {first:.0f} ms, all {total / 1000:.1f} s, {size / 1e6:.1f} MB, "
              f"worker memory +{growth:.0f} MB; the same rows by the driver and csv.writer alone: {bare / 1000:.1f} s "
              f"({total / bare:.1f}x)", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
