"""The monitor's scheduler: its own process (`flask --app wsgi scheduler`), never inside the web workers.

A periodic tick claims the stores that are due ("check now" requests first, then the most overdue) and runs them in
a small thread pool, at most one store per host at a time so each host's delay is kept. Claiming takes a lease on
the store's monitor row (owner + expiry) in the database (leases.py):

- PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED`, then the lease is written in the same transaction, so several
  scheduler processes (on one machine or many) never claim the same store.
- SQLite: a conditional `UPDATE ... WHERE lease is free` per store; only one writer can win it.

A running check's lease is renewed by a background thread every RENEW_EVERY seconds, whatever the page in flight
is doing, until the check's time limit (RETAIL_STORE_DEADLINE) has passed; if the process dies, the lease expires and
another process (or the restarted one) picks the store up again. SIGTERM cuts the fetches in flight short, hands every
lease back and exits within seconds. A finished check clears the lease and moves `next_due_at` forward in the
same statement, so work is neither lost nor done twice.

Other areas' once-a-day jobs are listed in NIGHTLY_JOBS; every scheduler process offers to run them, and a conditional
update on the `scheduler_job` row makes sure exactly one does, once per day (Europe/London), after NIGHTLY_AT.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, time as dtime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from .. import naming, register_import, register_totals, retention, scoring
from ..letters import digest, outbox
from ..audit import acting_as
from ..extensions import db
from ..models.listings import SchedulerJob, StoreMonitor
from ..models.register import OnlineStore
from ..timeutil import LONDON, utcnow
from .fetch import Fetcher, host_key
from .leases import (  # noqa: F401  (claim_store, renew_lease, next_due: callers reach them through the scheduler)
    LEASE_SECONDS, LeaseKeeper, claim_due, claim_store, complete, free_lease, new_owner, next_due, release, release_all,
    renew_lease,
)
from .monitor import LeaseLost, StoreChecker, make_fetcher

log = logging.getLogger(__name__)

# The once-a-day jobs of the areas below the scheduler (which import nothing from here). Each runs once a day in one
# scheduler process, inside an app context, after NIGHTLY_AT London time. A failing job is logged and does not stop
# the others.
NIGHTLY_JOBS: list[Callable[[], None]] = [scoring.nightly_rescore, naming.nightly_expire,
                                          retention.nightly_retention, register_totals.recount]
NIGHTLY_AT = dtime(2, 30)

# The morning run: each member of staff's digest of their home page, queued once a day and sent by the outbox job
# (issue 12 part 3), early enough to read before the day starts.
MORNING_JOBS: list[Callable[[], None]] = [digest.queue_staff_digests]
MORNING_AT = dtime(7, 0)
# Each daily run's time and jobs, read when it runs (so the lists above can be changed, as the tests do).
DAILY_RUNS: dict[str, Callable[[], tuple[dtime, list]]] = {"nightly": lambda: (NIGHTLY_AT, NIGHTLY_JOBS),
                                                           "morning": lambda: (MORNING_AT, MORNING_JOBS)}

# Jobs every scheduler process runs each minute. Each claims its own rows (the outbox claims messages, the register
# import its batch, with a conditional update), so several processes share the work without doing anything twice.
FREQUENT_JOBS: list[Callable[[], None]] = [outbox.deliver_outbox, register_import.run_queued_imports,
                                           scoring.run_requested_rescore]

UNREACHABLE_RETRY = timedelta(minutes=20)  # a store none of whose pages could be fetched is tried again this soon
FIRST_TICK_DELAY = 5  # seconds: lets a demo shop or proxy started alongside the scheduler come up first


def nightly_job(func: Callable[[], None]) -> Callable[[], None]:
    """Decorator form of NIGHTLY_JOBS.append."""
    NIGHTLY_JOBS.append(func)
    return func


def store_time_limit(app=None) -> float:
    """Seconds one store check may take (RETAIL_STORE_DEADLINE)."""
    return float((app or current_app).config.get("RETAIL_STORE_DEADLINE", 1800))


def run_claimed(store_id: int, owner: str, fetcher: Fetcher, *, stop: threading.Event | None = None,
                classify_fn=None, lease_seconds: float = LEASE_SECONDS, renew_every: float | None = None,
                time_limit: float | None = None) -> bool:
    """Check one claimed store while a LeaseKeeper renews its lease. True when completed."""
    trigger = "check-now" if db.session.scalar(sa.select(StoreMonitor.check_requested_at).where(
        StoreMonitor.online_store_id == store_id)) else "schedule"
    db.session.commit()
    app = current_app._get_current_object()
    time_limit = store_time_limit(app) if time_limit is None else time_limit

    try:
        with LeaseKeeper(app, store_id, owner, lease_seconds=lease_seconds, renew_every=renew_every,
                         time_limit=time_limit, stop=stop) as lease, acting_as(f"scheduler:{owner}"):
            result = StoreChecker(store_id, fetcher, trigger=trigger, worker=owner, heartbeat=lease.check,
                                  classify_fn=classify_fn, time_limit=time_limit).run()
    except LeaseLost as exc:
        db.session.rollback()
        log.warning("store %s: %s", store_id, exc)
        release(store_id, owner)
        return False
    except Exception:
        db.session.rollback()
        log.exception("store %s: check failed", store_id)
        release(store_id, owner, retry_in=timedelta(minutes=30))
        return False
    if result.pages and result.errors == result.pages:
        # Nothing could be fetched (site down, robots.txt unreachable): try again soon rather than tomorrow.
        return complete(store_id, owner, retry_in=UNREACHABLE_RETRY)
    return complete(store_id, owner)


# --- nightly jobs -------------------------------------------------------------------------------------------------

def _claim_nightly(name: str, owner: str, today: str) -> bool:
    if db.session.get(SchedulerJob, name) is None:
        try:
            db.session.add(SchedulerJob(name=name, last_owner=""))
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
    result = db.session.execute(sa.update(SchedulerJob.__table__).where(
        SchedulerJob.name == name,
        sa.or_(SchedulerJob.last_run_on.is_(None), SchedulerJob.last_run_on < today)).values(
        last_run_on=today, last_owner=owner, last_started_at=utcnow(), last_error=""))
    db.session.commit()
    return result.rowcount == 1


def run_nightly_if_due(owner: str, now: datetime | None = None, *, force: bool = False) -> bool:
    """Run NIGHTLY_JOBS if today's run (London time, after NIGHTLY_AT) has not happened in any process."""
    return run_daily_if_due("nightly", owner, now, force=force)


