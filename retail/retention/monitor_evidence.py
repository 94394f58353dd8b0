"""The listing monitor's evidence (pages as fetched, screenshots) removed once the deployment's period has run since
their last fetch, except the page a monitored listing's verdict rests on and anything an enforcement case may need.

The monitor and its findings are shared London-wide (retail/scoping.py), so one period applies to every store; the
enforcement holds use the period of the authority that owns each test purchase or naming case.
"""
from collections import defaultdict
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models.compliance import NamingCase
from ..models.listings import Listing, ListingEvidence, StoreMonitor
from ..models.purchases import ActionStatus, FollowUpAction, TestPurchase
from ..models.register import OnlineStore
from ..timeutil import LONDON
from . import naming_data


def _london_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON)


def _held_store_ids(enforcement_starts: dict[int, date], within_enforcement) -> sa.Select:
    """Online stores whose evidence may be needed in court: a test purchase of the store within its authority's
    enforcement period, a follow-up still pending on one, or a naming case of the store's business that is open or
    closed within the enforcement period (a naming case rests on the business's record, its websites included)."""
    by_start = defaultdict(list)
    for authority_id, start in enforcement_starts.items():
        by_start[start].append(authority_id)
    recent = sa.or_(*[sa.and_(TestPurchase.authority_id.in_(ids), TestPurchase.purchase_date >= start)
                      for start, ids in by_start.items()]) if by_start else sa.false()
    purchases = sa.select(TestPurchase.online_store_id).where(TestPurchase.online_store_id.is_not(None), recent)
    pending = sa.select(TestPurchase.online_store_id).join(
        FollowUpAction, FollowUpAction.test_purchase_id == TestPurchase.id).where(
        TestPurchase.online_store_id.is_not(None), FollowUpAction.status == ActionStatus.PENDING)
    pending_own = sa.select(FollowUpAction.online_store_id).where(
        FollowUpAction.online_store_id.is_not(None), FollowUpAction.status == ActionStatus.PENDING)
    # When a closed case closed is worked out in Python (naming_data.closed_on, the naming period's own rule);
    # closed cases are few, and this is one query whatever their number.
    closed_recently = sorted({case.business_id for case in db.session.scalars(
        sa.select(NamingCase).where(NamingCase.status.in_(naming_data.CLOSED)))
        if (ended := naming_data.closed_on(case)) is not None and case.authority_id in enforcement_starts
        and within_enforcement(ended, case.authority_id)})
    naming = sa.select(OnlineStore.id).where(sa.or_(
        OnlineStore.business_id.in_(sa.select(NamingCase.business_id)
                                    .where(NamingCase.status.not_in(naming_data.CLOSED))),
        OnlineStore.business_id.in_(closed_recently)))
    return sa.union(purchases, pending, pending_own, naming)


def _removable(cutoff: datetime, held: sa.Select) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """(past the period and not the current page of a monitored listing, and also not held for enforcement)."""
    newer = aliased(ListingEvidence)
    newest = (sa.select(sa.func.max(newer.last_fetched_at)).where(newer.listing_id == ListingEvidence.listing_id)
              .correlate(ListingEvidence).scalar_subquery())
    # The page the current verdict rests on (its hash is the listing's), and the newest page fetched, of a listing
    # whose store the monitor still checks: never removed, however long ago it was first seen.
    current = sa.exists(sa.select(Listing.id)
                        .join(StoreMonitor, StoreMonitor.online_store_id == Listing.online_store_id)
                        .where(Listing.id == ListingEvidence.listing_id, StoreMonitor.enabled.is_(True),
                               sa.or_(Listing.content_hash == ListingEvidence.sha256,
                                      ListingEvidence.last_fetched_at >= newest)))
    expired = sa.and_(ListingEvidence.last_fetched_at < cutoff, ~current)
    return sa.and_(expired, ListingEvidence.online_store_id.not_in(held)), \
        sa.and_(expired, ListingEvidence.online_store_id.in_(held))


def apply(months: int, period_start: date, enforcement_starts: dict[int, date], within_enforcement,
          dry_run: bool) -> dict:
    """Remove (or, in a dry run, count) the evidence past the period, in two statements whatever the number of
    rows. Checks that pointed at a removed page keep their verdict and lose the link (the foreign key sets it NULL)."""
    cutoff = _london_midnight(period_start)
    held = _held_store_ids(enforcement_starts, within_enforcement)
    removable, held_back = _removable(cutoff, held)
    kept_for_enforcement = db.session.scalar(sa.select(sa.func.count()).select_from(ListingEvidence)
                                             .where(held_back))
    if dry_run:
        pages, shots = db.session.execute(sa.select(sa.func.count(), sa.func.count(ListingEvidence.screenshot_sha256))
                                          .select_from(ListingEvidence).where(removable)).one()
    else:
        # "fetch": rows of removed pages the session holds are marked deleted, never written back or served.
        removed = db.session.execute(sa.delete(ListingEvidence).where(removable)
                                     .returning(ListingEvidence.id, ListingEvidence.screenshot_sha256)
                                     .execution_options(synchronize_session="fetch")).all()
        pages, shots = len(removed), sum(1 for _id, sha in removed if sha)
    return {"months": months, "removed_before": period_start.isoformat(), "evidence_pages_removed": pages,
            "evidence_screenshots_removed": shots, "evidence_held_for_enforcement": kept_for_enforcement}
