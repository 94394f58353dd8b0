"""The case up to the decision: open, propose, approve the notice or reject, send it, representations, decide."""
from __future__ import annotations

from datetime import date, timedelta

from .. import scoring
from ..access import Role
from ..audit import record_event
from ..extensions import db
from ..models.compliance import CaseStatus, NamingAttachment, NamingCase
from ..models.register import Business
from ..naming_public import _places, sale_places
from ..timeutil import today_london, utcnow
from .candidacy import _evidence_snapshot
from .rules import (ALLOWED_ATTACHMENT_TYPES, DECIDERS, MAX_ATTACHMENT_BYTES, MAX_STATEMENT, PROPOSERS, NamingError,
                    _require, _require_role, _step, _text, editor_ids, involved_user_ids, open_case_for, window_open)


def open_case(business: Business, user, reason: str = "", today: date | None = None) -> NamingCase:
    """Open a case for a business that meets the candidate rule now (checked against the records, not the score)."""
    _require_role(user, PROPOSERS, "officers and supervisors")
    if open_case_for(business.id):
        raise NamingError("This business already has an open naming case.")
    evidence = scoring.candidate_evidence(business.id, today)
    if evidence["held"]:
        raise NamingError("A caution or prosecution decision is pending: the business cannot be named meanwhile.")
    if not evidence["meets_rule"]:
        raise NamingError("This business does not meet the candidate rule.")
    case = NamingCase(business_id=business.id, status=CaseStatus.CANDIDATE, opened_by_id=user.id,
                      evidence=_evidence_snapshot(evidence))
    db.session.add(case)
    _step(case, user, "opened", CaseStatus.CANDIDATE, reason or "Meets the candidate rule")
    db.session.flush()
    return case


def propose(case: NamingCase, user, statement: str, reason: str = "", published_name: str | None = None,
            name_confirmed: bool = True) -> NamingCase:
    """An officer proposes naming, with a draft public statement of facts (only facts with evidence) and the name to
    publish: the trading name, which the officer confirms is not a sole trader's personal name, or edits (issue 9
    part 3, brief 5.2: a sole trader named with alleged offences is criminal-offence data)."""
    _require(case, CaseStatus.CANDIDATE, CaseStatus.PROPOSED)
    _require_role(user, PROPOSERS, "officers and supervisors")
    if scoring.enforcement_pending(case.business_id):
        raise NamingError("A caution or prosecution decision is pending: the business cannot be named meanwhile.")
    name = _text(published_name if published_name is not None else case.business.display_name,
                 "name to publish", 200)
    if not name_confirmed:
        raise NamingError("Confirm that the name to publish is not a sole trader's personal name, or change it to "
                          "one that is not (for example the shop's name).")
    case.statement = _text(statement, "public statement of facts", MAX_STATEMENT)
    case.published_name = name
    first = case.status == CaseStatus.CANDIDATE
    case.proposed_by_id = user.id
    case.proposed_at = utcnow()
    _step(case, user, "proposed" if first else "statement revised", CaseStatus.PROPOSED, reason)
    db.session.flush()
    return case


def approve_notice(case: NamingCase, user, reason: str = "") -> NamingCase:
    """A supervisor who is not the proposer approves sending the notice of intent."""
    _require(case, CaseStatus.PROPOSED)
    _require_role(user, DECIDERS, "supervisors")
    if user.id in editor_ids(case):
        raise NamingError("You proposed or edited this case: another supervisor must approve it.")
    case.approved_by_id = user.id
    case.approved_at = utcnow()
    # What the supervisor approves is what will be published, whatever the register says later.
    case.published_name = (case.published_name or case.business.display_name)[:200]
    # ...and the shops and websites where the cited sales happened, as the register has them now (issue 9 part 3):
    # a later edit of a shop's address does not change an entry outside the two-person approval.
    premises, websites = sale_places([case])
    case.published_places = _places(premises[case.id], websites[case.id])
    case.published_legal_name = (case.business.legal_name if (case.business.company_number or "").strip()
                                 else case.published_name)[:200]
    _step(case, user, "approved for notice", CaseStatus.APPROVED, reason)
    db.session.flush()
    return case


