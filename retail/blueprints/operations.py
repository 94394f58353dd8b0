"""Operations (test-purchase exercises) and the volunteers taking part, with their consent per operation.

Volunteer pages show children's dates of birth and consent: staff only (officer, police, supervisor, admin).
"""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from .. import programme
from .. import purchases as P
from ..access import STAFF, Role, roles_required
from ..audit import history
from ..extensions import db
from ..forms.purchases import (ConsentForm, OperationCreateForm, OperationEditForm, VolunteerCreateForm,
                               VolunteerEditForm)
from ..idempotency import create_once
from ..models.accounts import User
from ..home import panel
from ..models.purchases import OUTCOME_LABELS, Operation, TestPurchase, Volunteer, VolunteerConsent
from ..nav import add_nav
from ._helpers import field_error, get_for_change, get_or_404, save_edit
from ..timeutil import today_london
from ..validation import InvalidValue
from .. import volunteer_privacy as privacy

bp = Blueprint("operations", __name__)

add_nav("Operations", "operations.index", STAFF, 21)


def _staff_choices(form) -> None:
    staff = db.session.execute(sa.select(User.id, User.name, User.email).where(
        User.role != "retailer", User.active.is_(True)).order_by(User.name)).all()
    form.lead_officer_id.choices = [(0, "Not set")] + [(uid, name or email) for uid, name, email in staff]
    form.officer_ids.choices = [(uid, name or email) for uid, name, email in staff]


def _operation_data(form) -> dict:
    return {name: form[name].data for name in P.OPERATION_FIELDS}


@panel
def current_operation_panel(user) -> dict | None:
    """The operation this user is on today (else the authority's running one, else the next within a week): its
    volunteers' consents and the attempts logged so far — what a police test-purchase team opens the app for."""
    if not user.is_staff:
        return None
    today = today_london()
    ops = P.operations_this_week(today)
    if not ops:
        return None
    mine = [op for op in ops if user.id in op.officer_ids or op.lead_officer_id == user.id]
    running = [op for op in (mine or ops) if op.starts_on <= today]
    op = (running or mine or ops)[0]
    consents = db.session.scalars(
        sa.select(VolunteerConsent).options(selectinload(VolunteerConsent.volunteer))
        .where(VolunteerConsent.operation_id == op.id)).all()
    attempts = db.session.execute(
        sa.select(TestPurchase.outcome, sa.func.count()).where(TestPurchase.operation_id == op.id)
        .group_by(TestPurchase.outcome)).all()
    recent = db.session.scalars(P.with_names(
        sa.select(TestPurchase).where(TestPurchase.operation_id == op.id)
        .order_by(TestPurchase.id.desc()).limit(5))).all()
    return {"title": "Your operation" if op in mine else "Operation running", "order": 5 if op in mine else 20,
            "template": "operations/_panel_current.html", "op": op, "running": op.starts_on <= today,
            "volunteers": sorted((c.volunteer.code_name, c.withdrawn) for c in consents),
            "attempts": sum(n for _, n in attempts), "failed": sum(n for o, n in attempts if o and o.failed),
            "recent": recent, "outcome_labels": OUTCOME_LABELS}


# --- operations -------------------------------------------------------------------------------------------------

@bp.route("/operations")
@roles_required(STAFF)
def index():
    page = db.paginate(sa.select(Operation).order_by(Operation.starts_on.desc(), Operation.id.desc()),
                       per_page=25, error_out=False)
    ids = [op.id for op in page.items]
    counts = {}
    if ids:
        counts = {op_id: (n, fails) for op_id, n, fails in db.session.execute(
            sa.select(TestPurchase.operation_id, sa.func.count(),
                      sa.func.count(sa.case((TestPurchase.failed.is_(True), 1))))
            .where(TestPurchase.operation_id.in_(ids)).group_by(TestPurchase.operation_id))}
    return render_template("operations/index.html", page=page, counts=counts, today=today_london())


