"""The business's right of reply: submitted once the notice is sent, published once a supervisor has checked it."""
from __future__ import annotations

from ..extensions import db
from ..models.compliance import CaseStatus, NamingCase, ReplyStatus
from ..timeutil import utcnow
from .rules import DECIDERS, NamingError, _require_role, _step, _text


def submit_reply(case: NamingCase, user, text: str) -> NamingCase:
    """The business's right to reply, published next to the entry once a supervisor has checked it."""
    if case.status not in (CaseStatus.NOTICE_SENT, CaseStatus.REPRESENTATIONS, CaseStatus.DECIDED_PUBLISH,
                           CaseStatus.APPEALED, CaseStatus.PUBLISHED):
        raise NamingError("A reply can be given once the notice has been sent and while the entry is live.")
    case.reply_text = _text(text, "reply", 3000)
    case.reply_status = ReplyStatus.PENDING
    case.reply_submitted_at = utcnow()
    case.reply_checked_by_id = None
    case.reply_checked_at = None
    case.reply_rejection_reason = ""
    _step(case, user, "reply submitted", None)
    db.session.flush()
    return case


def check_reply(case: NamingCase, user, approve: bool, reason: str = "") -> NamingCase:
    _require_role(user, DECIDERS, "supervisors")
    if case.reply_status != ReplyStatus.PENDING:
        raise NamingError("There is no reply waiting to be checked.")
    if not approve:
        reason = _text(reason, "reason the reply cannot be published")
    case.reply_status = ReplyStatus.APPROVED if approve else ReplyStatus.REJECTED
    case.reply_checked_by_id = user.id
    case.reply_checked_at = utcnow()
    case.reply_rejection_reason = "" if approve else reason
    _step(case, user, "reply approved" if approve else "reply rejected", None, reason)
    db.session.flush()
    return case
