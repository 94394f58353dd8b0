"""The retailer register: list and search, business/shop/online store/RRA pages and forms, CSV import and export."""
from datetime import date

import sqlalchemy as sa
from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_login import current_user

from .. import register as reg
from .. import register_import
from ..access import STAFF, roles_required
from ..audit import history
from ..boroughs import BOROUGH_CHOICES
from ..extensions import db
from ..forms.register import (SELLS_CHOICES, BusinessCreateForm, BusinessEditForm, ConfirmImportForm, ImportForm,
                              PremisesCreateForm, PremisesEditForm, RraCreateForm, RraEditForm, RraStatusForm,
                              StoreCreateForm, StoreEditForm)
from ..idempotency import create_once
from ..models.register import (BUSINESS_TYPE_LABELS, RRA_COMMITMENTS, RRA_FILTERS, Business, ImportBatch,
                               OnlineStore, Premises, RraSignature)
from ..register_csv import COLUMNS, HEADING_ALIASES, ImportFileError, apply_import, plan_import
from ..register_export import export_rows
from ..timeline import business_timeline
from ..timeutil import today_london, utcnow
from ._helpers import form_data, get_for_change, get_or_404, save_edit
from ..validation import InvalidValue, looks_like_postcode_prefix

bp = Blueprint("register", __name__)

BUSINESS_FORM_FIELDS = reg.BUSINESS_FIELDS


def _known(value: str, allowed) -> str:
    """A filter value the list knows, else no filter (an unknown type in the address is not an error page)."""
    return value if value in allowed else ""


# --- list, search, export --------------------------------------------------------------------------------------

@bp.route("/register")
@roles_required(STAFF)
def index():
    filters = reg.RegisterFilters(
        q=request.args.get("q", "").strip()[:100], borough=request.args.get("borough", ""),
        business_type=_known(request.args.get("type", ""), reg.business_type_values()), rra=request.args.get("rra", ""),
        sells=request.args.get("sells", ""), sort=request.args.get("sort", "name"))
    page = db.paginate(reg.register_query(filters), per_page=current_app.config["REGISTER_PAGE_SIZE"],
                       error_out=False, max_per_page=100)
    ids = [b.id for b in page.items]
    statuses = reg.rra_summary(ids)
    shops, shop_counts = reg.shops_for_page(ids, filters)
    return render_template(
        "register/index.html", page=page, filters=filters, statuses=statuses, shops=shops, shop_counts=shop_counts,
        borough_choices=BOROUGH_CHOICES, type_choices=list(BUSINESS_TYPE_LABELS.items()),
        rra_choices=list(RRA_FILTERS.items()), sells_choices=SELLS_CHOICES)


