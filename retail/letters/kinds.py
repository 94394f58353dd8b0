"""The registry of letter kinds: one entry per kind of letter the service sends (test purchase notifications,
training invitations, naming notices and decisions). Everything that handles "every letter" (the week's PDF, marking
sent, emailing, the portal) goes through this registry, so a new kind (an advice-visit record, say) is one
`register(LetterKind(...))` call with its own queries and template.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import render_template
from sqlalchemy.orm import selectinload

from .. import naming
from .. import training as tr
from ..extensions import db
from ..models.compliance import CaseStatus, NamingCase
from ..models.letters import LetterDispatch, LetterPreference
from ..models.purchases import LetterChannel, NotificationLetter, TestPurchase
from ..models.register import Business, Premises
from ..models.training import TrainingAttendance, TrainingInvitation, TrainingSession
from ..models.visits import AdviceVisit
from ..purchases import letters as tp_letters
from ..scoping import current_authority_id
from ..settings import all_settings
from ..timeutil import today_london


@dataclass
class LetterItem:
    """One letter of some kind, unsent or sent, with what the post round and the portal need to know of it."""
    kind: LetterKind
    record: Any
    business_id: int
    authority_id: int | None
    borough: str = ""
    postcode: str = ""
    recipient: str = ""
    sent_on: date | None = None
    channel: str = ""

    @property
    def token(self) -> str:
        return f"{self.kind.name}:{self.record.id}"

    @property
    def title(self) -> str:
        return f"{self.kind.label} {self.kind.reference(self.record)}"

    @property
    def sort_key(self) -> tuple:
        # The post round: borough, then postcode (no postcode last), then kind and record.
        return (self.borough or "~", self.postcode.replace(" ", "").upper() or "~", self.kind.order, self.record.id)

    def html(self) -> str:
        """The letter as sent, if it was sent with its text kept; else rendered with today's wording."""
        if self.sent_on is not None:
            content = sent_content(self.kind.name, self.record.id)
            if content:
                return content
        return self.kind.render(self.record, all_settings(self.authority_id))


def sent_content(kind: str, record_id: int) -> str | None:
    """The HTML a letter was sent with (None when it is unsent, or was sent before letters kept their text)."""
    return db.session.scalar(sa.select(LetterDispatch.content).where(LetterDispatch.kind == kind,
                                                                     LetterDispatch.record_id == record_id))


@dataclass
class LetterKind:
    name: str  # stable key, stored in letter_dispatch.kind
    label: str  # what officers call it
    order: int
    unsent: Callable[[], list[LetterItem]]
    render: Callable[[Any, dict], str]  # one letter's HTML (an <article class="letter">)
    record_sent: Callable[[Any, date, str, Any], None]  # the kind's own bookkeeping (channel: LetterPreference)
    sent_for_business: Callable[[int], list[LetterItem]]
    get: Callable[[int], Any]
    reference: Callable[[Any], str] = field(default=lambda record: str(record.id))
    # Email subject for the retailer (never anything about a volunteer: only the kind and our reference).
    subject: str = "A letter from Trading Standards"


KINDS: dict[str, LetterKind] = {}


def register(kind: LetterKind) -> LetterKind:
    KINDS[kind.name] = kind
    return kind


def _where(premises: Premises | None, business: Business | None) -> tuple[str, str]:
    """(borough name, postcode) for sorting the post round: the shop's, else the head office's."""
    if premises is not None:
        return premises.borough_name, premises.postcode or ""
    if business is not None:
        return "", business.head_office_postcode or ""
    return "", ""


def _dispatch_channels(kind: str, ids: Iterable[int]) -> dict[int, str]:
    ids = list(ids)
    if not ids:
        return {}
    rows = db.session.execute(sa.select(LetterDispatch.record_id, LetterDispatch.channel).where(
        LetterDispatch.kind == kind, LetterDispatch.record_id.in_(ids))).all()
    return {record_id: LetterPreference(channel) for record_id, channel in rows}


# --- test purchase notification letters -----------------------------------------------------------------------------

def _tp_item(letter: NotificationLetter) -> LetterItem:
    tp = letter.test_purchase
    borough, postcode = _where(tp.premises, letter.business)
    if not postcode and letter.recipient_address:
        postcode = letter.recipient_address.strip().splitlines()[-1][-8:].strip()
    return LetterItem(KINDS["test-purchase"], letter, letter.business_id, letter.authority_id, borough, postcode,
                      letter.recipient_name, letter.sent_on, letter.channel_label)


def _tp_unsent() -> list[LetterItem]:
    return [_tp_item(letter) for letter in tp_letters.unsent_letters()]


