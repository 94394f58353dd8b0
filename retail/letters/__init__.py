"""Every letter the service sends, whatever its kind: the week's letters as one PDF for the post round, marking them
sent on the officer's confirmation (with the business's chosen channel), and emailing the PDF to businesses that
asked for email. The kinds themselves are listed in `kinds.py`."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..audit import record_event
from ..extensions import db
from ..models.letters import PREFERENCE_LABELS, LetterDispatch, LetterPreference
from ..models.register import Business
from ..settings import all_settings
from ..timeutil import today_london
from .kinds import KINDS, LetterItem, LetterKind, register, sent_content
from .pdf import render_pdf


class LetterError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def week_letters() -> list[LetterItem]:
    """Every unsent letter of every kind the signed-in user may see, in the post round's order (borough, then
    postcode)."""
    items = [item for kind in KINDS.values() for item in kind.unsent()]
    return sorted(items, key=lambda item: item.sort_key)


def find(tokens: list[str]) -> list[LetterItem]:
    """The unsent letters named by `kind:id` tokens (unknown or already sent ones are left out)."""
    wanted = set(tokens)
    return [item for item in week_letters() if item.token in wanted]


def letters_pdf(items: list[LetterItem]) -> bytes:
    return render_pdf([item.html() for item in items], title=f"{len(items)} letters")


def item_pdf(item: LetterItem) -> bytes:
    return render_pdf([item.html()], title=item.title)


def preference(business_id: int) -> LetterPreference:
    value = db.session.scalar(sa.select(Business.letter_preference).where(Business.id == business_id))
    try:
        return LetterPreference(value or "post")
    except ValueError:
        return LetterPreference.POST


def preference_labels(items: list[LetterItem]) -> dict[int, str]:
    """How each business wants its letters, for the week's list (one query)."""
    ids = {item.business_id for item in items}
    rows = db.session.execute(sa.select(Business.id, Business.letter_preference).where(Business.id.in_(ids))).all()
    labels = {}
    for business_id, value in rows:
        try:
            labels[business_id] = PREFERENCE_LABELS[LetterPreference(value)]
        except ValueError:
            labels[business_id] = PREFERENCE_LABELS[LetterPreference.POST]
    return labels


def mark_sent(items: list[LetterItem], on: date | None, user) -> int:
    """The officer confirms these letters went out on `on`: each is recorded as sent by the business's chosen
    channel, and an email with its PDF is queued where the business asked for email. Nothing is marked unless the
    officer confirms: printing (on screen or `flask print-letters`) marks nothing."""
    if on is None:
        raise LetterError("Enter the date the letters were sent.", "sent_on")
    if on > today_london():
        raise LetterError("The sending date cannot be in the future.", "sent_on")
    if not items:
        raise LetterError("Tick at least one letter.", "letters")
    from .outbox import queue_letter_email  # the outbox builds on this module

    for item in items:
        channel = preference(item.business_id)
        item.kind.record_sent(item.record, on, channel, user)
        dispatch = LetterDispatch(kind=item.kind.name, record_id=item.record.id, business_id=item.business_id,
                                  sent_on=on, channel=channel, sent_by_id=getattr(user, "id", None),
                                  authority_id=item.authority_id or getattr(user, "authority_id", None))
        db.session.add(dispatch)
        db.session.flush()
        # Kept as sent: the authority may reword its letters later (wording.py), a sent letter stays what it said.
        item.sent_on = on
        dispatch.content = item.kind.render(item.record, all_settings(item.authority_id))
        record_event(type(item.record).__name__, item.record.id,
                     f"{item.title} sent ({channel.value}) on {on:%d %b %Y}")
        if channel in (LetterPreference.EMAIL, LetterPreference.BOTH):
            queue_letter_email(item, on)
    return len(items)


def sent_for_business(business_id: int) -> list[LetterItem]:
    """Every letter of every kind sent to the business, newest first (the retailer portal)."""
    items = [item for kind in KINDS.values() for item in kind.sent_for_business(business_id)]
    return sorted(items, key=lambda item: (item.sent_on or date.min, item.record.id), reverse=True)


__all__ = ["KINDS", "LetterError", "LetterItem", "LetterKind", "find", "item_pdf", "letters_pdf", "mark_sent",
           "preference", "preference_labels", "register", "sent_content", "sent_for_business", "week_letters"]
