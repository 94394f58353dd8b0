"""The appeal after a decision to publish (issue 9 part 1, brief 5.2: the Food Hygiene Rating Scheme's appeal
before publication). The business has `appeal_days` (rules, default 21) from the decision to appeal; a supervisor
involved in neither the proposal nor the decision decides it; nothing is published while the window is open or an
appeal waits, and an appeal allowed closes the case with no action."""
from __future__ import annotations

from datetime import date

from .access import Role
from .extensions import db
from .models.compliance import CaseStatus, NamingCase
from .naming import (APPEAL_ALLOWED as ALLOWED, APPEAL_REFUSED as REFUSED, DECIDERS, PROPOSERS, NamingError, _require,
                     _require_role, _step, _text, appeal_deciders_excluded)
from .timeutil import today_london, utcnow


def appeal_open(case: NamingCase, today: date | None = None) -> bool:
    """A decision to publish that can still be appealed."""
    today = today or today_london()
    return (case.status == CaseStatus.DECIDED_PUBLISH and not case.appeal_outcome and case.appeal_due is not None
            and today <= case.appeal_due)


def lodge_appeal(case: NamingCase, user, grounds: str, today: date | None = None) -> NamingCase:
    """The business appeals (from its portal), or an officer records an appeal it sent in writing. Refused once the
    window has closed; the case then waits for an uninvolved supervisor and cannot be published meanwhile."""
    _require(case, CaseStatus.DECIDED_PUBLISH)
    if user is None or not (user.role in PROPOSERS or (user.role == Role.RETAILER
                                                       and user.business_id == case.business_id)):
        raise NamingError("Only the business, or an officer recording the appeal it sent, can appeal.")
    if case.appeal_outcome:
        raise NamingError("The appeal has already been decided.")
    if not appeal_open(case, today):
        due = f" on {case.appeal_due:%d %b %Y}" if case.appeal_due else ""
        raise NamingError(f"The time to appeal closed{due}: an appeal can no longer be lodged.")
    grounds = _text(grounds, "grounds of appeal")
    stamp = utcnow()
    case.appeal_text = f"[{stamp:%d %b %Y %H:%M} UTC, {user.email}]\n{grounds}"
    case.appeal_lodged_at = stamp
    case.appeal_lodged_by = user.email
    _step(case, user, "appeal lodged", CaseStatus.APPEALED, grounds[:200])
    db.session.flush()
    return case


def decide_appeal(case: NamingCase, user, allow: bool, reasons: str) -> NamingCase:
    """A supervisor not involved in the case decides. Allowed: the case closes with no action. Refused: the case can
    be published at once (the window no longer matters: the business has had its appeal)."""
    _require(case, CaseStatus.APPEALED)
    _require_role(user, DECIDERS, "supervisors")
    if user.id in appeal_deciders_excluded(case):
        raise NamingError("You were involved in this case or its decision: a supervisor who was not must decide "
                          "the appeal.")
    reasons = _text(reasons, "reasons for the appeal decision")
    case.appeal_outcome = ALLOWED if allow else REFUSED
    case.appeal_decided_by_id = user.id
    case.appeal_decided_at = utcnow()
    case.appeal_reasons = reasons
    _step(case, user, "appeal allowed" if allow else "appeal refused",
          CaseStatus.NO_ACTION if allow else CaseStatus.DECIDED_PUBLISH, reasons)
    db.session.flush()
    return case