def _tp_record_sent(letter: NotificationLetter, on: date, channel: str, user) -> None:
    # The letter's own channel is the paper one when it goes by post at all.
    own = LetterChannel.EMAIL if channel == LetterPreference.EMAIL else LetterChannel.POST
    settings = all_settings(letter.authority_id)
    tp_letters.mark_letters_sent([letter], on, own.value, user,
                                 render=lambda one: tp_letters.render_letter_body(one, settings))


def _tp_sent_for_business(business_id: int) -> list[LetterItem]:
    letters = db.session.scalars(sa.select(NotificationLetter).where(
        NotificationLetter.business_id == business_id, NotificationLetter.sent_on.is_not(None))
        .options(selectinload(NotificationLetter.test_purchase).selectinload(TestPurchase.premises))
        .order_by(NotificationLetter.sent_on.desc(), NotificationLetter.id.desc())).all()
    channels = _dispatch_channels("test-purchase", (letter.id for letter in letters))
    items = []
    for letter in letters:
        item = _tp_item(letter)
        if letter.id in channels:
            item.channel = PREFERENCE_LABEL[channels[letter.id]]
        items.append(item)
    return items


register(LetterKind(
    name="test-purchase", label="Test purchase letter", order=1, unsent=_tp_unsent,
    render=lambda letter, settings: str(tp_letters.letter_html(letter, settings)),
    record_sent=_tp_record_sent, sent_for_business=_tp_sent_for_business,
    get=lambda record_id: db.session.get(NotificationLetter, record_id),
    reference=lambda letter: f"TP-{letter.test_purchase_id:06d}",
    subject="The result of a test purchase"))


# --- training invitation letters ------------------------------------------------------------------------------------

def _invitation_authority(inv: TrainingInvitation) -> int | None:
    if inv.session is not None:
        return inv.session.authority_id
    if inv.premises is not None:
        return inv.premises.authority_id
    return None


def _inv_item(inv: TrainingInvitation, channel: str = "") -> LetterItem:
    borough, postcode = _where(inv.premises, inv.business)
    return LetterItem(KINDS["training-invitation"], inv, inv.business_id, _invitation_authority(inv), borough,
                      postcode, inv.business.display_name, inv.letter_sent_on, channel)


def _inv_options(query):
    return query.options(selectinload(TrainingInvitation.business), selectinload(TrainingInvitation.premises),
                         selectinload(TrainingInvitation.session).selectinload(TrainingSession.course))


def _inv_unsent() -> list[LetterItem]:
    invitations = db.session.scalars(_inv_options(tr.letters_to_print_query())).all()
    mine = current_authority_id()
    items = [_inv_item(inv) for inv in invitations]
    # Invitations are not owned rows: an officer prints those of their own authority's sessions and shops.
    return [item for item in items if mine is None or item.authority_id in (None, mine)]


def _inv_record_sent(inv: TrainingInvitation, on: date, channel: str, user) -> None:
    tr.record_letter_sent(inv, on, getattr(user, "name", "") or getattr(user, "email", "") or "Trading Standards")


def _inv_sent_for_business(business_id: int) -> list[LetterItem]:
    invitations = db.session.scalars(_inv_options(sa.select(TrainingInvitation).where(
        TrainingInvitation.business_id == business_id, TrainingInvitation.letter_sent_on.is_not(None))
        .order_by(TrainingInvitation.letter_sent_on.desc()))).all()
    channels = _dispatch_channels("training-invitation", (inv.id for inv in invitations))
    return [_inv_item(inv, PREFERENCE_LABEL[channels[inv.id]] if inv.id in channels else "Post")
            for inv in invitations]


register(LetterKind(
    name="training-invitation", label="Training invitation", order=2, unsent=_inv_unsent,
    render=lambda inv, settings: render_template("training/_letter.html",
                                                 letter={**tr.invitation_letter(inv), "settings": settings}),
    record_sent=_inv_record_sent, sent_for_business=_inv_sent_for_business,
    get=lambda record_id: db.session.get(TrainingInvitation, record_id),
    reference=lambda inv: f"TRN-{inv.id}", subject="Your invitation to retailer training"))


# --- naming: notice of intent and decision --------------------------------------------------------------------------

def _case_context(case: NamingCase, settings: dict, sent_on: date | None = None) -> dict:
    from .. import naming_public, scoring

    # Same rules and the same shops as the notice page (issue 9): where the cited sales happened.
    return {"case": case, "business": case.business, "settings": settings, "sent_on": sent_on,
            "rules": scoring.current_rules(), "premises": naming_public.sale_places([case])[0][case.id],
            "today": today_london()}


