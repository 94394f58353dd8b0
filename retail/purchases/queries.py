"""Queries other areas call: the filtered list, retests due, pending enforcement, a retailer's own results.

For other areas:
- scoring/dashboards aggregate `test_purchase` in SQL: kind (underage|challenge25), channel (in-store|online),
  outcome, failed, checkout_failed/dispatch_failed/courier_failed, purchase_date, business_id (indexed),
  premises_id, online_store_id; and `follow_up_action` (action_type, status) — see `pending_enforcement`.
- the retailer portal calls `retailer_results(business_id)` and links to `/my/letters/<id>`.
Nothing here returns volunteer data to a retailer-facing caller.
"""
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models.purchases import (ACTION_LABELS, FAILING_PARTY_LABELS, KIND_LABELS, OUTCOME_LABELS,
                                RETAILER_VISIBLE_ACTIONS, ActionStatus, ActionType, FollowUpAction, NotificationLetter,
                                Operation, PurchaseKind, TestPurchase)
from ..models.register import Business, BusinessType, OnlineStore, Premises
from ..register import matching_business_ids, matching_premises_ids
from ..timeutil import today_london

RETEST_PANEL_DAYS = 30


@dataclass
class PurchaseFilters:
    q: str = ""
    kind: str = ""
    channel: str = ""
    outcome: str = ""
    stage: str = ""
    borough: str = ""
    operation_id: int | None = None
    business_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def purchases_query(filters: PurchaseFilters):
    query = sa.select(TestPurchase)
    if filters.q:
        query = query.where(TestPurchase.business_id.in_(matching_business_ids(filters.q)))
    for field in ("kind", "channel", "outcome", "stage"):
        value = getattr(filters, field)
        if value:
            query = query.where(getattr(TestPurchase, field) == value)
    if filters.borough:
        query = query.where(TestPurchase.premises_id.in_(sa.select(Premises.id).where(
            Premises.borough == filters.borough)))
    if filters.operation_id:
        query = query.where(TestPurchase.operation_id == filters.operation_id)
    if filters.business_id:
        query = query.where(TestPurchase.business_id == filters.business_id)
    if filters.date_from:
        query = query.where(TestPurchase.purchase_date >= filters.date_from)
    if filters.date_to:
        query = query.where(TestPurchase.purchase_date <= filters.date_to)
    return query.order_by(TestPurchase.purchase_date.desc(), TestPurchase.id.desc())


# The list's order, newest first, for keyset paging (served by ix_test_purchase_date)
LIST_ORDER = ((TestPurchase.purchase_date, True), (TestPurchase.id, True))


def with_names(query):
    return query.options(selectinload(TestPurchase.premises), selectinload(TestPurchase.online_store),
                         selectinload(TestPurchase.business), selectinload(TestPurchase.letters))


def retests_due(today: date | None = None, within_days: int = RETEST_PANEL_DAYS, limit: int = 12) -> dict:
    """Pending retests due within `within_days` (and all overdue ones), soonest first, with counts."""
    today = today or today_london()
    horizon = today + timedelta(days=within_days)
    base = sa.and_(FollowUpAction.action_type == ActionType.RETEST, FollowUpAction.status == ActionStatus.PENDING,
                   FollowUpAction.due_on <= horizon)
    overdue, due_soon = db.session.execute(
        sa.select(sa.func.count(sa.case((FollowUpAction.due_on < today, 1))),
                  sa.func.count(sa.case((FollowUpAction.due_on >= today, 1)))).where(base)).one()
    rows = db.session.execute(
        sa.select(FollowUpAction, Business.trading_name, Premises.name, Premises.postcode, OnlineStore.name,
                  OnlineStore.domain)
        .join(Business, FollowUpAction.business_id == Business.id)
        .outerjoin(Premises, FollowUpAction.premises_id == Premises.id)
        .outerjoin(OnlineStore, FollowUpAction.online_store_id == OnlineStore.id)
        .where(base).order_by(FollowUpAction.due_on, FollowUpAction.id).limit(limit)).all()
    items = [{"action": a, "business": trading, "target": p_name or s_name or s_domain or "",
              "postcode": postcode or "", "overdue": a.due_on < today, "days": (a.due_on - today).days}
             for a, trading, p_name, postcode, s_name, s_domain in rows]
    return {"overdue": overdue or 0, "due_soon": due_soon or 0, "items": items, "today": today}


def pending_enforcement(business_ids=None) -> dict[int, dict]:
    """For scoring/naming: per business, pending cautions and prosecutions and completed ones (one query)."""
    query = (sa.select(FollowUpAction.business_id, FollowUpAction.action_type, FollowUpAction.status,
                       sa.func.count())
             .where(FollowUpAction.action_type.in_([ActionType.SIMPLE_CAUTION, ActionType.PROSECUTION]))
             .group_by(FollowUpAction.business_id, FollowUpAction.action_type, FollowUpAction.status))
    if business_ids is not None:
        query = query.where(FollowUpAction.business_id.in_(list(business_ids)))
    result: dict[int, dict] = {}
    for business_id, action_type, status, count in db.session.execute(query):
        entry = result.setdefault(business_id, {"pending": 0, "cautions": 0, "prosecutions": 0})
        if status == ActionStatus.PENDING:
            entry["pending"] += count
        elif status == ActionStatus.COMPLETED:
            entry["cautions" if action_type == ActionType.SIMPLE_CAUTION else "prosecutions"] += count
    return result


