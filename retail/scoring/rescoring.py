"""Rescoring when a relevant record changes (after each commit, in its own session), the nightly full recompute,
and what the listing monitor calls when it has checked a store. Other areas call in here; this module imports none
of them."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import after_this_request, current_app, has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from ..audit import acting_as
from ..extensions import db
from ..models.register import OnlineStore
from ..scoping import unscoped_session
from .compute import BusinessScore, rescore_all, rescore_business, rescore_businesses

log = logging.getLogger(__name__)

WATCHED = {"TestPurchase", "FollowUpAction", "TrainingInvitation", "TrainingRefusal", "TrainingAttendance",
           "RraSignature", "Premises", "Listing", "StoreMonitor", "AdviceVisit"}
BULK_THRESHOLD = 500  # more businesses than this changed in one commit: one full recompute instead


def _changed_ids(obj) -> tuple[set[int], set[int]]:
    """(business ids, online store ids) an object's change touches, including the values before the change."""
    businesses, stores = set(), set()
    state = inspect(obj)
    for attr, target in (("business_id", businesses), ("online_store_id", stores)):
        if attr in state.attrs:
            hist = state.attrs[attr].history
            for value in (*(hist.added or ()), *(hist.unchanged or ()), *(hist.deleted or ())):
                if value is not None:
                    target.add(value)
    return businesses, stores


@event.listens_for(Session, "after_flush")
def _collect_changes(session: Session, flush_context) -> None:
    if session.info.get("scoring_paused"):
        return
    businesses = session.info.setdefault("rescore_businesses", set())
    stores = session.info.setdefault("rescore_stores", set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if type(obj).__name__ in WATCHED:
            b, s = _changed_ids(obj)
            businesses |= b
            stores |= s


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session: Session, previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop("rescore_businesses", None)
        session.info.pop("rescore_stores", None)


@event.listens_for(Session, "after_commit")
def _rescore_after_commit(session: Session) -> None:
    businesses = session.info.pop("rescore_businesses", set())
    stores = session.info.pop("rescore_stores", set())
    if (not businesses and not stores) or session.info.get("scoring_paused"):
        return
    try:
        engine = db.engine
    except RuntimeError:  # outside an app context: the nightly recompute will catch up
        return
    if not _deferred_to_after_response(businesses, stores):
        _rescore(engine, businesses, stores)


_PENDING, _RESPONSE_BUILT = "retail.rescore_pending", "retail.rescore_response_built"  # per request, in its environ


def _deferred_to_after_response(businesses: set[int], stores: set[int]) -> bool:
    """In a web request, the rescore waits until the response has been sent: the officer's save is answered at
    once (a chain's rescore reads every shop it has: 30-60 ms on PostgreSQL at UK scale) and the scores follow a
    moment later, in the same worker. Commits after the response is built, and work outside a request (commands,
    the scheduler), rescore at once."""
    if not has_request_context() or not current_app.config.get("RESCORE_AFTER_RESPONSE", True) \
            or request.environ.get(_RESPONSE_BUILT):
        return False
    pending = request.environ.get(_PENDING)
    if pending is None:
        pending = request.environ[_PENDING] = (set(), set())
        after_this_request(_rescore_when_sent)
    pending[0].update(businesses)
    pending[1].update(stores)
    return True


def _rescore_when_sent(response):
    request.environ[_RESPONSE_BUILT] = True
    businesses, stores = request.environ.pop(_PENDING)
    app = current_app._get_current_object()

    def rescore():  # called by the WSGI server once the response is sent, outside the request
        with app.app_context():
            _rescore(db.engine, businesses, stores)

    response.call_on_close(rescore)
    return response


def _rescore(engine, businesses: set[int], stores: set[int]) -> None:
    # A fresh session on its own connection: the committed session cannot run SQL in the commit hook, and the
    # scores are written in their own transaction so a scoring problem never undoes the officer's change.
    # Scores are London-wide: they count every authority's records, whoever's commit triggered them.
    fresh = unscoped_session(Session(bind=engine))
    fresh.info["scoring_paused"] = True
    try:
        if stores:
            businesses |= set(fresh.scalars(sa.select(OnlineStore.business_id).where(OnlineStore.id.in_(stores))))
        if len(businesses) > BULK_THRESHOLD:
            rescore_all(session=fresh)
        else:
            rescore_businesses(businesses, session=fresh)
    except Exception:  # noqa: BLE001 - never break the change that triggered the rescore
        fresh.rollback()
        log.exception("rescore after commit failed for businesses %s", sorted(businesses)[:20])
    finally:
        fresh.close()


class scoring_paused:
    """Context manager: changes made inside do not trigger rescoring (bulk loads that rescore once at the end)."""

    def __init__(self, session: Session | None = None):
        self.session = session or db.session

    def __enter__(self):
        self.session.info["scoring_paused"] = True
        return self

    def __exit__(self, *exc):
        self.session.info.pop("scoring_paused", None)
        self.session.info.pop("rescore_businesses", None)
        self.session.info.pop("rescore_stores", None)
        return False


# A full recompute asked for from a page (a new rules version): done by the scheduler, never in a web worker (issue 15
# part 4). The request is a row of scheduler_job with no `last_run_on`; whichever scheduler sets it runs the job, and
# a request made while it runs leaves the row waiting again, so the newest rules are always applied.
RESCORE_JOB = "rescore-requested"


def request_rescore(by: str) -> None:
    from ..models.listings import SchedulerJob
    from ..timeutil import utcnow

    job = db.session.get(SchedulerJob, RESCORE_JOB)
    if job is None:
        job = SchedulerJob(name=RESCORE_JOB)
        db.session.add(job)
    job.last_run_on, job.last_owner, job.last_error = None, f"requested by {by}"[:120], ""
    job.last_started_at = utcnow()


def rescore_waiting() -> bool:
    from ..models.listings import SchedulerJob

    return db.session.scalar(sa.select(sa.func.count()).select_from(SchedulerJob).where(
        SchedulerJob.name == RESCORE_JOB, SchedulerJob.last_run_on.is_(None))) > 0


def run_requested_rescore() -> dict | None:
    """Scheduler job (every minute): the full recompute someone asked for, once. Returns its summary, or None."""
    from ..models.listings import SchedulerJob
    from ..timeutil import today_london, utcnow

    claimed = db.session.execute(sa.update(SchedulerJob.__table__).where(
        SchedulerJob.name == RESCORE_JOB, SchedulerJob.last_run_on.is_(None)).values(
        last_run_on=today_london().isoformat(), last_started_at=utcnow())).rowcount == 1
    db.session.commit()
    if not claimed:
        return None
    with acting_as("scheduler:rescore-requested"):
        summary = rescore_all()
    db.session.execute(sa.update(SchedulerJob.__table__).where(SchedulerJob.name == RESCORE_JOB)
                       .values(last_finished_at=utcnow()))
    db.session.commit()
    return summary


def nightly_rescore() -> dict:
    """Scheduler job: the full recompute (windows move on with the date even when no record changed)."""
    with acting_as("scheduler:nightly-rescore"):
        return rescore_all()


def listings_checked(online_store_id: int) -> BusinessScore | None:
    """The monitor's word that it has checked a store's listings (saving them page by page inside `scoring_paused`):
    rescore the store's business now, once. Commits."""
    business_id = db.session.scalar(sa.select(OnlineStore.business_id).where(OnlineStore.id == online_store_id))
    return rescore_business(business_id)