def run_daily_if_due(name: str, owner: str, now: datetime | None = None, *, force: bool = False) -> bool:
    """Run the jobs of the daily run `name` (DAILY_RUNS) if today's run, after its London time, has not happened in
    any process."""
    at, jobs = DAILY_RUNS[name]()
    local = (now or utcnow()).astimezone(LONDON)
    if not force and local.time() < at:
        return False
    if not _claim_nightly(name, owner, local.date().isoformat()):
        return False
    errors = []
    for job in list(jobs):
        try:
            with acting_as(f"scheduler:{name}:{getattr(job, '__name__', 'job')}"):
                job()
            db.session.commit()
        except Exception as exc:  # one failing job must not stop the others
            db.session.rollback()
            log.exception("%s job %r failed", name, job)
            errors.append(f"{getattr(job, '__name__', job)}: {exc}")
    db.session.execute(sa.update(SchedulerJob.__table__).where(SchedulerJob.name == name).values(
        last_finished_at=utcnow(), last_error="\n".join(errors)[:4000]))
    db.session.commit()
    return True


# --- the scheduler process ----------------------------------------------------------------------------------------

def default_classify_processes() -> int:
    """Worker processes the scheduler classifies in by default: one per core it may use, or none on one core (a pool
    there only adds the cost of sending pages between processes). Classifying is most of a crawl's CPU and the GIL
    keeps the crawl threads to one core: on two cores the pool nearly doubles the pages checked a second (issue 15)."""

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores if cores >= 2 else 0


def process_pool_classifier(processes: int):
    """Classify in worker processes: parsing is CPU-bound and the GIL would keep threads to one core."""
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing

    from .classify import classify

    pool = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"))

    def classify_in_pool(document, url=None):
        return pool.submit(classify, document, url).result()

    return classify_in_pool, pool