@bp.route("/register/export.csv")
@roles_required(STAFF)
def export_csv():
    filename = f"knife-retail-register-{date.today().isoformat()}.csv"
    return Response(stream_with_context(export_rows()), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


@bp.route("/premises/lookup.json")
@roles_required(STAFF)
def premises_lookup():
    """Shops whose name or postcode starts with `q`, for pick-lists on phones (typing part of a name or postcode)."""
    q = request.args.get("q", "").strip()
    if len(q) < 2:
        return jsonify(items=[])
    rows = db.session.execute(
        sa.select(Premises, Business.trading_name).join(Business, Premises.business_id == Business.id)
        .where(Premises.id.in_(reg.matching_premises_ids(q))).order_by(Premises.name_key).limit(20)
    ).all()
    return jsonify(items=[{"id": p.id, "name": p.name, "business": trading, "postcode": p.postcode,
                           "borough": p.borough_name, "status": p.status.value,
                           "label": f"{p.name}, {p.address_line1}, {p.postcode}"} for p, trading in rows])


@bp.route("/premises/borough.json")
@roles_required(STAFF)
def borough_suggestion():
    """The borough other shops with this postcode (or its sector, or district) are in, for the register forms."""
    return jsonify(suggestion=reg.suggest_borough(request.args.get("postcode", "")[:12]))


# --- CSV import ---------------------------------------------------------------------------------------------------

@bp.route("/register/import", methods=["GET", "POST"])
@roles_required(STAFF)
def import_upload():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        content = upload.read()
        batch = ImportBatch(user_id=current_user.id, filename=upload.filename or "upload.csv", content=content)
        db.session.add(batch)
        db.session.commit()
        return redirect(url_for("register.import_preview", batch_id=batch.id))
    return render_template("register/import.html", form=form, columns=COLUMNS, aliases=HEADING_ALIASES)


def _own_batch(batch_id: int) -> ImportBatch:
    batch = get_or_404(ImportBatch, batch_id)
    if batch.user_id != current_user.id:
        abort(404)
    return batch


@bp.route("/register/import/<int:batch_id>")
@roles_required(STAFF)
def import_preview(batch_id: int):
    batch = _own_batch(batch_id)
    if batch.status in (register_import.QUEUED, register_import.RUNNING, register_import.DONE):
        # Importing in the background, or done: how far it has got (the file is not read again on every refresh).
        return render_template("register/import_progress.html", batch=batch, form=ConfirmImportForm())
    plan = plan_import(batch.content)
    return render_template("register/import_preview.html", batch=batch, plan=plan, form=ConfirmImportForm())


@bp.route("/register/import/<int:batch_id>/confirm", methods=["POST"])
@roles_required(STAFF)
def import_confirm(batch_id: int):
    batch = _own_batch(batch_id)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    if batch.imported_at:
        flash("This file was already imported.", "info")
        return redirect(url_for("register.index"))
    if batch.status in (register_import.QUEUED, register_import.RUNNING):
        return redirect(url_for("register.import_preview", batch_id=batch.id))
    if register_import.runs_in_background(batch):
        plan = plan_import(batch.content)  # checked now, so a bad file is refused here, not in the background
        if not plan.ok:
            flash("Nothing was imported: some rows have problems.", "danger")
            return redirect(url_for("register.import_preview", batch_id=batch.id))
        register_import.queue(batch)
        db.session.commit()
        flash("The import has started in the background: this page shows how far it has got.", "success")
        return redirect(url_for("register.import_preview", batch_id=batch.id))
    try:
        counts = apply_import(batch.content)
    except ImportFileError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("register.import_preview", batch_id=batch.id))
    batch.imported_at = utcnow()
    batch.summary = counts
    db.session.commit()
    flash("Imported: " + ", ".join(f"{n} {what}" for what, n in counts.items()), "success")
    return redirect(url_for("register.index"))


# --- businesses ---------------------------------------------------------------------------------------------------

@bp.route("/businesses/new", methods=["GET", "POST"])
@roles_required(STAFF)
def business_new():
    form = BusinessCreateForm()
    if request.method == "GET":
        # From an empty search: what was searched for is not typed again (a postcode, or a name).
        looked_for = request.args.get("q", "").strip()[:200]
        if looked_for and looks_like_postcode_prefix(looked_for):
            form.shop_postcode.data = looked_for.upper()
        elif looked_for:
            form.legal_name.data = form.trading_name.data = looked_for
    if form.validate_on_submit():
        try:
            business_id, created = create_once(
                form.submission_token.data, "Business",
                lambda: reg.create_business(form_data(form, BUSINESS_FORM_FIELDS), form.premises_data()),
                current_user.id)
        except reg.DuplicateRecord as exc:
            target = form[exc.field] if exc.field in form else form.legal_name
            target.errors = list(target.errors) + [str(exc)]
            if exc.existing_id:
                flash("Already registered: see the existing record.", "warning")
            return render_template("register/business_form.html", form=form, business=None,
                                   duplicate_id=exc.existing_id), 422
        flash("Business added." if created else "This form was already saved; here is the record.", "success")
        return redirect(url_for("register.business_view", business_id=business_id))
    status = 422 if form.is_submitted() else 200
    return render_template("register/business_form.html", form=form, business=None), status


@bp.route("/businesses/<int:business_id>")
@roles_required(STAFF)
def business_view(business_id: int):
    business = get_or_404(Business, business_id)
    shops, shop_count = reg.business_premises_page(business)
    return render_template(
        "register/business.html", business=business, rra_status=reg.business_rra_status(business),
        shops=shops, shop_count=shop_count,
        timeline=business_timeline(business, current_user), history=history("Business", business.id),
        commitments=RRA_COMMITMENTS, extra_sections=reg.business_sections(business, current_user))