@bp.route("/operations/new", methods=["GET", "POST"])
@roles_required(STAFF)
def new():
    form = OperationCreateForm()
    _staff_choices(form)
    if request.method == "GET":
        form.starts_on.data = form.ends_on.data = today_london()
        form.lead_officer_id.data = current_user.id
        form.officer_ids.data = [current_user.id]
        form.lead_agency.data = "police" if current_user.role.value == "police" else "trading-standards"
    if form.validate_on_submit():
        try:
            op_id, created = create_once(form.submission_token.data, "Operation",
                                         lambda: P.create_operation(_operation_data(form)), current_user.id)
        except InvalidValue as exc:
            field_error(form, exc)
        else:
            flash("Operation created. Now record each volunteer's consent." if created
                  else "This form was already saved.", "success")
            return redirect(url_for(".view", operation_id=op_id))
    return render_template("operations/form.html", form=form, operation=None), 422 if form.is_submitted() else 200


@bp.route("/operations/<int:operation_id>")
@roles_required(STAFF)
def view(operation_id: int):
    op = get_or_404(Operation, operation_id)
    officers = db.session.scalars(sa.select(User).where(User.id.in_(op.officer_ids)).order_by(User.name)).all()
    purchases = db.session.scalars(P.with_names(
        sa.select(TestPurchase).where(TestPurchase.operation_id == op.id)
        .order_by(TestPurchase.purchase_date.desc(), TestPurchase.id.desc()).limit(200))
        .options(selectinload(TestPurchase.volunteer), selectinload(TestPurchase.actions))).all()
    consent_form = ConsentForm()
    consent_form.volunteer_id.choices = _volunteer_choices(op)
    consent_form.given_on.data = today_london()
    letters_missing = sum(1 for tp in purchases if tp.stage.value == "concluded" and tp.outcome
                          and tp.outcome.value != "INCONCLUSIVE" and not tp.letters)
    visible = privacy.visible_volunteer_ids(current_user, [c.volunteer_id for c in op.consents])
    privacy.log_views([c.volunteer for c in op.consents if c.volunteer_id in visible])
    return render_template("operations/view.html", operation=op, officers=officers, purchases=purchases,
                           consent_form=consent_form, history=history("Operation", op.id),
                           letters_missing=letters_missing, visible=visible, age_band=privacy.age_band,
                           progress=programme.target_progress(op))


def _volunteer_choices(op: Operation):
    taken = {c.volunteer_id for c in op.consents}
    volunteers = db.session.scalars(sa.select(Volunteer).where(Volunteer.active.is_(True))
                                    .order_by(Volunteer.code_name)).all()
    return [(0, "Choose…")] + [(v.id, f"{v.code_name} (aged {privacy.age_band(v.date_of_birth, op.starts_on)} "
                                      "at the start)")
                               for v in volunteers if v.id not in taken]


@bp.route("/operations/<int:operation_id>/edit", methods=["GET", "POST"])
@roles_required(STAFF)
def edit(operation_id: int):
    op = get_for_change(Operation, operation_id)
    form = OperationEditForm(obj=op)
    _staff_choices(form)
    if request.method == "GET":
        form.version.data = op.version
        form.lead_agency.data = op.lead_agency.value
        form.lead_officer_id.data = op.lead_officer_id or 0
        form.officer_ids.data = op.officer_ids
    if form.validate_on_submit():
        done = save_edit(form, lambda: P.update_operation(op, _operation_data(form), form.version.data),
                          url_for(".view", operation_id=op.id))
        if done:
            return done
    return render_template("operations/form.html", form=form, operation=op), 422 if form.is_submitted() else 200


@bp.route("/operations/<int:operation_id>/consents", methods=["POST"])
@roles_required(STAFF)
def add_consent(operation_id: int):
    op = get_or_404(Operation, operation_id)
    form = ConsentForm()
    form.volunteer_id.choices = _volunteer_choices(op)
    form.volunteer_id.validate_choice = False
    if form.validate_on_submit():
        data = {name: form[name].data for name in P.CONSENT_FIELDS}
        try:
            _id, created = create_once(form.submission_token.data, "VolunteerConsent",
                                       lambda: P.add_consent(op, data), current_user.id)
        except InvalidValue as exc:
            flash(str(exc), "danger")
        else:
            flash("Consent recorded." if created else "This consent was already saved.", "success")
    else:
        for field in form:
            for error in field.errors:
                flash(f"{field.label.text}: {error}", "danger")
    return redirect(url_for(".view", operation_id=op.id) + "#volunteers")