def retailer_results(business_id: int) -> list[dict]:
    """The business's own results, for the retailer portal: only attempts whose letter has been sent.

    No volunteer data, no officer names beyond the letter's signatory and the authority. Retests are not listed
    (announcing one would defeat it)."""
    rows = db.session.execute(
        sa.select(TestPurchase, NotificationLetter, Premises.name, Premises.postcode, OnlineStore.name,
                  OnlineStore.domain, Operation.starts_on, Operation.ends_on)
        .join(NotificationLetter, NotificationLetter.test_purchase_id == TestPurchase.id)
        .outerjoin(Premises, TestPurchase.premises_id == Premises.id)
        .outerjoin(OnlineStore, TestPurchase.online_store_id == OnlineStore.id)
        .outerjoin(Operation, TestPurchase.operation_id == Operation.id)
        .where(TestPurchase.business_id == business_id, NotificationLetter.sent_on.is_not(None))
        .order_by(TestPurchase.purchase_date.desc(), TestPurchase.id.desc(), NotificationLetter.id.desc())
    ).all()
    ids = list(dict.fromkeys(row[0].id for row in rows))
    actions: dict[int, list[dict]] = {}
    if ids:
        for a in db.session.scalars(sa.select(FollowUpAction).where(
                FollowUpAction.test_purchase_id.in_(ids),
                FollowUpAction.action_type.in_(RETAILER_VISIBLE_ACTIONS),
                FollowUpAction.status != ActionStatus.CANCELLED).order_by(FollowUpAction.decided_on)):
            actions.setdefault(a.test_purchase_id, []).append({
                "type": a.action_type.value, "label": ACTION_LABELS[a.action_type], "status": a.status.value,
                "decided_on": a.decided_on, "court": a.court, "hearing_on": a.hearing_on,
                "court_result": a.court_result, "fine": a.fine, "costs": a.costs})
    out, seen = [], set()
    for tp, letter, p_name, postcode, s_name, s_domain, op_start, op_end in rows:
        if tp.id in seen:
            continue  # the newest sent letter only
        seen.add(tp.id)
        if op_start:
            period = f"{op_start:%d %b %Y}" if op_start == op_end else f"{op_start:%d %b %Y} – {op_end:%d %b %Y}"
        else:
            period = f"{tp.purchase_date:%B %Y}"
        out.append({
            "id": tp.id, "period": period, "channel": tp.channel.value, "kind": tp.kind.value,
            "kind_label": KIND_LABELS[tp.kind], "where": f"{p_name}, {postcode}" if p_name else (s_name or s_domain),
            "premises_id": tp.premises_id, "online_store_id": tp.online_store_id,
            "outcome": tp.outcome.value if tp.outcome else "", "outcome_label": OUTCOME_LABELS.get(tp.outcome, ""),
            "failed": tp.failed, "failing_parties": [FAILING_PARTY_LABELS[p] for p in tp.failing_parties],
            "letter_id": letter.id, "letter_sent_on": letter.sent_on, "actions": actions.get(tp.id, []),
        })
    return out


def repeat_failures(since: date, kind: str = PurchaseKind.UNDERAGE, min_failures: int = 2) -> list[tuple[int, int]]:
    """(business_id, failures) for businesses with at least `min_failures` failed tests since `since`."""
    rows = db.session.execute(
        sa.select(TestPurchase.business_id, sa.func.count())
        .where(TestPurchase.failed.is_(True), TestPurchase.kind == kind, TestPurchase.purchase_date >= since)
        .group_by(TestPurchase.business_id).having(sa.func.count() >= min_failures)
        .order_by(sa.func.count().desc())).all()
    return [(b, n) for b, n in rows]


def resolve_premises(text: str, limit: int = 8) -> list[Premises]:
    """Shops matching typed text (name or postcode prefix): the no-JavaScript path of the shop picker."""
    text = (text or "").strip()
    if len(text) < 2:
        return []
    return db.session.scalars(sa.select(Premises).where(Premises.id.in_(matching_premises_ids(text)))
                              .order_by(Premises.name_key).limit(limit)).all()


def business_purchases(business_id: int, limit: int = 50) -> list[TestPurchase]:
    return db.session.scalars(with_names(
        sa.select(TestPurchase).where(TestPurchase.business_id == business_id)
        .order_by(TestPurchase.purchase_date.desc(), TestPurchase.id.desc()).limit(limit))).all()


def couriers() -> list[Business]:
    """Delivery companies in the register, for the dispatch form's courier choice."""
    return db.session.scalars(sa.select(Business).where(Business.business_type == BusinessType.COURIER)
                              .order_by(Business.legal_name)).all()
