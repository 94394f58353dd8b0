"""Notification letters: drafted in step with the record, rendered per outcome (templates/letters/<template>.html)
with the authority's letterhead, and marked sent.

A letter is rendered from its template until it is sent; then the text as sent is frozen in `content`, so a later
amendment of the test purchase never rewrites what the business received.
"""
from datetime import date

import sqlalchemy as sa
from flask import render_template
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from ..audit import record_event
from ..extensions import db
from ..models.purchases import (OUTCOME_LABELS, LetterChannel, LetterParty, NotificationLetter, Outcome, PurchaseKind,
                                TestPurchase)
from ..rules import items as item_rules
from ..rules import online as online_rules
from ..models.register import Business, Premises
from ..settings import all_settings
from ..timeutil import today_london
from .errors import PurchaseError
from .outcomes import online_facts


def letter_period(purchase: TestPurchase) -> str:
    """The period stated to the business: the operation's dates, or the month. Never the exact day and time."""
    op = purchase.operation
    return period_told(purchase.purchase_date, op.starts_on if op else None, op.ends_on if op else None)


def period_told(purchase_date: date, op_starts: date | None = None, op_ends: date | None = None) -> str:
    """What a business is told about when an attempt happened (letters and the portal agree): the operation's dates
    if it had one, else the month, so the day cannot be matched against CCTV to identify the volunteer."""
    if op_starts is not None and op_ends is not None:
        if op_starts == op_ends:
            return f"on {_long(op_starts)}"
        return f"between {_long(op_starts)} and {_long(op_ends)}"
    return f"during {purchase_date:%B %Y}"


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def letter_template(tp: TestPurchase) -> str | None:
    """The template for this attempt's letter (templates/letters/<name>.html); None for an aborted attempt."""
    if tp.outcome is None or tp.outcome == Outcome.INCONCLUSIVE:
        return None
    if tp.kind == PurchaseKind.CHALLENGE25:
        return "challenge25_fail" if tp.outcome.failed else "challenge25_pass"
    return tp.outcome.value.lower()


def _head_office(business: Business) -> str:
    return "\n".join(p for p in (business.head_office_address, business.head_office_postcode or "") if p) \
        or (f"By email: {business.contact_email}" if business.contact_email else "Address not recorded")


def _recipient(tp: TestPurchase, party: LetterParty = LetterParty.SELLER) -> tuple[str, str]:
    if party == LetterParty.COURIER:
        courier = tp.courier_business or db.session.get(Business, tp.courier_business_id)
        return courier.legal_name, _head_office(courier)
    business = tp.business or db.session.get(Business, tp.business_id)
    name = business.legal_name
    if tp.premises_id:
        premises = tp.premises or db.session.get(Premises, tp.premises_id)
        address = "\n".join(p for p in (f"The Manager, {premises.name}", premises.address_line1,
                                        premises.address_line2, premises.town, premises.postcode) if p)
    else:
        address = _head_office(business)
    return name, address


def letters_wanted(tp: TestPurchase) -> dict[LetterParty, str]:
    """Which parties this attempt writes to, with each letter's template: the seller (every concluded attempt but an
    aborted one), and the courier when the courier failed (OWA 2019 s.39/s.42)."""
    wanted = {}
    template = letter_template(tp)
    if template is not None:
        wanted[LetterParty.SELLER] = template
        if tp.courier_failed and tp.courier_business_id:
            wanted[LetterParty.COURIER] = "courier_fail"
    return wanted


def sync_letter(tp: TestPurchase, user=None, replaces: NotificationLetter | None = None) -> None:
    """Keep each party's unsent letter in step with the record; draft one where a party needs a letter and has none.
    `replaces`: a sent letter an amendment corrects (its party gets a corrected letter)."""
    wanted = letters_wanted(tp)
    for letter in [letter for letter in tp.letters if not letter.sent_on and letter.party not in wanted]:
        db.session.delete(letter)
    for party, template in wanted.items():
        mine = [letter for letter in tp.letters if letter.party == party]
        unsent = [letter for letter in mine if not letter.sent_on]
        name, address = _recipient(tp, party)
        business_id = tp.courier_business_id if party == LetterParty.COURIER else tp.business_id
        if unsent:
            letter = unsent[-1]
            letter.template, letter.recipient_name, letter.recipient_address = template, name, address
            letter.business_id = business_id
            continue
        corrects = replaces if replaces is not None and replaces.party == party else None
        if mine and corrects is None:
            continue  # already sent; a correction goes through an amendment
        db.session.add(NotificationLetter(
            test_purchase=tp, business_id=business_id, party=party, template=template, recipient_name=name,
            recipient_address=address, drafted_on=today_london(), signed_by_name=getattr(user, "name", "") or "",
            replaces_letter_id=corrects.id if corrects else None))


