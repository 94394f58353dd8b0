"""Small helpers the blueprints share: 404 lookups, errors shown at the field, and the refuse-don't-lose save."""
from flask import abort, flash, redirect, request
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..register import StaleRecord
from ..scoping import may_change
from ..validation import InvalidValue


def _load(model, record_id):
    # Always read through the database (never the session's identity map alone), so the authority rule applies
    # even to a record something else in this session loaded London-wide.
    return db.session.get(model, record_id, populate_existing=True) or abort(404)


def get_or_404(model, record_id):
    """The record, if the user may read it (else 404). A form sent to change a record the user may only read (a
    Met operation shared with a borough) is refused with 403 before anything is validated."""
    record = _load(model, record_id)
    if request.method not in ("GET", "HEAD") and not may_change(record):
        abort(403)
    return record


def get_for_change(model, record_id):
    """The record for an edit form: 404 if the user may not read it, 403 if they may read but not change it."""
    record = _load(model, record_id)
    if not may_change(record):
        abort(403)
    return record


def form_data(form, names) -> dict:
    return {name: form[name].data for name in names if name in form}


def field_error(form, exc) -> None:
    """Show a domain error next to the field it names, or at the top of the page; every one of several."""
    for each in getattr(exc, "errors", None) or ():
        field_error(form, each)
    if getattr(exc, "errors", None):
        return
    field = getattr(exc, "field", None)
    if field and field in form:
        form[field].errors = list(form[field].errors) + [str(exc)]
    else:
        flash(str(exc), "danger")


def save_edit(form, apply, target_url: str):
    """Apply an edit and commit. A stale or invalid save is refused with a message and rolled back, never merged."""
    try:
        apply()
        db.session.commit()
    except StaleRecord as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return None
    except StaleDataError:
        db.session.rollback()
        flash("Someone else saved this record at the same moment. Reload it to see their changes.", "danger")
        return None
    except InvalidValue as exc:
        db.session.rollback()
        field_error(form, exc)
        return None
    flash("Saved.", "success")
    return redirect(target_url)
