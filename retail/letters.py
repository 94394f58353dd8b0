"""Notification letters: the text per outcome (templates/letters/<template>.html) with the authority's letterhead.

A letter is rendered from its template until it is sent; then the text as sent is frozen in `content`, so a later
amendment of the test purchase never rewrites what the business received.
"""
from flask import render_template
from markupsafe import Markup

from .models.purchases import NotificationLetter, PurchaseKind
from .purchases import letter_period
from .settings import all_settings
from .timeutil import today_london


def letter_context(letter: NotificationLetter, settings: dict | None = None) -> dict:
    tp = letter.test_purchase
    settings = settings or all_settings()
    if tp.premises is not None:
        where = f"your shop {tp.premises.name}, {tp.premises.one_line_address}"
    elif tp.online_store is not None:
        where = f"your online store {tp.online_store.display_name} ({tp.online_store.domain.split(':')[0]})"
    else:
        where = "your business"
    return {
        "letter": letter, "settings": settings, "period": letter_period(tp), "where": where,
        "channel": tp.channel.value, "challenge25": tp.kind == PurchaseKind.CHALLENGE25,
        "item": tp.item_category.replace("-", " ") if tp.item_category else "a bladed article",
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
