"""The naming candidate rule and the evidence naming reads: underage sales, training refusals after the first,
enforcement pending, and what allows early removal of a published entry."""
from __future__ import annotations

from datetime import UTC, date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..extensions import db
from ..models.purchases import (OUTCOME_LABELS, ActionStatus, ActionType, Channel, FollowUpAction, PurchaseKind,
                                Stage, TestPurchase)
from ..models.training import RefusalKind, TrainingAttendance, TrainingRefusal, TrainingSession
from ..scoping import london_wide
from ..timeutil import today_london
from .rules import Rules, current_rules, months_before
from .statements import (PASS_OUTCOMES, SINCE, TODAY, bind_params, cached_statement, concluded_failure,
                         counts_against, scope_of, scope_to_ids, seller_failure, underage_sales_query)


def _pending_stmt(scoped):
    query = sa.select(FollowUpAction.business_id).where(
        FollowUpAction.action_type.in_((ActionType.SIMPLE_CAUTION, ActionType.PROSECUTION)),
        FollowUpAction.status == ActionStatus.PENDING).distinct()
    return scope_to_ids(query, FollowUpAction.business_id, scoped)


def enforcement_pending_ids(business_ids=None, session: Session | None = None) -> set[int]:
    """Businesses with a simple caution or prosecution decision still pending: never named while this lasts."""
    session = session or db.session
    scoped = scope_of(business_ids)
    return set(session.scalars(cached_statement("pending", scoped, _pending_stmt), bind_params(business_ids)))


def _candidate_stmt(scoped):
    sales = sa.select(TestPurchase.business_id, TestPurchase.purchase_date).where(
        concluded_failure(), counts_against(), TestPurchase.kind == PurchaseKind.UNDERAGE, seller_failure(),
        TestPurchase.purchase_date >= SINCE, TestPurchase.purchase_date <= TODAY)
    sales = scope_to_ids(sales, TestPurchase.business_id, scoped).subquery()
    per_business = (sa.select(sales.c.business_id, sa.func.count().label("sales"),
                              sa.func.min(sales.c.purchase_date).label("first_sale"))
                    .group_by(sales.c.business_id)
                    .having(sa.func.count() >= sa.bindparam("min_sales", type_=sa.Integer))).subquery()
    refusals = (sa.select(sa.func.count()).where(TrainingRefusal.business_id == per_business.c.business_id,
                                                  TrainingRefusal.refused_on > per_business.c.first_sale,
                                                  TrainingRefusal.refused_on <= TODAY).scalar_subquery())
    query = sa.select(per_business.c.business_id, per_business.c.sales, per_business.c.first_sale,
                      refusals.label("refusals")).subquery()
    return sa.select(query).where(query.c.refusals >= sa.bindparam("min_refusals", type_=sa.Integer))


def candidate_query(rules: Rules, today: date, business_ids=None):
    """(statement, params) giving (business_id, sales, first_sale, refusals) for businesses meeting the sales and
    refusal parts of the rule: at least N underage seller sales within the window, and M training refusals after
    the first of them."""
    params = bind_params(business_ids, since=months_before(today, rules["candidate_window_months"]), today=today,
                     min_sales=rules["candidate_min_sales"], min_refusals=rules["candidate_min_refusals"])
    return cached_statement("candidates", scope_of(business_ids), _candidate_stmt), params


def candidate_ids(rules: Rules, today: date, business_ids=None, session: Session | None = None) -> tuple[set, set]:
    """(candidates, held): businesses meeting the rule, and those that would but enforcement is pending."""
    session = session or db.session
    stmt, params = candidate_query(rules, today, business_ids)
    meeting = {row[0] for row in session.execute(stmt, params)}
    pending = enforcement_pending_ids(meeting, session) if meeting else set()
    return meeting - pending, meeting & pending


# --- evidence for naming (cross-area reads used by retail.naming) ----------------------------------------------------
@london_wide
def candidate_evidence(business_id: int, today: date | None = None, rules: Rules | None = None) -> dict:
    """What the candidate rule sees for one business: the sales, the refusals after the first, pending enforcement."""
    return candidate_evidence_for([business_id], today, rules)[business_id]


