"""Follow-up actions after a test purchase: the retest scheduled after a failure, advice, cautions, prosecutions."""
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from ..models.purchases import ActionStatus, ActionType, FollowUpAction, Outcome, PurchaseKind, Stage, TestPurchase
from ..models.register import Business
from ..register import check_version
from ..rules import enforcement as enforcement_rules
from ..timeutil import add_months, today_london
from .errors import PurchaseError

RETEST_MONTHS = 3




def default_retest_due(purchase_date: date) -> date:
    """A failed premises is retested within three months by default."""
    return add_months(purchase_date, RETEST_MONTHS)


def _same_target(tp: TestPurchase, column_owner=FollowUpAction):
    return (column_owner.premises_id == tp.premises_id) if tp.premises_id else \
        (column_owner.online_store_id == tp.online_store_id)


def _counts_as_retest_for(kind: PurchaseKind) -> tuple[PurchaseKind, ...]:
    """Which kinds of attempt retest a failure of `kind`. An underage attempt retests anything (a Challenge 25
    failure is often retested with an under-18 volunteer: brief 2.2, Warwickshire); a Challenge 25 test, with an
    adult tester, cannot stand in for an underage retest."""
    if kind == PurchaseKind.CHALLENGE25:
        return (PurchaseKind.CHALLENGE25, PurchaseKind.UNDERAGE)
    return (PurchaseKind.UNDERAGE,)


def complete_pending_retests(tp: TestPurchase) -> None:
    """A later concluded attempt at the same shop or store, with a result, completes the retests waiting for it.
    An abandoned (inconclusive) attempt tested nothing, so it completes nothing."""
    if tp.outcome is None or tp.outcome == Outcome.INCONCLUSIVE:
        return
    failed_kinds = [k for k in PurchaseKind if tp.kind in _counts_as_retest_for(k)]
    pending = db.session.scalars(
        sa.select(FollowUpAction).join(TestPurchase, FollowUpAction.test_purchase_id == TestPurchase.id)
        .where(_same_target(tp), FollowUpAction.action_type == ActionType.RETEST,
               FollowUpAction.status == ActionStatus.PENDING, FollowUpAction.test_purchase_id != tp.id,
               TestPurchase.purchase_date < tp.purchase_date, TestPurchase.kind.in_(failed_kinds))).all()
    for action in pending:
        action.status = ActionStatus.COMPLETED
        action.completed_on = tp.purchase_date
        action.retest_purchase_id = tp.id


def _retest_already_done(tp: TestPurchase) -> TestPurchase | None:
    """The first later attempt at the same target that retests this one: attempts are often logged out of order
    (a team back-fills a failure after logging the week's later visits, or sends a phone's queue late)."""
    return db.session.scalar(
        sa.select(TestPurchase)
        .where(_same_target(tp, TestPurchase), TestPurchase.id != tp.id, TestPurchase.stage == Stage.CONCLUDED,
               TestPurchase.purchase_date > tp.purchase_date, TestPurchase.outcome.is_not(None),
               TestPurchase.outcome != Outcome.INCONCLUSIVE, TestPurchase.kind.in_(_counts_as_retest_for(tp.kind)))
        .order_by(TestPurchase.purchase_date, TestPurchase.id).limit(1))


def sync_retest(tp: TestPurchase, user=None) -> None:
    retests = [a for a in tp.actions if a.action_type == ActionType.RETEST]
    if tp.failed and not retests:
        done = _retest_already_done(tp)
        action = FollowUpAction(
            test_purchase=tp, business_id=tp.business_id, premises_id=tp.premises_id,
            online_store_id=tp.online_store_id, action_type=ActionType.RETEST, status=ActionStatus.PENDING,
            decided_on=today_london(), decided_by=getattr(user, "name", "") or "automatic",
            due_on=default_retest_due(tp.purchase_date), notes="Scheduled automatically after a failed test.")
        if done is not None:
            action.status = ActionStatus.COMPLETED
            action.completed_on = done.purchase_date
            action.retest_purchase_id = done.id
        db.session.add(action)
    elif not tp.failed:
        for action in retests:
            if action.status == ActionStatus.PENDING:
                action.status = ActionStatus.CANCELLED
                note = "Cancelled: the result is no longer a failure."
                action.notes = f"{action.notes}\n{note}" if action.notes else note


ACTION_FIELDS = ("action_type", "status", "decided_on", "decided_by", "due_on", "completed_on", "court", "hearing_on",
                 "court_result", "court_outcome", "fine", "costs", "primary_authority_notified_on", "notes")
_NULLABLE_ACTION_FIELDS = {"due_on", "completed_on", "hearing_on", "fine", "costs", "court_outcome",
                           "primary_authority_notified_on"}


def _apply_action(action: FollowUpAction, data: dict) -> None:
    for field in ACTION_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if isinstance(value, str):
            value = value.strip()
        if field in _NULLABLE_ACTION_FIELDS and value in ("", None):
            value = None
        elif field in {"fine", "costs"}:
            value = Decimal(str(value))
        elif value is None:
            value = ""
        setattr(action, field, value)
    action.action_type = ActionType(action.action_type)
    action.status = ActionStatus(action.status or ActionStatus.PENDING)


