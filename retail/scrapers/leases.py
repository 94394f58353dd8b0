"""Leases on the monitor's stores: which scheduler process is checking a store, until when (see scheduler.py).

Claiming writes an owner and an expiry on the store's monitor row: `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL,
a conditional `UPDATE` per store on SQLite. A running check renews its lease (LeaseKeeper); a finished one clears it
and moves `next_due_at` forward in the same statement.
"""
from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models.listings import StoreMonitor
from ..models.register import OnlineStore
from ..timeutil import utcnow
from .fetch import host_key
from .listing_rows import _retrying
from .monitor import LeaseLost

log = logging.getLogger(__name__)

LEASE_SECONDS = 300  # renewed during a check; a dead process's stores come back after this long
RENEW_EVERY = 30.0  # seconds between lease renewals during a check
# After a check's time limit the lease is still renewed this long (the page in flight, saving the verdict); a check
# hung past that loses its store to another scheduler rather than keep it for ever.
RENEW_GRACE = 120.0
JITTER_FRACTION = 0.1  # next check = interval + up to 10% (max 1 hour), so stores spread out over the day


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def free_lease():
    """(condition that a monitor row's lease is free now, now): for claiming a store."""
    now = utcnow()
    return sa.or_(StoreMonitor.lease_expires_at.is_(None), StoreMonitor.lease_expires_at < now), now


def claim_store(store_id: int, owner: str, lease_seconds: int = LEASE_SECONDS) -> bool:
    """Claim one store now (due or not) if no one holds it; commits. For `scrape run`."""
    free, now = free_lease()
    result = _retrying(lambda: db.session.execute(sa.update(StoreMonitor.__table__).where(
        StoreMonitor.online_store_id == store_id, free).values(
        lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds), run_started_at=now)))
    return result.rowcount == 1


def claim_due(owner: str, limit: int, *, busy_hosts: set[str] | None = None, store_ids: list[int] | None = None,
              lease_seconds: int = LEASE_SECONDS) -> list[int]:
    """Claim up to `limit` due stores for `owner` (at most one per host); returns their online_store ids.

    Commits. Safe to call from several processes at once: each store is claimed by exactly one of them.
    """
    if limit <= 0:
        return []
    free, now = free_lease()
    due = sa.and_(StoreMonitor.enabled.is_(True), free,
                  sa.or_(StoreMonitor.check_requested_at.is_not(None), StoreMonitor.next_due_at <= now))
    # Hosts another process is crawling right now: leave them alone so the host's delay holds across processes.
    leased = db.session.scalars(sa.select(OnlineStore.base_url).join(
        StoreMonitor, StoreMonitor.online_store_id == OnlineStore.id).where(StoreMonitor.lease_expires_at >= now))
    taken_hosts = {host_key(url) for url in leased} | set(busy_hosts or ())
    query = (
        sa.select(StoreMonitor.id, StoreMonitor.online_store_id, OnlineStore.base_url)
        .join(OnlineStore, OnlineStore.id == StoreMonitor.online_store_id)
        .where(due)
        .order_by(sa.case((StoreMonitor.check_requested_at.is_not(None), 0), else_=1),
                  StoreMonitor.next_due_at.asc(), StoreMonitor.id)
        .limit(limit * 8 + len(taken_hosts))
    )
    if store_ids is not None:
        query = query.where(StoreMonitor.online_store_id.in_(store_ids))
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        query = query.with_for_update(skip_locked=True, of=StoreMonitor)
    rows = db.session.execute(query).all()
    chosen = []
    for monitor_id, store_id, url in rows:
        host = host_key(url)
        if host in taken_hosts:
            continue
        taken_hosts.add(host)
        chosen.append((monitor_id, store_id))
        if len(chosen) >= limit:
            break
    if not postgres:
        db.session.commit()  # end the read; each conditional UPDATE below starts its own write transaction
    claimed = []
    expires = now + timedelta(seconds=lease_seconds)
    for monitor_id, store_id in chosen:
        free, now = free_lease()
        statement = (sa.update(StoreMonitor.__table__).where(StoreMonitor.id == monitor_id, free)
                     .values(lease_owner=owner, lease_expires_at=expires, run_started_at=now, progress_done=0,
                             progress_total=0))
        if postgres:  # the row is locked by our SELECT ... FOR UPDATE; one commit at the end
            result = db.session.execute(statement)
        else:  # each conditional UPDATE is its own short write transaction
            result = _retrying(lambda stmt=statement: db.session.execute(stmt))
        if result.rowcount == 1:
            claimed.append(store_id)
    db.session.commit()
    return claimed


