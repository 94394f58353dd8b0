"""Notification letters: the unsent queue, printing, marking as sent, and a retailer reading their own letter."""
import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ... import purchases as P
from ...access import STAFF, Role, roles_required
from ...audit import history
from ...extensions import db
from ...forms.purchases import MarkSentForm
from ...models.purchases import NotificationLetter
from ...settings import all_settings
from ...timeutil import today_london
from ...validation import InvalidValue, parse_id
from .._helpers import get_or_404
from . import bp
from .helpers import _save


# --- letters --------------------------------------------------------------------------------------------------

@bp.route("/letters")
@roles_required(STAFF)
def letters():
    pending = P.unsent_letters(limit=500)
    form = MarkSentForm()
    form.letter_ids.choices = [(letter.id, str(letter.id)) for letter in pending]
    form.sent_on.data = today_london()
    recent = db.session.scalars(sa.select(NotificationLetter).where(NotificationLetter.sent_on.is_not(None))
                                .order_by(NotificationLetter.sent_on.desc(), NotificationLetter.id.desc())
                                .limit(20)).all()
    return render_template("letters/index.html", letters=pending, form=form, recent=recent)


@bp.route("/letters/print")
@roles_required(STAFF)
def letters_print():
    ids = [i for i in map(parse_id, request.args.getlist("id")) if i]
    if ids:
        chosen = db.session.scalars(sa.select(NotificationLetter).where(NotificationLetter.id.in_(ids))
                                    .order_by(NotificationLetter.id)).all()
    else:
        chosen = P.unsent_letters(limit=500)
    settings = all_settings()
    bodies = [P.letter_html(letter, settings) for letter in chosen]
    return render_template("letters/print.html", bodies=bodies, count=len(chosen))


@bp.route("/letters/mark-sent", methods=["POST"])
@roles_required(STAFF)
def letters_mark_sent():
    form = MarkSentForm()
    ids = [i for i in map(parse_id, request.form.getlist("letter_ids")) if i]
    form.letter_ids.choices = [(i, str(i)) for i in ids]
    back = request.form.get("back") or url_for(".letters")
    if not back.startswith("/"):
        back = url_for(".letters")
    if not form.validate_on_submit() or not ids:
        flash("Tick the letters and enter the date they were sent.", "danger")
        return redirect(back)
    chosen = db.session.scalars(sa.select(NotificationLetter).where(NotificationLetter.id.in_(ids))).all()
    settings = all_settings()
    done, error = _save(lambda: P.mark_letters_sent(chosen, form.sent_on.data, form.channel.data, current_user,
                                                    render=lambda letter: P.render_letter_body(letter, settings)),
                        lambda count: count)
    if error is not None:
        if isinstance(error, InvalidValue):
            flash(str(error), "danger")
        return redirect(back)
    flash(f"{done} letter{'s' if done != 1 else ''} marked as sent.", "success")
    return redirect(back)


@bp.route("/letters/<int:letter_id>")
@roles_required(STAFF)
def letter_view(letter_id: int):
    letter = get_or_404(NotificationLetter, letter_id)
    form = MarkSentForm()
    form.sent_on.data = today_london()
    return render_template("letters/view.html", letter=letter, body=P.letter_html(letter), form=form,
                           history=history("NotificationLetter", letter.id))


@bp.route("/my/letters/<int:letter_id>")
@roles_required(Role.RETAILER)
def my_letter(letter_id: int):
    """A retailer reads a letter sent to their own business (never another's, never a draft)."""
    letter = db.session.get(NotificationLetter, letter_id)
    if letter is None or letter.business_id != current_user.business_id or letter.sent_on is None:
        abort(404)
    return render_template("letters/retailer_view.html", letter=letter, body=P.letter_html(letter))
