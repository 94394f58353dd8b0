"""Measures dashboard benchmark: median server time of every dashboard view at `uk` scale.

    python bench/bench_dashboard.py [--db sqlite:////tmp/uk.sqlite3] [--scale uk] [--runs 20]

The database comes from --db, else DASHBOARD_BENCH_DATABASE_URL, else BENCH_DATABASE_URL, else
bench/results/<scale>-dashboard.sqlite3. An empty database gets the schema from the models (`create_all`: the
migrations are generated at the end) and the `seed-demo` data at that scale. If an area's demo generator is not
there yet (test purchases, training, monitor), the script tops the empty table up with synthetic rows of the
expected volume (~200k test purchases at uk scale) so the figures stay meaningful. Requests go through the Flask
test client (server time, no network), logged in as the demo supervisor.
"""
import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DATA, PASSWORD, logged_in_client  # noqa: E402

VOLUMES = {"small": 400, "london": 12_000, "uk": 200_000}  # test purchases


def database_url(scale: str, given: str | None) -> str:
    url = given or os.environ.get("DASHBOARD_BENCH_DATABASE_URL") or os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url if "://" in url else f"sqlite:///{Path(url).resolve()}"
    DATA.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DATA / f'{scale}-dashboard.sqlite3'}"


def prepare(app, scale: str) -> None:
    import sqlalchemy as sa

    from retail.audit import acting_as
    from retail.demo import seed
    from retail.extensions import db
    from retail.models.register import Business

    with app.app_context():
        db.create_all()
        if not db.session.scalar(sa.select(sa.func.count()).select_from(Business)):
            started = time.monotonic()
            with acting_as("cli:bench-dashboard"):
                seed(scale, PASSWORD, 2017)
            print(f"seeded {scale} in {time.monotonic() - started:.0f} s")
            top_up(scale)
            if db.engine.dialect.name == "postgresql":
                # Production has autovacuum; a freshly bulk-loaded database needs statistics (and the visibility
                # map for index-only scans) before its plans mean anything.
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(sa.text("VACUUM ANALYZE"))
        else:
            top_up(scale)


