"""The monitor's scheduler: claiming due stores with leases so that several schedulers (threads, processes, machines
sharing one PostgreSQL) never check the same store twice, host spreading, restarts, and the nightly job hook."""
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from retail.extensions import db
from retail.models.listings import ListingCheck, MonitorRun, SchedulerJob, StoreMonitor
from retail.scrapers import monitor as mon
from retail.scrapers import scheduler as sched
from retail.timeutil import utcnow
from tests.factories import create_business, create_store
from tests.monitor_site import Site, product_page

ROOT = Path(__file__).resolve().parents[1]


def _stores(app, urls):
    business = create_business(legal_name="Many Stores Ltd", trading_name="Many Stores", shop=False)
    stores = [create_store(business, url=url) for url in urls]
    for store in stores:
        mon.ensure_monitor(store).next_due_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    return stores


def test_a_claimed_store_is_not_claimed_again_until_its_lease_ends(app):
    stores = _stores(app, [f"https://shop{i}.example/" for i in range(6)])
    first = sched.claim_due("a", 4)
    second = sched.claim_due("b", 10)
    assert len(first) == 4 and len(second) == 2
    assert not set(first) & set(second)
    assert sched.claim_due("c", 10) == []
    # A dead worker's lease runs out: the store becomes claimable again (work is not lost).
    db.session.execute(sa.update(StoreMonitor.__table__).where(StoreMonitor.online_store_id == first[0])
                       .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert sched.claim_due("c", 10) == [first[0]]
    # The old owner can no longer finish or renew it.
    assert sched.renew_lease(first[0], "a") is False
    assert sched.complete(first[0], "a") is False
    assert sched.complete(first[0], "c") is True
    assert {s.id for s in stores} == set(first) | set(second)


def test_overdue_first_and_one_store_per_host(app):
    stores = _stores(app, ["https://same.example/a/", "https://same.example/b/", "https://other.example/"])
    db.session.execute(sa.update(StoreMonitor.__table__).where(StoreMonitor.online_store_id == stores[1].id)
                       .values(next_due_at=utcnow() - timedelta(days=3)))
    db.session.commit()
    claimed = sched.claim_due("a", 3)
    # The most overdue store first; its sibling on the same host waits so the host's delay holds.
    assert claimed == [stores[1].id, stores[2].id]
    assert sched.claim_due("b", 3) == []  # same.example is being crawled by "a"
    sched.complete(stores[1].id, "a")
    assert sched.claim_due("b", 3) == [stores[0].id]


def test_concurrent_claims_in_threads_never_overlap(app):
    _stores(app, [f"https://t{i}.example/" for i in range(30)])
    results: dict[str, list[int]] = {}

    def worker(name):
        with app.app_context():
            got = []
            while True:
                batch = sched.claim_due(name, 2)
                if not batch:
                    break
                got.extend(batch)
            results[name] = got
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [sid for got in results.values() for sid in got]
    assert len(claimed) == 30 and len(set(claimed)) == 30


def test_completion_schedules_the_next_check_with_jitter(app):
    (store,) = _stores(app, ["https://jitter.example/"])
    assert sched.claim_due("a", 1) == [store.id]
    assert sched.complete(store.id, "a")
    monitor = mon.monitor_for(store.id)
    db.session.refresh(monitor)
    delta = monitor.next_due_at - utcnow()
    assert timedelta(hours=23, minutes=59) < delta < timedelta(hours=25, minutes=1)
    assert monitor.lease_owner is None and sched.claim_due("b", 1) == []


def test_nightly_jobs_run_once_a_day_whichever_scheduler_gets_there(app, monkeypatch):
    calls = []
    monkeypatch.setattr(sched, "NIGHTLY_JOBS", [lambda: calls.append("rescore")])
    ran = [sched.run_nightly_if_due(owner, force=True) for owner in ("a", "b", "a")]
    assert ran == [True, False, False] and calls == ["rescore"]
    job = db.session.get(SchedulerJob, "nightly")
    assert job.last_owner == "a" and job.last_finished_at is not None
    # Next day it runs again.
    db.session.execute(sa.update(SchedulerJob.__table__).values(last_run_on="2000-01-01"))
    db.session.commit()
    assert sched.run_nightly_if_due("b", force=True) and calls == ["rescore", "rescore"]


def test_a_failing_nightly_job_does_not_stop_the_others(app, monkeypatch):
    calls = []

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(sched, "NIGHTLY_JOBS", [broken, lambda: calls.append("ok")])
    assert sched.run_nightly_if_due("a", force=True)
    assert calls == ["ok"] and "boom" in db.session.get(SchedulerJob, "nightly").last_error


# --- several scheduler processes --------------------------------------------------------------------------------

WORKER = r"""
import os, sys, time
from retail import create_app
from retail.scrapers.scheduler import MonitorScheduler
app = create_app({"RETAIL_ALLOW_LOOPBACK_FETCH": True, "RETAIL_FETCH_MIN_HOST_DELAY": 0})
go = sys.argv[2]
while not os.path.exists(go):
    time.sleep(0.005)
worker = MonitorScheduler(app, workers=3, owner=sys.argv[1])
try:
    done = worker.drain(poll=0.05)
finally:
    worker.shutdown()
print("DONE", done)
"""


def _two_processes_check_each_store_once(app, tmp_path):
    sites = [Site(delay=0.03) for _ in range(6)]
    try:
        urls, pages = [], []
        for site in sites:
            for k in range(4):
                base = f"/shop{k}/"
                products = [f"{base}product/knife-{j}" for j in range(3)]
                site.set(base, "<html><body><ul>" + "".join(
                    f'<li class="product-card"><a href="{p}">Knife</a></li>' for p in products) + "</ul></body></html>")
                for p in products:
                    site.set(p, product_page(f"Knife {p}"))
                urls.append(site.url(base))
                pages.extend((site, p) for p in [base] + products)
        stores = _stores(app, urls)
        go = tmp_path / "go"
        env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"], "RETAIL_ENV": "development",
               "RETAIL_ALLOW_LOOPBACK_FETCH": "1", "RETAIL_FETCH_MIN_HOST_DELAY": "0", "PYTHONPATH": str(ROOT)}
        procs = [subprocess.Popen([sys.executable, "-c", WORKER, f"proc-{n}", str(go)], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in (1, 2)]
        time.sleep(0.2)
        go.write_text("go")
        outputs = [p.communicate(timeout=180) for p in procs]
        for proc, (_out, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, err[-3000:]
        # Every page of every store was fetched exactly once across both processes.
        for site, path in pages:
            assert site.hits[path] == 1, (site.base, path, site.hits[path])
        db.session.expire_all()
        runs = list(db.session.scalars(sa.select(MonitorRun)))
        assert sorted(r.online_store_id for r in runs) == sorted(s.id for s in stores)
        assert all(r.finished_at is not None for r in runs)
        assert {r.worker for r in runs} == {"proc-1", "proc-2"}, "both schedulers took part"
        monitors = list(db.session.scalars(sa.select(StoreMonitor)))
        assert all(m.lease_owner is None and m.next_due_at > utcnow() + timedelta(hours=23) for m in monitors)
        assert all(m.bladed_listings == 3 for m in monitors)
    finally:
        for site in sites:
            site.close()


@pytest.mark.slow
def test_two_scheduler_processes_on_postgresql_fetch_each_check_once(app, tmp_path):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (SELECT ... FOR UPDATE SKIP LOCKED): set TEST_DATABASE_URL=postgresql+psycopg://...")
    _two_processes_check_each_store_once(app, tmp_path)


@pytest.mark.slow
def test_two_scheduler_processes_on_sqlite_share_the_crawl_through_leases(app, tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite lease variant; PostgreSQL is covered by the SKIP LOCKED test")
    _two_processes_check_each_store_once(app, tmp_path)


def test_a_store_that_could_not_be_fetched_at_all_is_retried_soon(app, monkeypatch):
    monkeypatch.setitem(app.config, "RETAIL_ALLOW_LOOPBACK_FETCH", True)
    monkeypatch.setitem(app.config, "RETAIL_FETCH_MIN_HOST_DELAY", 0)
    site = Site()
    url = site.url("/shop/")
    site.close()  # nothing listens there any more
    (store,) = _stores(app, [url])
    assert sched.claim_due("a", 1) == [store.id]
    fetcher = mon.make_fetcher(app, sleep=lambda s: None, max_retries=0)
    try:
        assert sched.run_claimed(store.id, "a", fetcher)
    finally:
        fetcher.close()
    monitor = mon.monitor_for(store.id)
    db.session.refresh(monitor)
    assert monitor.next_due_at - utcnow() < sched.UNREACHABLE_RETRY + timedelta(seconds=5)
    assert monitor.lease_owner is None


# --- leases held through slow pages, and SIGTERM (issue 14) ------------------------------------------------------

def _slow_shops(count: int, delay: float) -> list[Site]:
    sites = []
    for _ in range(count):
        site = Site(delay=delay)
        site.set("/", "<html><body><ul><li class=\"product-card\"><a href=\"/product/knife\">Knife</a></li>"
                      "</ul></body></html>")
        site.set("/product/knife", product_page("Knife"))
        sites.append(site)
    return sites


@pytest.mark.slow
def test_two_schedulers_fetch_no_page_twice_when_each_page_outlasts_the_lease(app, monkeypatch):
    """Every request takes longer than the whole lease: only renewal while the page is in flight keeps the other
    scheduler (ticking all the while with free workers) from taking the store over and fetching it again."""
    monkeypatch.setitem(app.config, "RETAIL_ALLOW_LOOPBACK_FETCH", True)
    monkeypatch.setitem(app.config, "RETAIL_FETCH_MIN_HOST_DELAY", 0)
    sites = _slow_shops(2, delay=1.0)
    try:
        stores = _stores(app, [site.base for site in sites])
        schedulers = [sched.MonitorScheduler(app, workers=2, owner=f"sched-{name}", lease_seconds=0.6,
                                             renew_every=0.15) for name in "ab"]
        finished = threading.Event()

        def keep_ticking(scheduler):
            end = time.monotonic() + 60
            while not finished.is_set() and time.monotonic() < end:
                scheduler.tick()
                time.sleep(0.05)

        threads = [threading.Thread(target=keep_ticking, args=(s,)) for s in schedulers]
        for thread in threads:
            thread.start()
        try:
            end = time.monotonic() + 60
            while time.monotonic() < end and not (sum(s.completed for s in schedulers) >= 2
                                                  and not any(s.busy() for s in schedulers)):
                time.sleep(0.1)
        finally:
            finished.set()
            for thread in threads:
                thread.join()
            for scheduler in schedulers:
                scheduler.shutdown()
        for site in sites:
            for path in ("/", "/product/knife"):
                assert site.hits[path] == 1, (site.base, path, site.hits[path])
        db.session.expire_all()
        runs = list(db.session.scalars(sa.select(MonitorRun)))
        assert sorted(r.online_store_id for r in runs) == sorted(s.id for s in stores)
        assert all(r.finished_at is not None for r in runs)
        assert all(m.lease_owner is None and m.bladed_listings == 1 for m in db.session.scalars(sa.select(StoreMonitor)))
    finally:
        for site in sites:
            site.close()


@pytest.mark.slow
def test_sigterm_stops_a_scheduler_within_10_seconds_and_releases_its_leases(app, tmp_path):
    """A real `flask scheduler` process is mid-page on a shop dripping a byte a second (its fetch deadline set far
    away); SIGTERM ends it within 10 s, with its lease handed back and nothing recorded for the page cut short."""
    site = Site()
    try:
        site.set("/robots.txt", "User-agent: *\nAllow: /\n", ctype="text/plain")
        site.hostile("/", "drip")
        (store,) = _stores(app, [site.base])
        database_url, engine = _database_for_a_subprocess(tmp_path)
        env = {**os.environ, "DATABASE_URL": database_url, "RETAIL_ENV": "development",
               "RETAIL_ALLOW_LOOPBACK_FETCH": "1", "RETAIL_FETCH_MIN_HOST_DELAY": "0",
               "RETAIL_FETCH_DEADLINE": "600", "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "--tick", "0.5"],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            if not site.wait_for("/", 60):
                proc.kill()
                pytest.fail("the scheduler never fetched the store:\n" + proc.communicate()[1][-4000:])
            time.sleep(0.5)
            assert _monitor_row(engine, store.id).lease_owner is not None
            proc.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pytest.fail("the scheduler was still running 10 s after SIGTERM")
            assert time.monotonic() - signalled < 10
            assert proc.returncode == 0, proc.stderr.read()[-3000:]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        monitor = _monitor_row(engine, store.id)
        assert monitor.lease_owner is None and monitor.lease_expires_at is None
        assert monitor.last_run_at is None  # not completed: still due, for the next scheduler to pick up
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(ListingCheck.__table__)) == 0
        engine.dispose()
    finally:
        site.close()


def _database_for_a_subprocess(tmp_path):
    """The database a `flask scheduler` subprocess is given, with an engine to read it back. On SQLite, a private
    copy of the test database (made through this process's own connection, with SQLite's backup API): the shared
    test file, held open by this process for the whole session, is not something a second process should rely on
    (a full run once showed it a stale view with no error). PostgreSQL is shared as it is in production."""
    if db.engine.dialect.name != "sqlite":
        return os.environ["DATABASE_URL"], db.engine
    db.session.commit()
    path = tmp_path / "scheduler.sqlite3"
    target = sqlite3.connect(path)
    source = db.engine.raw_connection()
    try:
        source.driver_connection.backup(target)
    finally:
        source.close()
        target.close()
    url = f"sqlite:///{path}"
    return url, sa.create_engine(url)


def _monitor_row(engine, store_id: int):
    with engine.connect() as conn:
        return conn.execute(sa.select(StoreMonitor.__table__).where(StoreMonitor.online_store_id == store_id)).one()


# --- classifying on every core (issue 15 part 5) ------------------------------------------------------------------

def test_the_scheduler_classifies_on_every_core_by_default(monkeypatch):
    """Classifying is most of a crawl's CPU, and the GIL keeps the crawl threads on one core: by default the
    scheduler classifies in one process per core it may use; on a single core, in its threads."""
    from retail.cli.monitor import scheduler_command

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert sched.default_classify_processes() == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert sched.default_classify_processes() == 0
    option = next(p for p in scheduler_command.params if p.name == "classify_processes")
    assert option.default is None  # None = the default above, worked out when the command starts


def test_stores_classified_in_worker_processes_get_the_same_verdicts(app, monkeypatch):
    """A drain with classification in two worker processes stores what the threads would: the zombie knife flagged,
    the weak wording read as weak, every bladed listing counted."""
    from tests.monitor_site import WEAK, ZOMBIE, home_page

    monkeypatch.setitem(app.config, "RETAIL_ALLOW_LOOPBACK_FETCH", True)
    monkeypatch.setitem(app.config, "RETAIL_FETCH_MIN_HOST_DELAY", 0)
    site = Site()
    site.set("/", home_page(["/product/chef-knife", "/product/zombie"]))
    site.set("/product/chef-knife", product_page("Chef Knife", WEAK))
    site.set("/product/zombie", ZOMBIE)
    try:
        (store,) = _stores(app, [site.base])
        scheduler = sched.MonitorScheduler(app, workers=2, classify_processes=2)
        try:
            assert scheduler._classify_pool is not None
            assert scheduler.drain() == 1
        finally:
            scheduler.shutdown()
        monitor = mon.monitor_for(store.id)
        db.session.refresh(monitor)
        assert monitor.bladed_listings == 2 and monitor.age_check in ("none", "weak")
        assert monitor.prohibited and "zombie" in " ".join(monitor.prohibited).lower()
    finally:
        site.close()


def test_a_second_stop_signal_while_the_scheduler_stops_is_harmless():
    """An operator presses Ctrl-C twice (or systemd sends SIGTERM twice): the second signal arrives while the
    scheduler is already stopping and must not end it with a traceback (APScheduler refuses a second shutdown)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    class Monitor:
        owner, stops = "test-owner", 0

        def request_stop(self):
            self.stops += 1

    monitor, scheduler = Monitor(), BlockingScheduler()
    runner = threading.Thread(target=scheduler.start, daemon=True)
    runner.start()
    for _ in range(100):
        if scheduler.running:
            break
        time.sleep(0.01)
    stop = sched.signal_stopper(monitor, scheduler)
    stop(signal.SIGTERM, None)
    stop(signal.SIGINT, None)  # the second signal, while it stops
    runner.join(timeout=5)
    assert not runner.is_alive() and not scheduler.running and monitor.stops == 2