@bp.route("/businesses/<int:business_id>/edit", methods=["GET", "POST"])
@roles_required(STAFF)
def business_edit(business_id: int):
    business = get_or_404(Business, business_id)
    form = BusinessEditForm(obj=business)
    if request.method == "GET":
        form.version.data = business.version
    if form.validate_on_submit():
        done = save_edit(form,
                          lambda: reg.update_business(business, form_data(form, BUSINESS_FORM_FIELDS),
                                                      form.version.data),
                          url_for("register.business_view", business_id=business.id))
        if done:
            return done
    return render_template("register/business_form.html", form=form, business=business)


# --- shops --------------------------------------------------------------------------------------------------------

@bp.route("/businesses/<int:business_id>/premises/new", methods=["GET", "POST"])
@roles_required(STAFF)
def premises_new(business_id: int):
    business = get_or_404(Business, business_id)
    form = PremisesCreateForm()
    if form.validate_on_submit():
        try:
            premises_id, created = create_once(
                form.submission_token.data, "Premises",
                lambda: reg.add_premises(business, form_data(form, reg.PREMISES_FIELDS + ("sells",))),
                current_user.id)
        except InvalidValue as exc:
            form.name.errors = list(form.name.errors) + [str(exc)]
        else:
            flash("Shop added." if created else "This form was already saved.", "success")
            return redirect(url_for("register.premises_view", premises_id=premises_id))
    return render_template("register/premises_form.html", form=form, business=business, premises=None)


@bp.route("/premises/<int:premises_id>")
@roles_required(STAFF)
def premises_view(premises_id: int):
    premises = get_or_404(Premises, premises_id)
    return render_template("register/premises.html", premises=premises, history=history("Premises", premises.id),
                           extra_sections=reg.premises_sections(premises, current_user))


@bp.route("/premises/<int:premises_id>/edit", methods=["GET", "POST"])
@roles_required(STAFF)
def premises_edit(premises_id: int):
    premises = get_for_change(Premises, premises_id)
    form = PremisesEditForm(obj=premises)
    if request.method == "GET":
        form.version.data = premises.version
        form.sells.data = premises.sells
        form.display.data = premises.display.value if premises.display else ""
        form.status.data = premises.status.value
    if form.validate_on_submit():
        done = save_edit(form,
                          lambda: reg.update_premises(premises, form_data(form, reg.PREMISES_FIELDS + ("sells",)),
                                                      form.version.data),
                          url_for("register.premises_view", premises_id=premises.id))
        if done:
            return done
    return render_template("register/premises_form.html", form=form, business=premises.business, premises=premises)


# --- online stores ------------------------------------------------------------------------------------------------

@bp.route("/businesses/<int:business_id>/stores/new", methods=["GET", "POST"])
@roles_required(STAFF)
def store_new(business_id: int):
    business = get_or_404(Business, business_id)
    form = StoreCreateForm()
    if form.validate_on_submit():
        try:
            store_id, created = create_once(
                form.submission_token.data, "OnlineStore",
                lambda: reg.add_online_store(business, form_data(form, reg.STORE_FIELDS)), current_user.id)
        except InvalidValue as exc:
            form.base_url.errors = list(form.base_url.errors) + [str(exc)]
        else:
            flash("Online store added." if created else "This form was already saved.", "success")
            return redirect(url_for("register.store_view", store_id=store_id))
    return render_template("register/store_form.html", form=form, business=business, store=None)


@bp.route("/stores/<int:store_id>")
@roles_required(STAFF)
def store_view(store_id: int):
    store = get_or_404(OnlineStore, store_id)
    return render_template("register/store.html", store=store, history=history("OnlineStore", store.id),
                           extra_sections=reg.store_sections(store, current_user))


