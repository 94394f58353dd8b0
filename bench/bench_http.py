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
    engine.dispose()
    return {"chain": chain, "independent": independent, "purchase": purchase}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="london")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url = ensure_seeded(args.scale)
    ids = _sample_ids(url)
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
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