class MonitorScheduler:
    """The tick, the pool and the bookkeeping of which hosts this process is crawling."""

    def __init__(self, app, *, workers: int = 4, owner: str | None = None, fetcher: Fetcher | None = None,
                 classify_fn=None, store_ids: list[int] | None = None, classify_processes: int = 0,
                 lease_seconds: float = LEASE_SECONDS, renew_every: float | None = None):
        self.app = app
        self.lease_seconds = lease_seconds
        self.renew_every = renew_every
        self.workers = workers
        self.owner = owner or new_owner()
        self.stop = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="monitor")
        self._running: dict[int, tuple[str, Future]] = {}
        self._lock = threading.Lock()
        self._fetcher = fetcher
        self._classify_pool = None
        if classify_fn is None and classify_processes > 0:
            classify_fn, self._classify_pool = process_pool_classifier(classify_processes)
        self.classify_fn = classify_fn
        self.store_ids = store_ids
        self.completed = 0
        self._tick_lock = threading.Lock()

    @property
    def fetcher(self) -> Fetcher:
        if self._fetcher is None:
            with self.app.app_context():
                self._fetcher = make_fetcher(self.app)
            if self.stop.is_set():  # made after a stop was asked for: born stopped
                self._fetcher.cancel()
        return self._fetcher

    def _work(self, store_id: int) -> None:
        with self.app.app_context():
            try:
                if run_claimed(store_id, self.owner, self.fetcher, stop=self.stop, classify_fn=self.classify_fn,
                               lease_seconds=self.lease_seconds, renew_every=self.renew_every):
                    with self._lock:
                        self.completed += 1
            finally:
                db.session.remove()
                with self._lock:
                    self._running.pop(store_id, None)
        if not self.stop.is_set():
            self.tick()  # a slot is free: take the next due store now rather than at the next tick

    def tick(self) -> int:
        """Claim what is due and hand it to the pool. Returns how many stores were started."""
        if self.stop.is_set() or not self._tick_lock.acquire(blocking=False):
            return 0
        try:
            with self._lock:
                free = self.workers - len(self._running)
                busy = {host for host, _ in self._running.values()}
            if free <= 0:
                return 0
            with self.app.app_context():
                try:
                    claimed = claim_due(self.owner, free, busy_hosts=busy, store_ids=self.store_ids,
                                        lease_seconds=self.lease_seconds)
                    urls = dict(db.session.execute(sa.select(OnlineStore.id, OnlineStore.base_url).where(
                        OnlineStore.id.in_(claimed))).all()) if claimed else {}
                    db.session.commit()
                finally:
                    db.session.remove()
            started = 0
            for store_id in claimed:
                with self._lock:
                    try:
                        future = self.pool.submit(self._work, store_id)
                    except RuntimeError:  # shutting down: shutdown() hands every lease of ours back
                        break
                    self._running[store_id] = (host_key(urls.get(store_id, "")), future)
                    started += 1
            return started
        finally:
            self._tick_lock.release()

    def nightly(self) -> None:
        """Every few minutes: start each daily run (the nightly jobs, the morning digests) once its time has come."""
        with self.app.app_context():
            try:
                for name in DAILY_RUNS:
                    run_daily_if_due(name, self.owner)
            finally:
                db.session.remove()

    def frequent(self) -> None:
        with self.app.app_context():
            try:
                for job in list(FREQUENT_JOBS):
                    try:
                        job()
                    except Exception:  # one failing job (a mail server down) must not stop the others
                        log.exception("scheduled job %s failed", job.__name__)
                        db.session.rollback()
            finally:
                db.session.remove()

    def busy(self) -> int:
        with self._lock:
            return len(self._running)

    def drain(self, poll: float = 0.2) -> int:
        """Keep claiming until nothing is due and nothing is running (tests, `scheduler --drain`)."""
        idle_rounds = 0
        while not self.stop.is_set():
            started = self.tick()
            if started == 0 and self.busy() == 0:
                idle_rounds += 1
                if idle_rounds >= 3:
                    break
            else:
                idle_rounds = 0
            self.stop.wait(poll)
        return self.completed

    def request_stop(self) -> None:
        """Stop claiming and cut the fetches in flight short (safe from a signal handler); shutdown() finishes."""
        self.stop.set()
        if self._fetcher is not None:
            self._fetcher.cancel()

    def shutdown(self) -> None:
        """Stop claiming, stop the running checks at once, and hand unfinished stores back."""
        self.request_stop()
        self.pool.shutdown(wait=True, cancel_futures=True)
        with self.app.app_context():
            try:
                release_all(self.owner)
            finally:
                db.session.remove()
        if self._fetcher is not None:
            self._fetcher.close()
        if self._classify_pool is not None:
            self._classify_pool.shutdown(wait=True, cancel_futures=True)


def signal_stopper(monitor, scheduler):
    """The SIGTERM / SIGINT handler: stop taking work, cut fetches short, end the scheduler's loop. A second signal
    while it stops (an operator's second Ctrl-C) only logs again: shutting an already stopped APScheduler raises."""
    def stop(signum, frame):
        log.info("scheduler %s stopping (signal %s)", monitor.owner, signum)
        monitor.request_stop()
        if scheduler.running:
            scheduler.shutdown(wait=False)

    return stop


def run_forever(app, *, workers: int = 4, tick_seconds: float = 15.0, classify_processes: int = 0) -> None:
    """The `flask scheduler` process: an APScheduler BlockingScheduler with the tick and the nightly check."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    monitor = MonitorScheduler(app, workers=workers, classify_processes=classify_processes)
    scheduler = BlockingScheduler(timezone=str(LONDON))
    scheduler.add_job(monitor.tick, "interval", seconds=tick_seconds, jitter=max(1, int(tick_seconds / 3)),
                      id="monitor-tick", max_instances=1, coalesce=True,
                      next_run_time=datetime.now(LONDON) + timedelta(seconds=min(FIRST_TICK_DELAY, tick_seconds)))
    scheduler.add_job(monitor.nightly, "interval", minutes=5, id="nightly-check", max_instances=1, coalesce=True,
                      next_run_time=datetime.now(LONDON) + timedelta(seconds=5))
    scheduler.add_job(monitor.frequent, "interval", minutes=1, id="frequent", max_instances=1, coalesce=True,
                      next_run_time=datetime.now(LONDON) + timedelta(seconds=10))

    stop = signal_stopper(monitor, scheduler)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler %s started: %d workers, tick every %.0f s", monitor.owner, workers, tick_seconds)
    try:
        scheduler.start()
    finally:
        monitor.shutdown()
