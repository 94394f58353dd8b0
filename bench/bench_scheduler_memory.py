"""Memory of a scheduler-like process over 10,000 page checks: RSS must stay under 300 MB and stop growing.

Runs MonitorScheduler.drain() round after round against 20 local hosts (one store each, 50 product pages of about
10 KB), making every store due again after each round, and prints the process's RSS (from /proc) as checks pile up.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_crawl import SERVER  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(args.hosts), str(args.products), "45"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ports = [int(p) for p in server.stdout.readline().split()]
        os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or \
            f"sqlite:///{tempfile.mkdtemp()}/memory.sqlite3"
        os.environ.setdefault("RETAIL_ENV", "development")
        import sqlalchemy as sa

        from retail import create_app
        from retail.extensions import db
        from retail.models.listings import ListingCheck, StoreMonitor
        from retail.scrapers import monitor as mon
        from retail.scrapers.scheduler import MonitorScheduler
        from retail.timeutil import utcnow
        from tests.factories import create_business, create_store

        app = create_app({"RETAIL_ALLOW_LOOPBACK_FETCH": True, "RETAIL_FETCH_MIN_HOST_DELAY": 0})
        with app.app_context():
            db.drop_all()
            db.create_all()
            business = create_business(legal_name="Memory Ltd", trading_name="Memory", shop=False)
            for port in ports:
                mon.ensure_monitor(create_store(business, url=f"http://127.0.0.1:{port}/")).listing_cap = args.products
            db.session.commit()
            db.session.remove()
        # One long-lived scheduler, as in production: the same fetcher, pool and caches across rounds.
        scheduler = MonitorScheduler(app, workers=args.workers, owner="memory-bench")
        print(f"start: RSS {rss_mb():.0f} MB")
        checks, samples, started = 0, [], time.perf_counter()
        while checks < args.checks:
            scheduler.drain(poll=0.02)
            with app.app_context():
                checks = db.session.scalar(sa.select(sa.func.count()).select_from(ListingCheck))
                db.session.execute(sa.update(StoreMonitor.__table__).values(next_due_at=utcnow()))
                db.session.commit()
                db.session.remove()
            samples.append((checks, rss_mb()))
            print(f"{checks:6d} checks: RSS {samples[-1][1]:.0f} MB ({time.perf_counter() - started:.0f} s)")
        scheduler.shutdown()
        half = [rss for n, rss in samples if n >= checks / 2]
        print(f"after {checks} checks: RSS {samples[-1][1]:.0f} MB (target < 300 MB); "
              f"growth over the second half: {half[-1] - half[0]:+.1f} MB")
    finally:
        server.stdin.close()
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