def _case_item(kind: str, case: NamingCase, sent_on: date | None = None, channel: str = "") -> LetterItem:
    business = case.business
    trading = [p for p in business.premises if p.status.value == "trading"]
    borough, postcode = _where(None if business.head_office_postcode else (trading[0] if trading else None),
                               business)
    return LetterItem(KINDS[kind], case, case.business_id, case.authority_id, borough, postcode,
                      business.legal_name, sent_on, channel)


def _notice_unsent() -> list[LetterItem]:
    cases = db.session.scalars(sa.select(NamingCase).where(NamingCase.status == CaseStatus.APPROVED)
                               .order_by(NamingCase.id)).all()
    return [_case_item("naming-notice", case) for case in cases]


def _notice_record_sent(case: NamingCase, on: date, channel: str, user) -> None:
    naming.send_notice(case, user, on)


def _notice_sent_for_business(business_id: int) -> list[LetterItem]:
    cases = db.session.scalars(sa.select(NamingCase).where(NamingCase.business_id == business_id,
                                                           NamingCase.notice_sent_on.is_not(None))).all()
    channels = _dispatch_channels("naming-notice", (case.id for case in cases))
    return [_case_item("naming-notice", case, case.notice_sent_on,
                       PREFERENCE_LABEL[channels[case.id]] if case.id in channels else "Post") for case in cases]


register(LetterKind(
    name="naming-notice", label="Notice of intended naming", order=3, unsent=_notice_unsent,
    render=lambda case, settings: render_template("naming/_notice.html", **_case_context(case, settings)),
    record_sent=_notice_record_sent, sent_for_business=_notice_sent_for_business,
    get=lambda record_id: db.session.get(NamingCase, record_id),
    reference=lambda case: f"NAMING-{case.id}", subject="Notice of intended naming: your right to respond"))


DECIDED = (CaseStatus.DECIDED_PUBLISH, CaseStatus.NO_ACTION)


def _case_letters_unsent(kind: str, due) -> list[LetterItem]:
    sent = sa.select(LetterDispatch.record_id).where(LetterDispatch.kind == kind)
    cases = db.session.scalars(sa.select(NamingCase).where(due, NamingCase.id.not_in(sent))
                               .order_by(NamingCase.id)).all()
    return [_case_item(kind, case) for case in cases]


def _case_letters_sent_for_business(kind: str, business_id: int) -> list[LetterItem]:
    rows = db.session.scalars(sa.select(LetterDispatch).where(LetterDispatch.kind == kind,
                                                              LetterDispatch.business_id == business_id)).all()
    items = []
    for row in rows:
        case = db.session.get(NamingCase, row.record_id)
        if case is not None:
            items.append(_case_item(kind, case, row.sent_on, PREFERENCE_LABEL[row.channel]))
    return items


def _case_letter_render(kind: str, case: NamingCase, settings: dict) -> str:
    sent = db.session.scalar(sa.select(LetterDispatch.sent_on).where(LetterDispatch.kind == kind,
                                                                     LetterDispatch.record_id == case.id))
    return render_template("naming/_decision.html", **_case_context(case, settings, sent))


register(LetterKind(
    name="naming-decision", label="Naming decision", order=4,
    unsent=lambda: _case_letters_unsent("naming-decision", NamingCase.status.in_(DECIDED)),
    render=lambda case, settings: _case_letter_render("naming-decision", case, settings),
    record_sent=lambda case, on, channel, user: None,  # the dispatch row is the decision letter's record
    sent_for_business=lambda business_id: _case_letters_sent_for_business("naming-decision", business_id),
    get=lambda record_id: db.session.get(NamingCase, record_id),
    reference=lambda case: f"NAMING-{case.id}", subject="Our decision on the notice of intended naming"))

# The outcome of an appeal against a decision to publish (issue 9 part 1): allowed (nothing is published) or refused.
register(LetterKind(
    name="naming-appeal", label="Naming appeal outcome", order=5,
    unsent=lambda: _case_letters_unsent("naming-appeal", NamingCase.appeal_outcome != ""),
    render=lambda case, settings: _case_letter_render("naming-appeal", case, settings),
    record_sent=lambda case, on, channel, user: None,
    sent_for_business=lambda business_id: _case_letters_sent_for_business("naming-appeal", business_id),
    get=lambda record_id: db.session.get(NamingCase, record_id),
    reference=lambda case: f"NAMING-{case.id}", subject="Our decision on your appeal against naming"))


# --- advice visit records (issue 11 part 1, issue 12 part 1) ----------------------------------------------------------

# A visit's record is left with the shop on the day; the week's letters offer a copy by post or email for the
# visits of the last month not yet sent, so the business has it in writing (and in its portal).
VISIT_LETTER_DAYS = 30


