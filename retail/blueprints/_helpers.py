"""Small helpers the blueprints share: 404 lookups, errors shown at the field, and the refuse-don't-lose save."""
from flask import abort, flash, redirect
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..register import StaleRecord
from ..validation import InvalidValue


def get_or_404(model, record_id):
    return db.session.get(model, record_id) or abort(404)


def form_data(form, names) -> dict:
    return {name: form[name].data for name in names if name in form}


def field_error(form, exc) -> None:
    """Show a domain error next to the field it names, or at the top of the page."""
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
