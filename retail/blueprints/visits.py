"""Advice visits under /visits: record a visit on a phone, read it, correct it, print the record left with the shop."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import visits as V
from ..access import STAFF, Role, roles_required
from ..audit import history
from ..extensions import db
from ..paging import keyset_page
from ..forms.visits import VisitEditForm, VisitForm
from ..idempotency import create_once
from ..models.register import Premises
from ..models.visits import CHECK_RESULT_LABELS, AdviceVisit, CheckResult
from ..nav import add_nav
from ..purchases import resolve_premises
from ..settings import all_settings
from ..timeutil import today_london
from ..validation import InvalidValue
from ._helpers import field_error, get_for_change, get_or_404, save_edit

bp = Blueprint("visits", __name__)
add_nav("Visits", "visits.index", STAFF, 12)

# After saving, the officer can go straight on to the next step of the same visit (users.md: sign the business up
# to the agreement on the phone, invite staff to the next training session).
NEXT_STEPS = {"rra": "Save and sign the agreement", "training": "Save and invite to training"}


def _premises_label(premises: Premises) -> str:
    return f"{premises.name}, {premises.address_line1}, {premises.postcode}"


def _resolve_premises(form):
    """The chosen shop, or the candidates to choose from (the picker without JavaScript)."""
    raw = str(form.premises_id.data or "").strip()
    if raw.isdigit():
        return db.session.get(Premises, int(raw)), []
    text = (form.premises_query.data or "").strip()
    if not text:
        return None, []
    matches = resolve_premises(text)
    if len(matches) == 1:
        return matches[0], []
    if not matches:
        form.premises_query.errors = list(form.premises_query.errors) + [
            f"No shop in the register matches “{text}”. Check the spelling, or add the shop first."]
    else:
        form.premises_query.errors = list(form.premises_query.errors) + ["Several shops match: choose one below."]
    return None, matches


def _visit_data(form) -> dict:
    return {name: form[name].data for name in V.VISIT_FIELDS if name in form}


@bp.route("/visits")
@roles_required(STAFF)
def index():
    page = keyset_page(V.visits_query(), V.LIST_ORDER, current_app.config.get("REGISTER_PAGE_SIZE", 50), request.args)
    return render_template("visits/index.html", page=page, today=today_london())


@bp.route("/visits/new", methods=["GET", "POST"])
@roles_required(STAFF)
def new():
    form = VisitForm()
    candidates = []
    if request.method == "GET":
        form.visited_on.data = today_london()
        premises = db.session.get(Premises, request.args.get("premises_id", type=int) or 0)
        if premises is not None:
            form.premises_id.data = str(premises.id)
            form.premises_query.data = _premises_label(premises)
            if any(s.status.value == "active" and premises in s.premises for s in premises.business.rra_signatures):
                form.rra.data = "already-signed"
    if form.is_submitted():
        form_ok = form.validate()
        premises, candidates = _resolve_premises(form)
        try:
            if not form_ok:
                V.check_visit(V._clean(_visit_data(form)), premises)
            else:
                visit_id, created = create_once(form.submission_token.data, "AdviceVisit",
                                                lambda: V.record_visit(premises, _visit_data(form), current_user),
                                                current_user.id)
        except InvalidValue as exc:
            if not candidates:
                field_error(form, exc)
            else:
                for each in getattr(exc, "errors", None) or [exc]:
                    if getattr(each, "field", None) != "premises_query":
                        field_error(form, each)
        else:
            if form_ok:
                visit = db.session.get(AdviceVisit, visit_id)
                flash("Visit saved." if created else "This visit was already saved; here is the record.", "success")
                step = request.form.get("next")
                if step == "rra":
                    return redirect(url_for("register.rra_new", business_id=visit.business_id))
                if step == "training":
                    return redirect(url_for("training.invitation_new", business_id=visit.business_id,
                                            premises_id=visit.premises_id))
                return redirect(url_for(".view", visit_id=visit_id))
    status = 422 if form.is_submitted() else 200
    return render_template("visits/form.html", form=form, visit=None, candidates=candidates, next_steps=NEXT_STEPS,
                           results=CHECK_RESULT_LABELS), status


@bp.route("/visits/<int:visit_id>")
@roles_required(STAFF)
def view(visit_id: int):
    visit = get_or_404(AdviceVisit, visit_id)
    return render_template("visits/view.html", visit=visit, history=history("AdviceVisit", visit.id),
                           advice=CheckResult.ADVICE)


@bp.route("/visits/<int:visit_id>/edit", methods=["GET", "POST"])
@roles_required(STAFF)
def edit(visit_id: int):
    visit = get_for_change(AdviceVisit, visit_id)
    form = VisitEditForm(obj=visit)
    if request.method == "GET":
        form.version.data = visit.version
        form.premises_id.data = str(visit.premises_id)
        form.premises_query.data = _premises_label(visit.premises)
        for name in V.CHECKS:
            form[name].data = getattr(visit, name).value
        form.rra.data = visit.rra.value
    else:
        # The shop of a visit is not changed by an edit: record a new visit instead.
        form.premises_id.data = str(visit.premises_id)
    if form.validate_on_submit():
        done = save_edit(form, lambda: V.update_visit(visit, _visit_data(form), form.version.data),
                         url_for(".view", visit_id=visit.id))
        if done:
            return done
    return render_template("visits/form.html", form=form, visit=visit, candidates=[], next_steps={},
                           results=CHECK_RESULT_LABELS), (422 if form.is_submitted() else 200)


@bp.route("/visits/<int:visit_id>/record")
@roles_required(STAFF, Role.RETAILER)
def record(visit_id: int):
    """The printable record left with the shop: what was checked and the advice given, never the officer's notes.
    A retailer reads only their own business's (any other is not found)."""
    visit = get_or_404(AdviceVisit, visit_id)
    if current_user.role == Role.RETAILER and visit.business_id != current_user.business_id:
        abort(404)
    return render_template("visits/record.html", visit=visit, settings=all_settings(visit.authority_id),
                           advice=CheckResult.ADVICE)
