"""The naming workflow: candidate → proposed → approved for notice → notice sent → representations → decided →
(appeal: naming_appeal) → published → removed. Every step records who, when and why; the fairness rules are checked
here, not in the views."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from . import scoring
from .access import Role
from .audit import record_event, set_reason
from .extensions import db
from .models.compliance import (CASE_STATUS_LABELS, OPEN_STATUSES, RETAILER_STATUSES, CaseStatus, ComplianceScore,
                                NamingAttachment, NamingCase, NamingStep, ReplyStatus)
from .models.register import Business
from .naming_public import _places, sale_places
from .timeutil import today_london, utcnow
from .timeutil import add_months
from .validation import InvalidValue

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


# --- candidates -----------------------------------------------------------------------------------------------------

CANDIDATES_PER_PAGE = 50


def candidates(today: date | None = None, page: int = 1, per_page: int = CANDIDATES_PER_PAGE):
    """Businesses whose current score says they meet the candidate rule, highest score first, a page at a time:
    (entries with their evidence and any open case, the paginator). A fixed number of statements per page."""
    query = (sa.select(ComplianceScore).join(Business, Business.id == ComplianceScore.business_id)
             .options(sa.orm.contains_eager(ComplianceScore.business))
             .where(ComplianceScore.current.is_(True), ComplianceScore.candidate.is_(True))
             .order_by(ComplianceScore.total.desc(), Business.trading_name_key, Business.id))
    pager = db.paginate(query, page=page, per_page=per_page, error_out=False, max_per_page=per_page)
    scores = list(pager.items)
    ids = [score.business_id for score in scores]
    cases = {}
    if ids:
        for case in db.session.scalars(sa.select(NamingCase).where(NamingCase.business_id.in_(ids))
                                       .order_by(NamingCase.id)):
            cases[case.business_id] = case
    evidence = scoring.candidate_evidence_for(ids, today, scoring.current_rules())  # one query each, not per row
    entries = [{"score": score, "business": score.business, "case": cases.get(score.business_id),
                "evidence": evidence[score.business_id]} for score in scores]
    return entries, pager


def held_candidates() -> list[tuple[ComplianceScore, Business]]:
    """Businesses that would be candidates but a caution or prosecution decision is pending."""
    return db.session.execute(
        sa.select(ComplianceScore, Business).join(Business, Business.id == ComplianceScore.business_id)
        .where(ComplianceScore.current.is_(True), ComplianceScore.enforcement_pending.is_(True))
        .order_by(Business.trading_name_key)).all()


def _evidence_snapshot(evidence: dict) -> list[dict]:
    items = []
    for key in ("sales", "refusals"):
        for item in evidence[key]:
            items.append({"kind": "sale" if key == "sales" else "refusal", "date": item["date"].isoformat(),
                          "record": item["record"], "description": item["description"]})
    return items


# --- the workflow ---------------------------------------------------------------------------------------------------

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


# --- lists ----------------------------------------------------------------------------------------------------------

def cases_by_stage() -> dict[CaseStatus, list[NamingCase]]:
    cases = db.session.scalars(sa.select(NamingCase).options(selectinload(NamingCase.business))
                               .order_by(NamingCase.updated_at.desc())).all()
    grouped = {status: [] for status in CaseStatus}
    for case in cases:
        grouped[case.status].append(case)
    return grouped


def stage_counts() -> dict[str, int]:
    """Naming cases by stage (for the measures dashboard)."""
    counts = {status.value: 0 for status in CaseStatus}
    counts.update({getattr(s, "value", s): n for s, n in db.session.execute(
        sa.select(NamingCase.status, sa.func.count()).group_by(NamingCase.status))})
    return counts


def retailer_cases(business_id: int) -> list[NamingCase]:
    return db.session.scalars(sa.select(NamingCase).where(NamingCase.business_id == business_id,
                                                          NamingCase.status.in_(RETAILER_STATUSES))
                              .order_by(NamingCase.id.desc())).all()


def retailer_case(case_id: int, user) -> NamingCase | None:
    """The case if it belongs to the retailer's own business and its notice has been sent; otherwise None (404)."""
    case = db.session.get(NamingCase, case_id)
    if case is None or user.business_id is None or case.business_id != user.business_id:
        return None
    if case.status not in RETAILER_STATUSES:
        return None
    return case


def cited_records(case: NamingCase) -> list[dict]:
    """Every record the case cites, for the retailer (issue 9 part 3: they cannot answer what they cannot see):
    the sale with the letter they were sent about it, the training refusal with its invitation."""
    from flask import url_for

    from .models.purchases import NotificationLetter

    sale_ids = [int(e["record"].split(":")[1]) for e in case.evidence if e["record"].startswith("test_purchase:")]
    letters = {}
    if sale_ids:
        for purchase_id, letter_id in db.session.execute(
                sa.select(NotificationLetter.test_purchase_id, NotificationLetter.id)
                .where(NotificationLetter.test_purchase_id.in_(sale_ids),
                       NotificationLetter.business_id == case.business_id,
                       NotificationLetter.sent_on.is_not(None)).order_by(NotificationLetter.id)):
            letters.setdefault(purchase_id, letter_id)
    out = []
    for e in case.evidence:
        kind, _, raw_id = e["record"].partition(":")
        url = None
        if kind == "test_purchase" and int(raw_id) in letters:
            url = url_for("purchases.my_letter", letter_id=letters[int(raw_id)])
        elif kind == "invitation":
            url = url_for("portal.invitation", invitation_id=int(raw_id))
        out.append({"kind": e["kind"], "date": date.fromisoformat(e["date"]), "description": e["description"],
                    "url": url})
    return out