def _dispatched_items(kind: str, business_id: int, load: Callable[[list[int]], dict[int, Any]],
                      make: Callable[..., LetterItem]) -> list[LetterItem]:
    """The letters of a kind whose own record keeps no sending date: the dispatch rows are the record."""
    rows = db.session.scalars(sa.select(LetterDispatch).where(LetterDispatch.kind == kind,
                                                              LetterDispatch.business_id == business_id)).all()
    records = load([row.record_id for row in rows]) if rows else {}
    return [make(records[row.record_id], row.sent_on, PREFERENCE_LABEL[row.channel])
            for row in rows if row.record_id in records]


def _visit_item(visit: AdviceVisit, sent_on: date | None = None, channel: str = "") -> LetterItem:
    borough, postcode = _where(visit.premises, visit.business)
    return LetterItem(KINDS["visit-record"], visit, visit.business_id, visit.authority_id, borough, postcode,
                      visit.business.display_name, sent_on, channel)


def _visits(ids: list[int]) -> dict[int, AdviceVisit]:
    return {v.id: v for v in db.session.scalars(sa.select(AdviceVisit).where(AdviceVisit.id.in_(ids)).options(
        selectinload(AdviceVisit.premises), selectinload(AdviceVisit.business)))}


def _visit_unsent() -> list[LetterItem]:
    sent = sa.select(LetterDispatch.record_id).where(LetterDispatch.kind == "visit-record")
    visits = db.session.scalars(sa.select(AdviceVisit).where(
        AdviceVisit.visited_on >= today_london() - timedelta(days=VISIT_LETTER_DAYS), AdviceVisit.id.not_in(sent))
        .options(selectinload(AdviceVisit.premises), selectinload(AdviceVisit.business))
        .order_by(AdviceVisit.id)).all()
    return [_visit_item(visit) for visit in visits]


register(LetterKind(
    name="visit-record", label="Advice visit record", order=6, unsent=_visit_unsent,
    render=lambda visit, settings: render_template("visits/_record.html", visit=visit, settings=settings),
    record_sent=lambda visit, on, channel, user: None,  # the dispatch row is the record's sending
    sent_for_business=lambda business_id: _dispatched_items("visit-record", business_id, _visits, _visit_item),
    get=lambda record_id: db.session.get(AdviceVisit, record_id),
    reference=lambda visit: f"VISIT-{visit.id}", subject="The record of our advice visit"))


# --- training reminders: a certificate about to expire ------------------------------------------------------------

def _reminder_item(attendance: TrainingAttendance, sent_on: date | None = None, channel: str = "") -> LetterItem:
    borough, postcode = _where(attendance.premises, attendance.business)
    return LetterItem(KINDS["training-reminder"], attendance, attendance.business_id,
                      attendance.session.authority_id if attendance.session else None, borough, postcode,
                      attendance.business.display_name, sent_on, channel)


def _attendance_options(query):
    return query.options(selectinload(TrainingAttendance.premises), selectinload(TrainingAttendance.business),
                         selectinload(TrainingAttendance.session))


def _attendances(ids: list[int]) -> dict[int, TrainingAttendance]:
    return {a.id: a for a in db.session.scalars(_attendance_options(
        sa.select(TrainingAttendance).where(TrainingAttendance.id.in_(ids))))}


def _reminder_unsent() -> list[LetterItem]:
    sent = sa.select(LetterDispatch.record_id).where(LetterDispatch.kind == "training-reminder")
    attendances = db.session.scalars(_attendance_options(
        tr.expiring_certificates_query().where(TrainingAttendance.id.not_in(sent)))).all()
    mine = current_authority_id()
    items = [_reminder_item(attendance) for attendance in attendances]
    # Certificates are shared London-wide; the authority that ran the session writes the reminder.
    return [item for item in items if mine is None or item.authority_id in (None, mine)]


def _reminder_render(attendance: TrainingAttendance, settings: dict) -> str:
    sent = db.session.scalar(sa.select(LetterDispatch.sent_on).where(LetterDispatch.kind == "training-reminder",
                                                                     LetterDispatch.record_id == attendance.id))
    return render_template("training/_reminder_letter.html", attendance=attendance, business=attendance.business,
                           premises=attendance.premises, settings=settings, letter_date=sent or today_london())


register(LetterKind(
    name="training-reminder", label="Training reminder", order=7, unsent=_reminder_unsent, render=_reminder_render,
    record_sent=lambda attendance, on, channel, user: None,
    sent_for_business=lambda business_id: _dispatched_items("training-reminder", business_id, _attendances,
                                                            _reminder_item),
    get=lambda record_id: db.session.get(TrainingAttendance, record_id),
    reference=lambda attendance: f"REM-{attendance.id}", subject="A training certificate is about to expire"))


PREFERENCE_LABEL = {LetterPreference.POST: "Post", LetterPreference.EMAIL: "Email",
                    LetterPreference.BOTH: "Post and email"}