def reject_proposal(case: NamingCase, user, reasons: str) -> NamingCase:
    """A supervisor (not the proposer) stops the case before any notice: decided, no action, with reasons."""
    _require(case, CaseStatus.CANDIDATE, CaseStatus.PROPOSED, CaseStatus.APPROVED)
    _require_role(user, DECIDERS, "supervisors")
    if user.id in editor_ids(case):
        raise NamingError("You proposed or edited this case: another supervisor must decide on it.")
    case.decision_reasons = _text(reasons, "reasons")
    case.decided_by_id = user.id
    case.decided_at = utcnow()
    _step(case, user, "no action", CaseStatus.NO_ACTION, case.decision_reasons)
    db.session.flush()
    return case


def send_notice(case: NamingCase, user, on: date | None = None, days: int | None = None) -> NamingCase:
    """Record the notice of intent as sent; the representations window runs from that date."""
    _require(case, CaseStatus.APPROVED)
    _require_role(user, PROPOSERS, "officers and supervisors")
    on = on or today_london()
    days = days or scoring.current_rules()["representation_days"]
    case.notice_sent_on = on
    case.notice_sent_by_id = user.id
    case.representations_due = on + timedelta(days=days)
    _step(case, user, "notice sent", CaseStatus.NOTICE_SENT,
          f"Representations due by {case.representations_due:%d %b %Y}")
    db.session.flush()
    return case


def submit_representations(case: NamingCase, user, text: str, today: date | None = None) -> NamingCase:
    """The business (or staff on its behalf) makes representations while the window is open."""
    _require(case, CaseStatus.NOTICE_SENT, CaseStatus.REPRESENTATIONS)
    if user is None or not (user.role in PROPOSERS or (user.role == Role.RETAILER
                                                       and user.business_id == case.business_id)):
        raise NamingError("Only the business, or an officer recording what it sent, can make representations.")
    if not window_open(case, today):
        raise NamingError("The deadline for representations has passed.")
    text = _text(text, "representations")
    stamp = utcnow()
    entry = f"[{stamp:%d %b %Y %H:%M} UTC, {user.email}]\n{text}"
    case.representations_text = (case.representations_text + "\n\n" + entry).strip()
    case.representations_at = stamp
    case.representations_by = user.email
    _step(case, user, "representations received", CaseStatus.REPRESENTATIONS, text[:200])
    db.session.flush()
    return case


def add_attachment(case: NamingCase, user, filename: str, content_type: str, data: bytes,
                   today: date | None = None) -> NamingAttachment:
    _require(case, CaseStatus.NOTICE_SENT, CaseStatus.REPRESENTATIONS)
    if not window_open(case, today):
        raise NamingError("The deadline for representations has passed.")
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type not in ALLOWED_ATTACHMENT_TYPES:
        raise NamingError("Attach a PDF, Word document, text file or a JPEG/PNG image.")
    if not data:
        raise NamingError("The file is empty.")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise NamingError(f"The file is too large (limit {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB).")
    name = (filename or "attachment").replace("\\", "/").rsplit("/", 1)[-1][:200] or "attachment"
    attachment = NamingAttachment(case=case, filename=name, content_type=content_type, size=len(data), data=data,
                                  uploaded_by_id=user.id, uploaded_by=user.email)
    db.session.add(attachment)
    db.session.flush()
    record_event("NamingCase", case.id, f"attachment added: {name} ({len(data)} bytes)")
    return attachment


def decide(case: NamingCase, user, publish: bool, reasons: str, today: date | None = None) -> NamingCase:
    """A supervisor not involved in the proposal decides, after the window closes: publish, or no action."""
    _require(case, CaseStatus.NOTICE_SENT, CaseStatus.REPRESENTATIONS)
    _require_role(user, DECIDERS, "supervisors")
    if user.id in involved_user_ids(case):
        raise NamingError("You were involved in the proposal: a supervisor who was not must decide.")
    if window_open(case, today):
        raise NamingError(f"The representations window is open until {case.representations_due:%d %b %Y}.")
    reasons = _text(reasons, "reasons for the decision")
    if publish and scoring.enforcement_pending(case.business_id):
        raise NamingError("A caution or prosecution decision is pending: nothing can be published meanwhile.")
    case.decided_by_id = user.id
    case.decided_at = utcnow()
    case.decision_reasons = reasons
    if publish:  # the business's appeal window runs from the decision (issue 9 part 1)
        case.appeal_due = (today or today_london()) + timedelta(days=scoring.current_rules()["appeal_days"])
    _step(case, user, "decided: publish" if publish else "decided: no action",
          CaseStatus.DECIDED_PUBLISH if publish else CaseStatus.NO_ACTION,
          reasons + (f" (appeal open until {case.appeal_due:%d %b %Y})" if publish else ""))
    db.session.flush()
    return case