# --- portal section (retailer home) -------------------------------------------------------------------------------

def portal_section(user) -> dict | None:
    if getattr(user, "business_id", None) is None:
        return None
    cases = retailer_cases(user.business_id)
    if not cases:
        return None
    return {"id": "naming", "order": 1, "title": "Notice of intended naming",
            "template": "naming/_portal_section.html", "cases": cases, "today": today_london()}


def _register_portal_section() -> None:
    from . import portal

    if portal_section not in portal.PORTAL_SECTIONS:
        portal.PORTAL_SECTIONS.append(portal_section)


def nightly_expire() -> None:
    """Scheduler job: move expired entries to 'removed' (the public register already hides them by date)."""
    from .audit import acting_as

    with acting_as("scheduler:naming-expire"):
        expire_published()
        db.session.commit()


_register_portal_section()  # nightly_expire is run by the scheduler, which lists it in its NIGHTLY_JOBS


def waiting_for(user, today: date | None = None) -> dict[str, list[NamingCase]]:
    """Cases waiting for this person's step (for the home page)."""
    today = today or today_london()
    cases = db.session.scalars(sa.select(NamingCase).options(selectinload(NamingCase.business))
                               .where(NamingCase.status.in_(OPEN_STATUSES))
                               .order_by(NamingCase.id)).all()
    out = {"approve": [], "notice": [], "decide": [], "appeal": [], "publish": [], "reply": [], "draft": []}
    decided = {c.business_id for c in cases if c.status == CaseStatus.DECIDED_PUBLISH}
    pending = scoring.enforcement_pending_ids(sorted(decided)) if decided and user.role in DECIDERS else set()
    for case in cases:
        if user.role in DECIDERS:
            if case.status == CaseStatus.PROPOSED and user.id not in editor_ids(case):
                out["approve"].append(case)
            elif case.status in (CaseStatus.NOTICE_SENT, CaseStatus.REPRESENTATIONS) and not window_open(case, today) \
                    and user.id not in involved_user_ids(case):
                out["decide"].append(case)
            elif case.status == CaseStatus.DECIDED_PUBLISH and user.id not in editor_ids(case) \
                    and can_publish(case, today, pending)[0]:
                out["publish"].append(case)
            elif case.status == CaseStatus.APPEALED and user.id not in appeal_deciders_excluded(case):
                out["appeal"].append(case)
            if case.reply_status == ReplyStatus.PENDING:
                out["reply"].append(case)
        if user.role in PROPOSERS:
            if case.status == CaseStatus.APPROVED:
                out["notice"].append(case)
            elif case.status == CaseStatus.CANDIDATE and case.opened_by_id == user.id:
                out["draft"].append(case)
    return out


def _home_panel(user) -> dict | None:
    if user.role not in PROPOSERS:
        return None
    waiting = waiting_for(user)
    candidates = db.session.scalar(sa.select(sa.func.count()).select_from(ComplianceScore).where(
        ComplianceScore.current.is_(True), ComplianceScore.candidate.is_(True)))
    if not candidates and not any(waiting.values()):
        return None
    return {"title": "Naming", "template": "naming/_home_panel.html", "waiting": waiting, "candidates": candidates}


def _register_home_panel() -> None:
    from .home import PANEL_PROVIDERS

    if _home_panel not in PANEL_PROVIDERS:
        PANEL_PROVIDERS.append(_home_panel)


_register_home_panel()


def _timeline(business, viewer) -> list:
    """Naming steps on the business timeline; a retailer sees only what follows the notice sent to them."""
    from flask import url_for

    from .timeline import TimelineEvent

    staff = viewer is None or getattr(viewer, "is_staff", False)
    cases = db.session.scalars(sa.select(NamingCase).options(selectinload(NamingCase.steps))
                               .where(NamingCase.business_id == business.id)).all()
    events = []
    tones = {"published": "danger", "no action": "success", "removed early": "success", "expired": "secondary"}
    for case in cases:
        if not staff and case.status not in RETAILER_STATUSES:
            continue
        url = url_for("naming.case_view", case_id=case.id) if staff else url_for("naming.my_case", case_id=case.id)
        for step in case.steps:
            if not staff and step.action in ("opened", "proposed", "statement revised", "approved for notice",
                                             "reply rejected"):
                continue
            events.append(TimelineEvent(when=step.at, kind="naming", title=f"Naming: {step.action}",
                                        detail=step.reason if staff else "", url=url,
                                        tone=tones.get(step.action, "warning")))
    return events


def _register_timeline() -> None:
    from .timeline import TIMELINE_PROVIDERS

    if _timeline not in TIMELINE_PROVIDERS:
        TIMELINE_PROVIDERS.append(_timeline)


_register_timeline()
