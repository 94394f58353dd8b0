"""Letters as PDF documents and the outbox (issue 12): the week's letters of every kind in one PDF for the post
round, the officer's confirmation that they went, the retailer's list of every letter sent, and the outbox page."""
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import letters as L
from ..access import STAFF, Role, roles_required
from ..extensions import db
from ..letters import outbox
from ..models.letters import OutboxMessage
from ..nav import add_nav
from ..timeutil import today_london

bp = Blueprint("letters", __name__)
add_nav("The week's letters", "letters.week", STAFF, 23)
add_nav("Outbox (emails)", "letters.outbox_page", STAFF, 24)
add_nav("Letters", "letters.my_letters", {Role.RETAILER}, 6)


def _pdf(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"})


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.route("/letters/week")
@roles_required(STAFF)
def week():
    return _week_page(L.week_letters(), today_london(), {})


def _week_page(items, sent_on, errors, ticked=None, status=200):
    return render_template("letters/week.html", items=items, sent_on=sent_on, errors=errors, ticked=ticked,
                           preferences=L.preference_labels(items)), status


@bp.route("/letters/week.pdf")
@roles_required(STAFF)
def week_pdf():
    """Every unsent letter (or the ones ticked, ?letter=kind:id), one PDF; printing marks nothing as sent."""
    chosen = request.args.getlist("letter")
    items = L.find(chosen) if chosen else L.week_letters()
    if not items:
        flash("There are no letters waiting to be sent.", "info")
        return redirect(url_for(".week"))
    return _pdf(L.letters_pdf(items), f"letters-{today_london():%Y-%m-%d}.pdf")


@bp.route("/letters/week/sent", methods=["POST"])
@roles_required(STAFF)
def week_sent():
    tokens = request.form.getlist("letter")
    on = _parse_date(request.form.get("sent_on"))
    items = L.find(tokens)
    try:
        if request.form.get("sent_on") and on is None:
            raise L.LetterError("Enter the date as a date, for example 2026-03-14.", "sent_on")
        count = L.mark_sent(items, on, current_user)
        db.session.commit()
    except (L.LetterError, ValueError) as exc:
        db.session.rollback()
        field = getattr(exc, "field", None) or "letters"
        return _week_page(L.week_letters(), request.form.get("sent_on"), {field: str(exc)}, set(tokens), 422)
    flash(f"{count} letter{'s' if count != 1 else ''} recorded as sent; emails to businesses that chose email "
          "are in the outbox.", "success")
    return redirect(url_for(".week"))


@bp.route("/letters/<kind>/<int:record_id>.pdf")
@roles_required(STAFF)
def letter_pdf(kind: str, record_id: int):
    item = _item(kind, record_id)
    return _pdf(L.item_pdf(item), f"{item.kind.reference(item.record)}.pdf")


def _item(kind: str, record_id: int, business_id: int | None = None):
    letter_kind = L.KINDS.get(kind)
    if letter_kind is None:
        abort(404)
    if business_id is not None:
        # A retailer: only a letter sent to their own business.
        for item in letter_kind.sent_for_business(business_id):
            if item.record.id == record_id:
                return item
        abort(404)
    for item in letter_kind.unsent():
        if item.record.id == record_id:
            return item
    record = letter_kind.get(record_id)
    if record is None:
        abort(404)
    for item in letter_kind.sent_for_business(getattr(record, "business_id", 0)):
        if item.record.id == record_id:
            return item
    abort(404)


# --- the retailer's letters ----------------------------------------------------------------------------------------

@bp.route("/my/letters")
@roles_required(Role.RETAILER)
def my_letters():
    return render_template("letters/my_letters.html", items=L.sent_for_business(current_user.business_id))


@bp.route("/my/letters/<kind>/<int:record_id>.pdf")
@roles_required(Role.RETAILER)
def my_letter_pdf(kind: str, record_id: int):
    item = _item(kind, record_id, business_id=current_user.business_id)
    return _pdf(L.item_pdf(item), f"{item.kind.reference(item.record)}.pdf")


# --- the outbox ----------------------------------------------------------------------------------------------------

@bp.route("/outbox")
@roles_required(STAFF)
def outbox_page():
    return render_template("letters/outbox.html", messages=outbox.recent(), max_attempts=outbox.MAX_ATTEMPTS)


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@roles_required(STAFF)
def outbox_retry(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    try:
        outbox.retry(message)
    except ValueError as exc:
        flash(str(exc), "danger")
        return redirect(url_for(".outbox_page"))
    db.session.commit()
    flash("The message will be sent again at the scheduler's next round.", "success")
    return redirect(url_for(".outbox_page"))