def top_up(scale: str) -> None:
    """Fill area tables the demo generators left empty (their generators may not exist yet) with synthetic rows."""
    import sqlalchemy as sa

    from retail.demo import bulk_insert
    from retail.extensions import db
    from retail.models.register import OnlineStore, Premises
    from retail.timeutil import today_london

    rng = random.Random(5)
    today = today_london()
    now = datetime.now(UTC)
    premises = db.session.execute(sa.select(Premises.id, Premises.business_id)).all()
    stores = db.session.execute(sa.select(OnlineStore.id, OnlineStore.business_id)).all()
    try:
        from retail.models.purchases import Outcome, TestPurchase
    except ImportError:
        TestPurchase = None
    if TestPurchase is not None and not db.session.scalar(sa.select(sa.func.count()).select_from(TestPurchase)):
        started = time.monotonic()
        rows = []
        for i in range(VOLUMES[scale]):
            online = stores and rng.random() < 0.15
            kind = "underage" if rng.random() < 0.8 else "challenge25"
            day = today - timedelta(days=rng.randrange(730))
            failed = rng.random() < (0.12 if kind == "underage" else 0.3)
            row = {"id": i + 1, "kind": kind, "stage": "concluded", "purchase_date": day, "concluded_on": day,
                   "version": 1, "created_at": now, "updated_at": now, "item_category": "kitchen",
                   "id_shown": "none", "item_retained": False, "amendment_count": 0,
                   "checkout_failed": False, "dispatch_failed": False, "courier_failed": False, "failed": failed}
            if online:
                store_id, business_id = rng.choice(stores)
                party = rng.choice(("checkout", "dispatch", "courier"))
                fail = Outcome.FAIL_DELIVERED_NO_AGE_CHECK if party != "courier" else Outcome.FAIL_LEFT_UNATTENDED
                outcome = fail if failed else Outcome.PASS_REFUSED_AT_CHECKOUT
                row.update(channel="online", online_store_id=store_id, premises_id=None, business_id=business_id,
                           outcome=outcome.value, **({f"{party}_failed": True} if failed else {}))
            else:
                premises_id, business_id = rng.choice(premises)
                outcome = Outcome.FAIL_SOLD_NO_CHALLENGE if failed else Outcome.PASS_REFUSED
                if rng.random() < 0.02:
                    outcome, row["failed"] = Outcome.INCONCLUSIVE, False
                row.update(channel="in-store", premises_id=premises_id, online_store_id=None,
                           business_id=business_id, outcome=outcome.value)
            rows.append(row)
        bulk_insert(TestPurchase.__table__, rows)
        db.session.commit()
        print(f"topped up {len(rows)} synthetic test purchases in {time.monotonic() - started:.0f} s")
    try:
        from retail.models.training import (
            TrainingAttendance,
            TrainingCourse,
            TrainingSession,
        )
    except ImportError:
        TrainingAttendance = None
    if TrainingAttendance is not None and not db.session.scalar(
            sa.select(sa.func.count()).select_from(TrainingAttendance)):
        base = {"version": 1, "created_at": now, "updated_at": now}
        bulk_insert(TrainingCourse.__table__, [{"id": 1, "title": "Bench course", "provider": "",
                                                "duration_minutes": 150, "has_exam": True, "pass_mark": 70,
                                                "validity_months": 12, "description": "", "active": True, **base}])
        sessions = [{"id": i + 1, "course_id": 1, "venue": "Town hall", "trainer": "", "capacity": 200,
                     "cancelled": False, "notes": "",
                     "starts_at": datetime.combine(today - timedelta(days=7 * i), dtime(10), UTC), **base}
                    for i in range(100)]
        bulk_insert(TrainingSession.__table__, sessions)
        rows = []
        for i, (premises_id, business_id) in enumerate(rng.sample(premises, min(len(premises), len(premises) // 5))):
            session = rng.choice(sessions)
            expires = session["starts_at"].date() + timedelta(days=365)
            rows.append({"id": i + 1, "session_id": session["id"], "business_id": business_id,
                         "premises_id": premises_id, "person_name": "Staff member", "person_role": "",
                         "status": "attended", "passed": True, "certificate_number": f"B{i + 1}",
                         "certificate_expires": expires, **base})
        bulk_insert(TrainingAttendance.__table__, rows)
        db.session.commit()
        print(f"topped up {len(rows)} synthetic training attendances")
    try:
        from retail.models.listings import StoreMonitor
    except ImportError:
        StoreMonitor = None
    if StoreMonitor is not None and not db.session.scalar(sa.select(sa.func.count()).select_from(StoreMonitor)):
        rows = [{"id": i + 1, "online_store_id": store_id, "start_urls": "", "interval_hours": 24, "listing_cap": 40,
                 "enabled": True, "check_requested_by": "", "progress_done": 0, "progress_total": 0,
                 "last_result": {}, "age_check": rng.choice(("strong", "weak", "none", None)), "bladed_listings": 0,
                 "risky_listings": 0, "prohibited": [], "prohibited_count": 0, "verdict_reason": "", "version": 1,
                 "created_at": now, "updated_at": now}
                for i, (store_id, _) in enumerate(stores)]
        bulk_insert(StoreMonitor.__table__, rows)
        db.session.commit()
        print(f"topped up {len(rows)} synthetic store monitors")


def timed(func, runs: int, warmup: int = 2) -> tuple[float, float]:
    """Median wall-clock and median CPU milliseconds of `func`. On a shared machine the CPU time (this process:
    Flask, SQLAlchemy and, for SQLite, the database engine too) is the steadier figure; the wall time is what a
    user waits."""
    for _ in range(warmup):
        func()
    wall, cpu = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        func()
        wall.append((time.perf_counter() - w) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def run(url: str, scale: str, runs: int) -> list[tuple[str, float, float]]:
    os.environ["DATABASE_URL"] = url
    from retail import create_app

    app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    prepare(app, scale)
    client = logged_in_client(app, "supervisor@hackney.demo")
    today = date.today()
    last_year = f"from={today.replace(day=1) - timedelta(days=335):%Y-%m-01}&to={today:%Y-%m-%d}"
    pages = [
        ("overview (default: last 12 months)", "/measures"),
        ("overview, 2 years", f"/measures?from={today - timedelta(days=730):%Y-%m-%d}&to={today:%Y-%m-%d}"),
        ("overview, Hackney", "/measures?borough=hackney"),
        ("business types", "/measures/business-types"),
        ("business types, Hackney", "/measures/business-types?borough=hackney"),
        ("boroughs, map by failure rate", "/measures/boroughs"),
        ("boroughs, map by RRA adoption", "/measures/boroughs?measure=rra"),
        ("boroughs, map by training coverage", "/measures/boroughs?measure=training"),
        ("boroughs, Hackney", "/measures/boroughs?borough=hackney"),
        ("online", "/measures/online"),
        ("offenders and naming", "/measures/offenders"),
        ("CSV: months", f"/measures/months.csv?{last_year}"),
        ("CSV: boroughs", "/measures/boroughs.csv"),
        ("CSV: repeat businesses", "/measures/repeat_businesses.csv"),
    ]
    results = []
    for label, path in pages:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        results.append((label, *timed(lambda path=path: client.get(path), runs)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL or SQLite file path")
    parser.add_argument("--scale", default="uk", choices=["small", "london", "uk"])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    url = database_url(args.scale, args.db)
    results = run(url, args.scale, args.runs)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{args.scale} scale, {url.split('://')[0]} (median of {args.runs}; load average {load:.1f} "
          f"on {os.cpu_count()} cores)")
    print(f"  {'view':<40} {'wall':>9} {'cpu':>9}")
    for label, wall, cpu in results:
        flag = "" if wall < 300 else "  OVER 300 ms (wall)"
        print(f"  {label:<40} {wall:6.1f} ms {cpu:6.1f} ms{flag}")


if __name__ == "__main__":
    main()