@london_wide
def candidate_evidence_for(business_ids, today: date | None = None, rules: Rules | None = None) -> dict[int, dict]:
    """candidate_evidence for many businesses in three statements, whatever their number (the candidates page)."""
    today = today or today_london()
    rules = rules or current_rules()
    ids = list(dict.fromkeys(business_ids))
    results = {i: {"sales": [], "refusals": [], "pending": [], "meets_rule": False, "held": False} for i in ids}
    if not ids:
        return results
    since = months_before(today, rules["candidate_window_months"])
    # The naming rule's own query with the columns the page shows; both databases answer it from the index on
    # (stage, business_id), one range per business.
    query = (underage_sales_query(ids, since, today).add_columns(TestPurchase.channel, TestPurchase.outcome)
             .where(TestPurchase.purchase_date <= today)
             .order_by(TestPurchase.business_id, TestPurchase.purchase_date, TestPurchase.id))
    sales = db.session.execute(query).all()
    first_sale: dict[int, date] = {}
    for row in sales:
        first_sale.setdefault(row.business_id, row.purchase_date)
        results[row.business_id]["sales"].append({
            "record": f"test_purchase:{row.id}", "record_type": "test_purchase", "record_id": row.id,
            "date": row.purchase_date, "channel": row.channel.value,
            "description": f"{'In store' if row.channel == Channel.IN_STORE else 'Online'}: "
                           f"{OUTCOME_LABELS[row.outcome].lower() if row.outcome else 'failed'}"})
    if first_sale:
        refusals = db.session.execute(
            sa.select(TrainingRefusal.business_id, TrainingRefusal.id, TrainingRefusal.refused_on,
                      TrainingRefusal.kind, TrainingRefusal.invitation_id)
            .where(TrainingRefusal.business_id.in_(list(first_sale)), TrainingRefusal.refused_on <= today)
            .order_by(TrainingRefusal.business_id, TrainingRefusal.refused_on, TrainingRefusal.id)).all()
        for r in refusals:
            if r.refused_on <= first_sale[r.business_id]:
                continue  # only refusals after the first sale count
            results[r.business_id]["refusals"].append({
                "record": f"invitation:{r.invitation_id}" if r.invitation_id else f"training_refusal:{r.id}",
                "record_type": "invitation" if r.invitation_id else "training_refusal",
                "record_id": r.invitation_id or r.id, "date": r.refused_on,
                "description": "Training invitation declined" if r.kind == RefusalKind.DECLINED
                else "Did not attend booked training"})
    pending = db.session.execute(
        sa.select(FollowUpAction.business_id, FollowUpAction.id, FollowUpAction.action_type, FollowUpAction.decided_on)
        .where(FollowUpAction.business_id.in_(ids),
               FollowUpAction.action_type.in_((ActionType.SIMPLE_CAUTION, ActionType.PROSECUTION)),
               FollowUpAction.status == ActionStatus.PENDING)
        .order_by(FollowUpAction.business_id, FollowUpAction.id)).all()
    for p in pending:
        results[p.business_id]["pending"].append(
            {"record": f"follow_up_action:{p.id}", "type": p.action_type.value, "date": p.decided_on})
    for result in results.values():
        meets = (len(result["sales"]) >= rules["candidate_min_sales"]
                 and len(result["refusals"]) >= rules["candidate_min_refusals"])
        result["meets_rule"] = meets and not result["pending"]
        result["held"] = meets and bool(result["pending"])
    return results


@london_wide
def early_removal_evidence(business_id: int, since: date, today: date | None = None) -> dict:
    """For early removal of a published entry: a passed test purchase (a retest) and completed training, both after
    publication. Returns {"retest": id|None, "training": id|None}."""
    today = today or today_london()
    found = {"retest": None, "training": None}
    found["retest"] = db.session.scalar(
        sa.select(TestPurchase.id).where(TestPurchase.business_id == business_id,
                                         TestPurchase.stage == Stage.CONCLUDED, TestPurchase.failed.is_(False),
                                         TestPurchase.outcome.in_(PASS_OUTCOMES),
                                         TestPurchase.purchase_date >= since, TestPurchase.purchase_date <= today)
        .order_by(TestPurchase.purchase_date.desc()).limit(1))
    found["training"] = db.session.scalar(
        sa.select(TrainingAttendance.id).join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
        .where(TrainingAttendance.business_id == business_id, TrainingAttendance.passed.is_(True),
               TrainingAttendance.certificate_expires >= today,
               TrainingSession.starts_at >= datetime.combine(since, time(0), tzinfo=UTC))
        .order_by(TrainingAttendance.id.desc()).limit(1))
    return found


@london_wide
def enforcement_pending(business_id: int) -> bool:
    return business_id in enforcement_pending_ids([business_id])
