"""Shared pieces of the test-purchase forms: reading and filling fields, saving with stale checks, default choices."""
import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from ... import purchases as P
from ...extensions import db
from ...models.purchases import Operation, TestPurchase
from ...register import StaleRecord
from ...timeutil import today_london
from ...validation import InvalidValue, parse_id
from .._helpers import field_error


def _form_values(form, names) -> dict:
    data = {}
    for name in names:
        if name not in form:
            continue
        value = form[name].data
        if name in P.BOOL_FIELDS and isinstance(value, str):
            value = {"yes": True, "no": False}.get(value)
        data[name] = value
    return data


def _fill_bools(form, record, names) -> None:
    for name in names:
        if name in form and name in P.BOOL_FIELDS:
            value = getattr(record, name)
            form[name].data = "" if value is None else ("yes" if value else "no")


def _fill_enums(form, record, names) -> None:
    for name in names:
        if name in form and name not in P.BOOL_FIELDS and hasattr(getattr(record, name, None), "value"):
            form[name].data = getattr(record, name).value


def _save(apply, on_success):
    """Run a change; stale or invalid saves are refused with a message and nothing half-saved."""
    try:
        result = apply()
        db.session.commit()
    except StaleRecord as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return None, exc
    except StaleDataError as exc:
        db.session.rollback()
        flash("Someone else saved this record at the same moment. Reload it to see their changes.", "danger")
        return None, exc
    except (InvalidValue, P.LetterAlreadySent) as exc:
        db.session.rollback()
        return None, exc
    return on_success(result), None


def _save_edit(tp: TestPurchase, form, data: dict, amend: bool):
    """Save an edit (before the letter) or an amendment (after it, with its reason): the record page on success,
    else None with the form's messages set. A save that finds the letter already sent goes to amending instead."""
    if amend:
        apply = lambda: P.amend_purchase(tp, data, form.reason.data, form.version.data, current_user)  # noqa: E731
    else:
        apply = lambda: P.update_purchase(tp, data, form.version.data, current_user)  # noqa: E731
    done, error = _save(apply, lambda _: redirect(url_for(".view", purchase_id=tp.id)))
    if done:
        flash("Amendment saved; the original is kept in the history." if amend else "Saved.", "success")
        return done
    if isinstance(error, P.LetterAlreadySent):
        return _letter_sent_redirect(tp)
    if isinstance(error, InvalidValue):
        field_error(form, error)
    return None


# --- picking defaults -------------------------------------------------------------------------------------------

def _operation_choices(form) -> None:
    form.operation_id.choices = [("", "No operation")] + [
        (str(op.id), f"{op.name} ({op.period_label})") for op in P.current_operations()]


def _volunteer_choices(form, operation_id, on) -> None:
    """The volunteers who can take part on that day in that operation; the others are named with the reason, so an
    officer knows why a child is missing from the list (static/volunteer-picker.js refreshes both as fields change)."""
    operation_id = parse_id(operation_id)
    volunteers, missing = P.volunteer_availability(operation_id, on) if operation_id else ([], [])
    form.volunteer_id.choices = [("", "Choose…")] + [(str(v.id), v.code_name) for v in volunteers]
    form.volunteer_missing = missing


def _default_operation():
    wanted = request.args.get("operation", type=int)
    if wanted:
        return db.session.get(Operation, wanted)
    today = today_london()
    running = [op for op in P.current_operations(today) if op.starts_on <= today <= op.ends_on]
    mine = [op for op in running if current_user.id in op.officer_ids or op.lead_officer_id == current_user.id]
    return (mine or running or [None])[0]


def _officer_names(op: Operation | None) -> tuple[str, str]:
    if op is None:
        return current_user.name, ""
    from ...models.accounts import User

    others = db.session.scalars(sa.select(User.name).where(User.id.in_(op.officer_ids), User.id != current_user.id)
                                .order_by(User.name)).all()
    return current_user.name, ", ".join(others)


def _letter_sent_redirect(tp: TestPurchase):
    flash("The letter for this test purchase has been sent: corrections are made as an amendment, which keeps "
          "the original in the history.", "warning")
    return redirect(url_for(".amend", purchase_id=tp.id))