def unsent_letters(limit: int | None = None) -> list[NotificationLetter]:
    query = (sa.select(NotificationLetter).where(NotificationLetter.sent_on.is_(None))
             .options(selectinload(NotificationLetter.test_purchase).selectinload(TestPurchase.operation),
                      selectinload(NotificationLetter.test_purchase).selectinload(TestPurchase.premises),
                      selectinload(NotificationLetter.test_purchase).selectinload(TestPurchase.online_store),
                      selectinload(NotificationLetter.business))  # the week's list names each letter's business
             .order_by(NotificationLetter.id))
    if limit:
        query = query.limit(limit)
    return db.session.scalars(query).all()


def mark_letters_sent(letters, on: date, channel: str, user=None, render=None) -> int:
    """Record when and how letters went out, freezing each letter's text as sent. Returns how many were marked."""
    if on is None:
        raise PurchaseError("Enter the date the letters were sent.", "sent_on")
    if on > today_london():
        raise PurchaseError("The sending date cannot be in the future.", "sent_on")
    channel = LetterChannel(channel)
    render = render or render_letter_body
    count = 0
    for letter in letters:
        if letter.sent_on:
            continue
        if on < letter.test_purchase.purchase_date:
            raise PurchaseError("A letter cannot be sent before the test purchase took place.", "sent_on")
        letter.sent_on = on
        letter.channel = channel
        letter.sent_by_id = getattr(user, "id", None)
        if not letter.signed_by_name:
            letter.signed_by_name = getattr(user, "name", "") or ""
        letter.content = render(letter)
        db.session.flush()
        record_event("NotificationLetter", letter.id, f"Letter sent by {channel.value} on {on:%d %b %Y}")
        count += 1
    return count


def letter_context(letter: NotificationLetter, settings: dict | None = None) -> dict:
    tp = letter.test_purchase
    settings = settings or all_settings()
    if tp.premises is not None:
        where = f"your shop {tp.premises.name}, {tp.premises.one_line_address}"
    elif tp.online_store is not None:
        where = f"your online store {tp.online_store.display_name} ({tp.online_store.domain.split(':')[0]})"
    else:
        where = "your business"
    if letter.party == LetterParty.COURIER:
        seller = tp.business or db.session.get(Business, tp.business_id)
        where = f"a parcel your company delivered for {seller.display_name}"
    judgment = online_rules.judge(online_facts(tp)) if tp.channel.value == "online" else None
    return {
        "letter": letter, "settings": settings, "period": letter_period(tp), "where": where,
        "channel": tp.channel.value, "challenge25": tp.kind == PurchaseKind.CHALLENGE25,
        "item": item_rules.category_label(tp.item_category).lower() if tp.item_category else "a bladed article",
        "item_verdict": tp.item_verdict, "item_reason": tp.item_verdict_reason,
        "outcome_label": OUTCOME_LABELS[tp.outcome] if tp.outcome else "",
        "judgment": judgment, "condition_labels": online_rules.CONDITION_LABELS,
        "overseas_seller": bool(tp.overseas_seller),
        "letter_date": letter.sent_on or today_london(), "reference": f"TP-{tp.id:06d}",
        "failing_parties": tp.failing_parties, "signed_by": letter.signed_by_name or "Trading Standards Officer",
        "corrected": letter.replaces_letter_id is not None,
    }


def render_letter_body(letter: NotificationLetter, settings: dict | None = None) -> str:
    """The letter's HTML (one page), from its outcome template. Contains nothing about the volunteer."""
    return render_template(f"letters/{letter.template}.html", **letter_context(letter, settings))


def letter_html(letter: NotificationLetter, settings: dict | None = None) -> Markup:
    """The letter as sent if it has been sent, else freshly rendered."""
    if letter.content:
        return Markup(letter.content)  # produced by our own autoescaped template when it was sent
    return Markup(render_letter_body(letter, settings))