def _validate_action(action: FollowUpAction, tp: TestPurchase) -> None:
    today = today_london()
    if action.decided_on is None:
        raise PurchaseError("Enter the date of the decision.", "decided_on")
    if action.decided_on > today:
        raise PurchaseError("The decision date cannot be in the future.", "decided_on")
    if action.decided_on < tp.purchase_date:
        raise PurchaseError("The decision cannot come before the test purchase.", "decided_on")
    if action.action_type == ActionType.RETEST:
        if action.due_on is None:
            action.due_on = default_retest_due(tp.purchase_date)
        if action.due_on < tp.purchase_date:
            raise PurchaseError("The retest is due before the test purchase it follows.", "due_on")
    else:
        action.due_on = None
    if action.completed_on and action.completed_on > today:
        raise PurchaseError("The completion date cannot be in the future.", "completed_on")
    enforcement = action.action_type in (ActionType.SIMPLE_CAUTION, ActionType.PROSECUTION)
    if enforcement and tp.kind == PurchaseKind.CHALLENGE25:
        raise PurchaseError("A Challenge 25 test is a policy check, not an offence: it cannot lead to a caution or "
                            "prosecution.", "action_type")
    if action.action_type == ActionType.PROSECUTION:
        for field in ("fine", "costs"):
            value = getattr(action, field)
            if value is not None and value < 0:
                raise PurchaseError("Amounts cannot be negative.", field)
        if action.court_outcome is not None and action.court_outcome not in set(enforcement_rules.CourtOutcome):
            raise PurchaseError("Choose the court's outcome from the list.", "court_outcome")
        if action.status == ActionStatus.COMPLETED and not action.court_outcome:
            raise PurchaseError("Record how the case ended (convicted, acquitted or withdrawn) to complete a "
                                "prosecution: only a conviction counts against the business.", "court_outcome")
        if action.status == ActionStatus.PENDING:
            action.court_outcome = None
    else:
        action.court, action.hearing_on, action.court_result, action.fine, action.costs = "", None, "", None, None
        action.court_outcome = None
    _check_primary_authority(action, tp)
    if action.action_type in (ActionType.NONE, ActionType.ADVICE_LETTER, ActionType.WARNING_LETTER) and \
            action.status == ActionStatus.PENDING and action.completed_on:
        action.status = ActionStatus.COMPLETED


def _check_primary_authority(action: FollowUpAction, tp: TestPurchase) -> None:
    """Formal action against a business in a Primary Authority partnership is notified to the Primary Authority
    first (Regulatory Enforcement and Sanctions Act 2008, Part 2; rules.enforcement.FORMAL_ACTIONS)."""
    if action.action_type.value not in enforcement_rules.FORMAL_ACTIONS:
        action.primary_authority_notified_on = None
        return
    with db.session.no_autoflush:  # the action is not in the session yet: reading the business must not flush it
        business = tp.business or db.session.get(Business, tp.business_id)
        partner = primary_authority_name(business)
    if not partner:
        return
    notified = action.primary_authority_notified_on
    if notified is None:
        raise PurchaseError(f"{business.display_name} has a Primary Authority ({partner}): notify it of the "
                            f"proposed {action.type_label.lower()} first and record the date here.",
                            "primary_authority_notified_on")
    if notified > today_london():
        raise PurchaseError("The notification date cannot be in the future.", "primary_authority_notified_on")
    if notified > action.decided_on:
        raise PurchaseError("The Primary Authority must be notified before the decision: check the dates.",
                            "primary_authority_notified_on")


def primary_authority_name(business) -> str:
    """The business's Primary Authority partner, from the authority register or as recorded; blank if none."""
    if business is None:
        return ""
    if business.primary_authority_id:
        partner = business.primary_authority_partner
        return partner.name if partner is not None else business.primary_authority
    return (business.primary_authority or "").strip()


def sync_enforcement_stage(tp: TestPurchase) -> None:
    """Keep the test purchase's enforcement stage in step with its follow-up actions (rules.enforcement)."""
    actions = db.session.scalars(sa.select(FollowUpAction).where(FollowUpAction.test_purchase_id == tp.id)).all()
    tp.enforcement_stage = enforcement_rules.stage(
        enforcement_rules.Action(str(a.action_type), str(a.status), a.court_outcome) for a in actions).value


def add_action(tp: TestPurchase, data: dict, user=None) -> FollowUpAction:
    if tp.stage != Stage.CONCLUDED:
        raise PurchaseError("Set the outcome before deciding the follow-up.", "action_type")
    action = FollowUpAction(test_purchase=tp, business_id=tp.business_id, premises_id=tp.premises_id,
                            online_store_id=tp.online_store_id)
    _apply_action(action, {"decided_by": getattr(user, "name", ""), **data})
    _validate_action(action, tp)
    db.session.add(action)
    db.session.flush()
    sync_enforcement_stage(tp)
    db.session.flush()
    return action


def update_action(action: FollowUpAction, data: dict, version=None) -> FollowUpAction:
    check_version(action, version)
    _apply_action(action, data)
    _validate_action(action, action.test_purchase)
    db.session.flush()
    sync_enforcement_stage(action.test_purchase)
    db.session.flush()
    return action


def enforcement_summary(tp: TestPurchase) -> dict | None:
    """Where a failure's enforcement stands, in officers' words: the stage, the prosecution time limit, and whether
    (and why not) it counts against the business (rules.enforcement, brief 5.3)."""
    if not tp.failed:
        return None
    stage_now = enforcement_rules.Stage(tp.enforcement_stage)
    today = today_london()
    return {"stage": enforcement_rules.STAGE_LABELS[stage_now],
            "time_limit": enforcement_rules.time_limit(tp.purchase_date),
            "counts": enforcement_rules.counts_against(stage_now, tp.purchase_date, today),
            "why_not": enforcement_rules.why_not_counted(stage_now, tp.purchase_date, today)}