@bp.route("/stores/<int:store_id>/edit", methods=["GET", "POST"])
@roles_required(STAFF)
def store_edit(store_id: int):
    store = get_or_404(OnlineStore, store_id)
    form = StoreEditForm(obj=store)
    if request.method == "GET":
        form.version.data = store.version
        form.platform.data = store.platform.value
    if form.validate_on_submit():
        done = save_edit(form,
                          lambda: reg.update_online_store(store, form_data(form, reg.STORE_FIELDS), form.version.data),
                          url_for("register.store_view", store_id=store.id))
        if done:
            return done
    return render_template("register/store_form.html", form=form, business=store.business, store=store)


# --- Responsible Retailers Agreement -----------------------------------------------------------------------------

def _rra_form_data(form) -> dict:
    return form_data(form, reg.RRA_FIELDS + ("premises_ids",))


@bp.route("/businesses/<int:business_id>/rra/new", methods=["GET", "POST"])
@roles_required(STAFF)
def rra_new(business_id: int):
    business = get_or_404(Business, business_id)
    form = RraCreateForm()
    form.premises_ids.choices = [(p.id, f"{p.name}, {p.postcode}") for p in business.premises]
    if request.method == "GET":
        form.signed_on.data = today_london()
        form.premises_ids.data = [p.id for p in business.premises if p.status.value == "trading"]
        form.commitments.data = list(RRA_COMMITMENTS)
        if current_user.role.value in ("officer", "supervisor"):
            form.ts_officer.data = current_user.name
        elif current_user.role.value == "police":
            form.police_officer.data = current_user.name
        form.review_due.data = date(form.signed_on.data.year + 1, form.signed_on.data.month, 1)
    if form.validate_on_submit():
        try:
            signature_id, created = create_once(
                form.submission_token.data, "RraSignature",
                lambda: reg.sign_rra(business, _rra_form_data(form), current_user.email), current_user.id)
        except InvalidValue as exc:
            form.signed_on.errors = list(form.signed_on.errors) + [str(exc)]
        else:
            flash("Signature recorded." if created else "This form was already saved.", "success")
            return redirect(url_for("register.business_view", business_id=business.id))
    return render_template("register/rra_form.html", form=form, business=business, signature=None)


@bp.route("/rra/<int:signature_id>")
@roles_required(STAFF)
def rra_view(signature_id: int):
    signature = get_or_404(RraSignature, signature_id)
    form = RraStatusForm()
    form.version.data = signature.version
    form.on.data = today_london()
    return render_template("register/rra.html", signature=signature, commitments=RRA_COMMITMENTS,
                           status_form=form, history=history("RraSignature", signature.id))


@bp.route("/rra/<int:signature_id>/edit", methods=["GET", "POST"])
@roles_required(STAFF)
def rra_edit(signature_id: int):
    signature = get_or_404(RraSignature, signature_id)
    form = RraEditForm(obj=signature)
    form.premises_ids.choices = [(p.id, f"{p.name}, {p.postcode}") for p in signature.business.premises]
    if request.method == "GET":
        form.version.data = signature.version
        form.premises_ids.data = [p.id for p in signature.premises]
        form.scheme.data = signature.scheme.value
    if form.validate_on_submit():
        done = save_edit(form,
                          lambda: reg.update_rra(signature, _rra_form_data(form), form.version.data),
                          url_for("register.rra_view", signature_id=signature.id))
        if done:
            return done
    return render_template("register/rra_form.html", form=form, business=signature.business, signature=signature)


@bp.route("/rra/<int:signature_id>/status", methods=["POST"])
@roles_required(STAFF)
def rra_status(signature_id: int):
    signature = get_or_404(RraSignature, signature_id)
    form = RraStatusForm()
    if form.validate_on_submit():
        try:
            reg.change_rra_status(signature, form.status.data, form.on.data, form.reason.data or "",
                                  current_user.email, form.version.data)
            db.session.commit()
            flash(f"Agreement is now {signature.status.value}.", "success")
            return redirect(url_for("register.rra_view", signature_id=signature.id))
        except (InvalidValue, reg.StaleRecord) as exc:
            db.session.rollback()
            form.reason.errors = list(form.reason.errors) + [str(exc)]
    return render_template("register/rra.html", signature=signature, commitments=RRA_COMMITMENTS,
                           status_form=form, history=history("RraSignature", signature.id)), 422