def renew_lease(store_id: int, owner: str, lease_seconds: float = LEASE_SECONDS) -> bool:
    result = _retrying(lambda: db.session.execute(sa.update(StoreMonitor.__table__).where(
        StoreMonitor.online_store_id == store_id, StoreMonitor.lease_owner == owner).values(
        lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))))
    return result.rowcount == 1


class LeaseKeeper:
    """Renews one store's lease from a thread of its own while the store is checked.

    Between-page renewals are not enough: one slow page could outlast the lease and hand the store to a second
    scheduler, which would fetch the same pages again. `check()` (the checker's heartbeat) raises LeaseLost once
    the lease is gone or `stop` is set. Renewal ends `time_limit` + RENEW_GRACE seconds after the start.
    """

    def __init__(self, app, store_id: int, owner: str, *, lease_seconds: float = LEASE_SECONDS,
                 renew_every: float | None = None, time_limit: float | None = None,
                 stop: threading.Event | None = None):
        self.app = app
        self.store_id = store_id
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.renew_every = renew_every if renew_every is not None else min(RENEW_EVERY, lease_seconds / 3)
        self.until = None if time_limit is None else time.monotonic() + time_limit + RENEW_GRACE
        self.stop = stop
        self.lost = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{store_id}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._done.set()
        self._thread.join()

    def check(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise LeaseLost("scheduler stopping")
        if self.lost.is_set():
            raise LeaseLost(f"lease on store {self.store_id} lost")

    def _run(self) -> None:
        while not self._done.wait(self.renew_every):
            if self.until is not None and time.monotonic() > self.until:
                log.warning("store %s: check still running past its time limit; letting the lease lapse",
                            self.store_id)
                return
            with self.app.app_context():
                try:
                    if not renew_lease(self.store_id, self.owner, self.lease_seconds):
                        self.lost.set()
                        return
                except Exception:  # a database blip: try again at the next renewal, the lease has time left
                    log.exception("store %s: renewing the lease failed", self.store_id)
                finally:
                    db.session.remove()


def next_due(interval_hours: int, now: datetime, rng: random.Random | None = None) -> datetime:
    rng = rng or random
    jitter = min(interval_hours * 3600 * JITTER_FRACTION, 3600) * rng.random()
    return now + timedelta(hours=interval_hours, seconds=jitter)


def complete(store_id: int, owner: str, *, retry_in: timedelta | None = None) -> bool:
    """Clear the lease and schedule the next check, in one statement, only if we still hold the lease.

    `retry_in` (a check where every fetch failed: the site was down) brings the next check forward.
    """
    row = db.session.execute(sa.select(StoreMonitor.interval_hours, StoreMonitor.run_started_at).where(
        StoreMonitor.online_store_id == store_id)).first()
    db.session.commit()  # end the read before writing (SQLite cannot upgrade a stale read to a write)
    if row is None:
        return False
    now = utcnow()
    started = row.run_started_at or now
    # A "check now" pressed while this run was going is kept, so it gets a run of its own.
    requested = sa.case((StoreMonitor.check_requested_at <= started, None), else_=StoreMonitor.check_requested_at)
    result = _retrying(lambda: db.session.execute(sa.update(StoreMonitor.__table__).where(
        StoreMonitor.online_store_id == store_id, StoreMonitor.lease_owner == owner).values(
        lease_owner=None, lease_expires_at=None,
        next_due_at=now + retry_in if retry_in is not None else next_due(row.interval_hours, now),
        check_requested_at=requested)))
    return result.rowcount == 1


def release(store_id: int, owner: str, *, retry_in: timedelta | None = None) -> None:
    """Give a store back without completing it (shutdown or failure); it stays due."""
    values = {"lease_owner": None, "lease_expires_at": None}
    if retry_in is not None:
        values["next_due_at"] = utcnow() + retry_in
    _retrying(lambda: db.session.execute(sa.update(StoreMonitor.__table__).where(
        StoreMonitor.online_store_id == store_id, StoreMonitor.lease_owner == owner).values(**values)))


def release_all(owner: str) -> None:
    _retrying(lambda: db.session.execute(sa.update(StoreMonitor.__table__).where(
        StoreMonitor.lease_owner == owner).values(lease_owner=None, lease_expires_at=None)))
