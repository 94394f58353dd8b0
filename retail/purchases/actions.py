"""Follow-up actions after a test purchase: the retest scheduled after a failure, advice, cautions, prosecutions."""
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from ..models.purchases import ActionStatus, ActionType, FollowUpAction, PurchaseKind, Stage, TestPurchase
from ..register import check_version
from ..timeutil import add_months, today_london
from .errors import PurchaseError

RETEST_MONTHS = 3




def default_retest_due(purchase_date: date) -> date:
    """A failed premises is retested within three months by default."""
    return add_months(purchase_date, RETEST_MONTHS)


def complete_pending_retests(tp: TestPurchase) -> None:
    """A new concluded attempt at the same shop or store (same kind) completes a retest that was waiting for it."""
    target = (FollowUpAction.premises_id == tp.premises_id) if tp.premises_id else \
        (FollowUpAction.online_store_id == tp.online_store_id)
    pending = db.session.scalars(
        sa.select(FollowUpAction).join(TestPurchase, FollowUpAction.test_purchase_id == TestPurchase.id)
        .where(target, FollowUpAction.action_type == ActionType.RETEST,
               FollowUpAction.status == ActionStatus.PENDING, FollowUpAction.test_purchase_id != tp.id,
               TestPurchase.purchase_date < tp.purchase_date, TestPurchase.kind == tp.kind)).all()
    for action in pending:
        action.status = ActionStatus.COMPLETED
        action.completed_on = tp.purchase_date
        action.retest_purchase_id = tp.id


def sync_retest(tp: TestPurchase, user=None) -> None:
    retests = [a for a in tp.actions if a.action_type == ActionType.RETEST]
    if tp.failed and not retests:
        db.session.add(FollowUpAction(
            test_purchase=tp, business_id=tp.business_id, premises_id=tp.premises_id,
            online_store_id=tp.online_store_id, action_type=ActionType.RETEST, status=ActionStatus.PENDING,
            decided_on=today_london(), decided_by=getattr(user, "name", "") or "automatic",
            due_on=default_retest_due(tp.purchase_date), notes="Scheduled automatically after a failed test."))
    elif not tp.failed:
        for action in retests:
            if action.status == ActionStatus.PENDING:
                action.status = ActionStatus.CANCELLED
                note = "Cancelled: the result is no longer a failure."
                action.notes = f"{action.notes}\n{note}" if action.notes else note


ACTION_FIELDS = ("action_type", "status", "decided_on", "decided_by", "due_on", "completed_on", "court", "hearing_on",
                 "court_result", "fine", "costs", "notes")


def _apply_action(action: FollowUpAction, data: dict) -> None:
    for field in ACTION_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if isinstance(value, str):
            value = value.strip()
        if field in {"due_on", "completed_on", "hearing_on", "fine", "costs"} and value in ("", None):
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
        if action.status == ActionStatus.COMPLETED and not action.court_result:
            raise PurchaseError("Record the court's result to complete a prosecution.", "court_result")
    else:
        action.court, action.hearing_on, action.court_result, action.fine, action.costs = "", None, "", None, None
    if action.action_type in (ActionType.NONE, ActionType.ADVICE_LETTER, ActionType.WARNING_LETTER) and \
            action.status == ActionStatus.PENDING and action.completed_on:
        action.status = ActionStatus.COMPLETED


def add_action(tp: TestPurchase, data: dict, user=None) -> FollowUpAction:
    if tp.stage != Stage.CONCLUDED:
        raise PurchaseError("Set the outcome before deciding the follow-up.", "action_type")
    action = FollowUpAction(test_purchase=tp, business_id=tp.business_id, premises_id=tp.premises_id,
                            online_store_id=tp.online_store_id)
    _apply_action(action, {"decided_by": getattr(user, "name", ""), **data})
    _validate_action(action, tp)
    db.session.add(action)
    db.session.flush()
    return action


def update_action(action: FollowUpAction, data: dict, version=None) -> FollowUpAction:
    check_version(action, version)
    _apply_action(action, data)
    _validate_action(action, action.test_purchase)
    db.session.flush()
    return action
