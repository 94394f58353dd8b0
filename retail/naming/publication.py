"""Publication and after: when a case may be published, publishing, early removal, withdrawal and expiry."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from .. import scoring
from ..extensions import db
from ..models.compliance import CaseStatus, NamingCase
from ..timeutil import add_months, today_london, utcnow
from .rules import APPEAL_REFUSED, DECIDERS, NamingError, _require, _require_role, _step, _text, editor_ids, window_open


def can_publish(case: NamingCase, today: date | None = None,
                pending_ids: set[int] | None = None) -> tuple[bool, str]:
    """Whether the case may be published now, and why not. `pending_ids`: businesses with enforcement pending,
    when the caller has them for many cases at once (one query, not one per case)."""
    if case.status == CaseStatus.APPEALED:
        return False, "The business has appealed: nothing is published until the appeal is decided."
    if case.status != CaseStatus.DECIDED_PUBLISH:
        return False, "Only a case decided for publication can be published."
    if case.representations_due is None or window_open(case, today):
        return False, "The representations window is still open."
    if case.appeal_outcome != APPEAL_REFUSED:  # an appeal refused: published without waiting out the window
        if case.appeal_due is None:
            return False, "No appeal window was set when this case was decided."
        if (today or today_london()) <= case.appeal_due:
            return False, f"The business can appeal until {case.appeal_due:%d %b %Y}; publish after that."
    pending = (case.business_id in pending_ids) if pending_ids is not None else \
        scoring.enforcement_pending(case.business_id)
    if pending:
        return False, "A caution or prosecution decision is pending."
    return True, ""


def publish(case: NamingCase, user, on: date | None = None) -> NamingCase:
    _require_role(user, DECIDERS, "supervisors")
    if user.id in editor_ids(case):
        raise NamingError("You proposed or edited this case: another supervisor must publish it.")
    on = on or today_london()
    ok, why = can_publish(case, on)
    if not ok:
        raise NamingError(why)
    case.published_on = on
    case.published_by_id = user.id
    case.expires_on = add_months(on, scoring.current_rules()["publish_months"])
    _step(case, user, "published", CaseStatus.PUBLISHED, f"On the public register until {case.expires_on:%d %b %Y}")
    db.session.flush()
    return case


def remove_early(case: NamingCase, user, reason: str, today: date | None = None) -> NamingCase:
    """On request, after a passed retest and completed training (both after publication)."""
    _require(case, CaseStatus.PUBLISHED)
    _require_role(user, DECIDERS, "supervisors")
    reason = _text(reason, "reason for early removal")
    evidence = scoring.early_removal_evidence(case.business_id, case.published_on, today)
    if not evidence["retest"] or not evidence["training"]:
        missing = [what for what, key in (("a passed retest", "retest"), ("completed training", "training"))
                   if not evidence[key]]
        raise NamingError("Early removal needs " + " and ".join(missing) + " since publication.")
    case.removed_on = today or today_london()
    case.removed_reason = (f"Removed early: {reason} (passed test purchase {evidence['retest']}, "
                           f"training attendance {evidence['training']})")
    _step(case, user, "removed early", CaseStatus.REMOVED, case.removed_reason)
    db.session.flush()
    return case


def request_withdrawal(case: NamingCase, user, reason: str) -> NamingCase:
    """A supervisor asks for a published entry to come off the register at once (published in error, facts
    wrong, conviction quashed...), with a reason; another supervisor confirms (issue 9 part 1)."""
    _require(case, CaseStatus.PUBLISHED)
    _require_role(user, DECIDERS, "supervisors")
    if case.withdrawal_requested_by_id:
        raise NamingError("A withdrawal has already been asked for: another supervisor must confirm it.")
    case.withdrawal_reason = _text(reason, "reason for the withdrawal")
    case.withdrawal_requested_by_id = user.id
    case.withdrawal_requested_at = utcnow()
    _step(case, user, "withdrawal asked for", None, case.withdrawal_reason)
    db.session.flush()
    return case


def confirm_withdrawal(case: NamingCase, user, today: date | None = None) -> NamingCase:
    """A second supervisor confirms: the entry leaves the public page and open data at once, and the API lists it
    as withdrawn with the date."""
    _require(case, CaseStatus.PUBLISHED)
    _require_role(user, DECIDERS, "supervisors")
    if not case.withdrawal_requested_by_id:
        raise NamingError("No withdrawal has been asked for.")
    if user.id == case.withdrawal_requested_by_id:
        raise NamingError("You asked for this withdrawal: another supervisor must confirm it.")
    case.withdrawn_on = case.removed_on = today or today_london()
    case.removed_reason = f"Withdrawn: {case.withdrawal_reason}"
    _step(case, user, "withdrawn", CaseStatus.REMOVED, case.withdrawal_reason)
    db.session.flush()
    return case


def withdraw(case: NamingCase, user, reason: str = "") -> str:
    """The case page's one withdrawal button: asks for the withdrawal, or confirms another supervisor's request.
    Returns what happened, for the message."""
    if case.withdrawal_requested_by_id:
        confirm_withdrawal(case, user)
        return "Withdrawn: the entry is off the public register and listed as withdrawn in the open data."
    request_withdrawal(case, user, reason)
    return "Withdrawal asked for: another supervisor must confirm it."


def withdrawn_query():
    """Entries withdrawn after publication, newest first: open-data re-users remove them from their copies."""
    return (sa.select(NamingCase.id, NamingCase.withdrawn_on)
            .where(NamingCase.status == CaseStatus.REMOVED, NamingCase.withdrawn_on.is_not(None))
            .order_by(NamingCase.withdrawn_on.desc(), NamingCase.id.desc()))


def expire_published(as_of: date | None = None) -> int:
    """Move entries past their expiry on `as_of` (default today) to 'removed' (the public pages already hide them by
    date); returns how many were removed. The retention job calls it with its --as-of date."""
    today = as_of or today_london()
    cases = db.session.scalars(sa.select(NamingCase).where(NamingCase.status == CaseStatus.PUBLISHED,
                                                           NamingCase.expires_on <= today)).all()
    for case in cases:
        case.removed_on = case.expires_on
        case.removed_reason = "Expired"
        _step(case, None, "expired", CaseStatus.REMOVED, f"Publication period ended {case.expires_on:%d %b %Y}")
    db.session.flush()
    return len(cases)


def nightly_expire() -> None:
    """Scheduler job: move expired entries to 'removed' (the public register already hides them by date)."""
    from ..audit import acting_as

    with acting_as("scheduler:naming-expire"):
        expire_published()
        db.session.commit()