@bp.route("/consents/<int:consent_id>/withdraw", methods=["POST"])
@roles_required(STAFF)
def withdraw_consent(consent_id: int):
    consent = get_or_404(VolunteerConsent, consent_id)
    P.withdraw_consent(consent)
    db.session.commit()
    flash(f"Consent for {consent.volunteer.code_name} withdrawn: they can no longer be chosen for this operation.",
          "success")
    return redirect(url_for(".view", operation_id=consent.operation_id) + "#volunteers")


# --- volunteers -------------------------------------------------------------------------------------------------

@bp.route("/volunteers")
@roles_required(STAFF)
def volunteers():
    rows = db.session.scalars(sa.select(Volunteer).order_by(Volunteer.active.desc(), Volunteer.code_name)).all()
    return render_template("operations/volunteers.html", volunteers=rows, today=today_london(),
                           age_band=privacy.age_band)


@bp.route("/volunteers/new", methods=["GET", "POST"])
@roles_required(STAFF)
def volunteer_new():
    form = VolunteerCreateForm()
    if form.validate_on_submit():
        data = {name: form[name].data for name in P.VOLUNTEER_FIELDS}
        try:
            vid, created = create_once(form.submission_token.data, "Volunteer", lambda: P.create_volunteer(data),
                                       current_user.id)
        except InvalidValue as exc:
            field_error(form, exc)
        else:
            flash("Volunteer added." if created else "This form was already saved.", "success")
            return redirect(url_for(".volunteer_view", volunteer_id=vid))
    return render_template("operations/volunteer_form.html", form=form, volunteer=None), \
        422 if form.is_submitted() else 200


@bp.route("/volunteers/<int:volunteer_id>")
@roles_required(STAFF)
def volunteer_view(volunteer_id: int):
    volunteer = get_or_404(Volunteer, volunteer_id)
    purchases = db.session.scalars(sa.select(TestPurchase).where(TestPurchase.volunteer_id == volunteer.id)
                                   .order_by(TestPurchase.purchase_date.desc()).limit(100)).all()
    personal = bool(privacy.visible_volunteer_ids(current_user, [volunteer.id]))
    if personal:
        privacy.log_views([volunteer])
    return render_template("operations/volunteer.html", volunteer=volunteer, purchases=purchases,
                           today=today_london(), history=history("Volunteer", volunteer.id), personal=personal,
                           age_band=privacy.age_band)


@bp.route("/volunteers/access-log")
@roles_required(Role.SUPERVISOR)
def volunteer_access_log():
    """Who was shown which volunteer's personal details, and where (issue 9 part 5)."""
    return render_template("operations/access_log.html", views=privacy.access_log(current_user.authority_id))


@bp.route("/volunteers/<int:volunteer_id>/edit", methods=["GET", "POST"])
@roles_required(frozenset({Role.SUPERVISOR, Role.OFFICER, Role.POLICE}))  # never admins: it shows the DOB (issue 9)
def volunteer_edit(volunteer_id: int):
    volunteer = get_for_change(Volunteer, volunteer_id)
    if not privacy.visible_volunteer_ids(current_user, [volunteer.id]):
        abort(403)  # the form shows the date of birth and notes
    if request.method == "GET":
        privacy.log_views([volunteer])
    form = VolunteerEditForm(obj=volunteer)
    if request.method == "GET":
        form.version.data = volunteer.version
    if form.validate_on_submit():
        data = {name: form[name].data for name in P.VOLUNTEER_FIELDS}
        done = save_edit(form, lambda: P.update_volunteer(volunteer, data, form.version.data),
                          url_for(".volunteer_view", volunteer_id=volunteer.id))
        if done:
            return done
    return render_template("operations/volunteer_form.html", form=form, volunteer=volunteer), \
        422 if form.is_submitted() else 200
