"""Who may take which step, and what every step shares: limits, NamingError, the step record, two-person checks."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..access import Role
from ..audit import set_reason
from ..extensions import db
from ..models.compliance import CASE_STATUS_LABELS, OPEN_STATUSES, CaseStatus, NamingCase, NamingStep
from ..timeutil import today_london, utcnow
from ..validation import InvalidValue

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
ALLOWED_ATTACHMENT_TYPES = {
    "application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png", "text/plain": ".txt",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
MAX_TEXT = 10_000
MAX_STATEMENT = 2_000
# Separation of duties (issue 9): administrators manage users and settings only; they never propose, approve,
# decide or publish, so one person with an admin account cannot get round the two-person rule (brief 5.3 step 4).
PROPOSERS = frozenset({Role.OFFICER, Role.SUPERVISOR})
DECIDERS = frozenset({Role.SUPERVISOR})
# Steps that shape what would be published: whoever took one of them "edited" the case.
EDIT_ACTIONS = ("opened", "proposed", "statement revised")


class NamingError(InvalidValue):
    """A workflow step that the rules do not allow (wrong stage, wrong person, window still open...)."""


# --- helpers --------------------------------------------------------------------------------------------------------

def _actor(user) -> tuple[int | None, str]:
    if user is None:
        return None, "system"
    return user.id, user.email


def _step(case: NamingCase, user, action: str, to_status: CaseStatus | None, reason: str = "") -> None:
    user_id, actor = _actor(user)
    from_status = case.status.value if case.status else ""
    if to_status is not None:
        case.status = to_status
    case.steps.append(NamingStep(at=utcnow(), user_id=user_id, actor=actor, action=action, from_status=from_status,
                                 to_status=case.status.value, reason=reason))
    set_reason(f"{action}: {reason}" if reason else action)


def _require(case: NamingCase, *statuses: CaseStatus) -> None:
    if case.status not in statuses:
        allowed = ", ".join(CASE_STATUS_LABELS[s].lower() for s in statuses)
        raise NamingError(f"This case is '{case.status_label.lower()}'; this step needs it to be: {allowed}.")


def _require_role(user, roles, what: str) -> None:
    if user is None or user.role not in roles:
        raise NamingError(f"Only {what} can do this.")


def _text(value: str | None, what: str, limit: int = MAX_TEXT, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise NamingError(f"Enter the {what}.")
    if len(value) > limit:
        raise NamingError(f"The {what} is too long ({len(value)} characters; the limit is {limit}).")
    return value


def editor_ids(case: NamingCase) -> set[int]:
    """Whoever opened, proposed or revised the case: none of them may approve, decide or publish it."""
    ids = {uid for uid in (case.opened_by_id, case.proposed_by_id) if uid}
    ids |= {step.user_id for step in case.steps if step.action in EDIT_ACTIONS and step.user_id}
    return ids


def involved_user_ids(case: NamingCase) -> set[int]:
    """People involved in the proposal: whoever opened, proposed, revised or approved it. None of them may decide."""
    return editor_ids(case) | ({case.approved_by_id} if case.approved_by_id else set())


APPEAL_ALLOWED, APPEAL_REFUSED = "allowed", "refused"


def appeal_deciders_excluded(case: NamingCase) -> set[int]:
    """Everyone involved in the case so far: the proposal, its approval and the decision appealed against. None of
    them may decide the appeal (naming_appeal.decide_appeal, and the home page's list of appeals to decide)."""
    return involved_user_ids(case) | ({case.decided_by_id} if case.decided_by_id else set())


def lock_case(case_id: int) -> NamingCase | None:
    """The case, locked for this transaction (PostgreSQL: SELECT ... FOR UPDATE) and read afresh, so simultaneous
    sends queue behind each other instead of failing on a stale version (issue 14)."""
    return db.session.scalar(sa.select(NamingCase).where(NamingCase.id == case_id).with_for_update()
                             .execution_options(populate_existing=True))


def window_open(case: NamingCase, today: date | None = None) -> bool:
    today = today or today_london()
    return case.representations_due is not None and today <= case.representations_due


def open_case_for(business_id: int) -> NamingCase | None:
    return db.session.scalar(sa.select(NamingCase).where(NamingCase.business_id == business_id,
                                                         NamingCase.status.in_(OPEN_STATUSES))
                             .order_by(NamingCase.id.desc()).limit(1))
