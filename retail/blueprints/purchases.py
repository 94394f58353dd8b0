"""Test purchases (in store, online by stage), notification letters, follow-up actions, exports, retailer letters."""
from datetime import date, datetime

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, \
    stream_with_context, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from .. import purchases as P
from ..access import STAFF, Role, roles_required
from ..audit import history
from ..boroughs import BOROUGH_CHOICES
from ..extensions import db
from ..paging import keyset_page
from ..forms.purchases import (ActionCreateForm, ActionEditForm, DeliveryForm, DispatchForm, InStoreAmendForm,
                               InStoreCreateForm, InStoreEditForm, MarkSentForm, OnlineAmendForm, OnlineEditForm,
                               OrderCreateForm, OutcomeForm)
from ..home import panel
from ..idempotency import create_once
from ..models.purchases import (ACTION_LABELS, ACTION_STATUS_LABELS, CHANNEL_LABELS, KIND_LABELS,
                                OUTCOME_LABELS, RETAILER_VISIBLE_ACTIONS, STAGE_LABELS, ActionType, Channel,
                                FollowUpAction, NotificationLetter, OPEN_STAGES, Operation, TestPurchase)
from ..models.register import OnlineStore, Premises
from ..nav import add_nav
from ..purchases.letters import period_told
from ..rules.online import CONDITION_LABELS, RESULT_LABELS
from ._helpers import field_error, get_for_change, get_or_404
from ..register import BUSINESS_SECTIONS, PREMISES_SECTIONS, STORE_SECTIONS, StaleRecord
from ..settings import all_settings
from ..timeline import TimelineEvent, timeline_provider
from ..timeutil import LONDON, today_london
from ..validation import InvalidValue, normalise_url, parse_id, url_domain

bp = Blueprint("purchases", __name__)

add_nav("Test purchases", "purchases.index", STAFF, 20)
add_nav("Letters", "purchases.letters", STAFF, 22)


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


@bp.route("/purchases/volunteers.json")
@roles_required(STAFF)
def volunteer_choices():
    """The attempt forms' volunteer list for an operation and date, with why the others are not in it."""
    operation_id = request.args.get("operation_id", "")
    try:
        on = date.fromisoformat(request.args.get("on", ""))
    except ValueError:
        on = None
    operation_id = parse_id(operation_id)
    volunteers, missing = P.volunteer_availability(operation_id, on) if operation_id else ([], [])
    return jsonify(choices=[{"id": v.id, "label": v.code_name} for v in volunteers], missing=missing)


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
    from ..models.accounts import User

    others = db.session.scalars(sa.select(User.name).where(User.id.in_(op.officer_ids), User.id != current_user.id)
                                .order_by(User.name)).all()
    return current_user.name, ", ".join(others)


def _resolve_premises(form):
    """The chosen shop id, or the candidates to choose from (the picker without JavaScript)."""
    chosen = parse_id(form.premises_id.data)
    if chosen:
        return chosen, []
    text = (form.premises_query.data or "").strip()
    if not text:
        form.premises_query.errors = list(form.premises_query.errors) + ["Type part of the shop's name or postcode."]
        return None, []
    matches = P.resolve_premises(text)
    if len(matches) == 1:
        return matches[0].id, []
    if not matches:
        form.premises_query.errors = list(form.premises_query.errors) + [
            f"No shop in the register matches “{text}”. Check the spelling, or add the shop first."]
    else:
        form.premises_query.errors = list(form.premises_query.errors) + ["Several shops match: choose one below."]
    return None, matches


def _premises_label(premises: Premises) -> str:
    return f"{premises.name}, {premises.address_line1}, {premises.postcode}"


# --- list and export ------------------------------------------------------------------------------------------

def _filters() -> P.PurchaseFilters:
    def day(name):
        try:
            return date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return None

    return P.PurchaseFilters(
        q=request.args.get("q", "").strip()[:100], kind=request.args.get("kind", ""),
        channel=request.args.get("channel", ""), outcome=request.args.get("outcome", ""),
        stage=request.args.get("stage", ""), borough=request.args.get("borough", ""),
        operation_id=request.args.get("operation", type=int), business_id=request.args.get("business", type=int),
        date_from=day("from"), date_to=day("to"))


@bp.route("/purchases")
@roles_required(STAFF)
def index():
    filters = _filters()
    if filters.kind not in ("", *KIND_LABELS) or filters.channel not in ("", *CHANNEL_LABELS):
        abort(400)
    page = keyset_page(P.with_names(P.purchases_query(filters)), P.LIST_ORDER, current_app.config["REGISTER_PAGE_SIZE"],
                       request.args)
    args = {k: v for k, v in request.args.items() if k not in ("page", "after", "before") and v}
    return render_template("purchases/index.html", page=page, filters=filters, args=args,
                           kind_labels=KIND_LABELS, channel_labels=CHANNEL_LABELS, outcome_labels=OUTCOME_LABELS,
                           stage_labels=STAGE_LABELS, borough_choices=BOROUGH_CHOICES)


@bp.route("/purchases/export.csv")
@roles_required(STAFF)
def export_csv():
    filename = f"test-purchases-{date.today().isoformat()}.csv"
    return Response(stream_with_context(P.export_rows(_filters())), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


# --- in store -------------------------------------------------------------------------------------------------

IN_STORE_FORM_FIELDS = tuple(f for f in P.IN_STORE_FIELDS if f != "premises_id")


def _in_store_data(form, premises_id: int) -> dict:
    data = _form_values(form, IN_STORE_FORM_FIELDS)
    data["premises_id"] = premises_id
    data["aborted"] = bool(form.aborted.data)
    return data


def _all_problems(form, check) -> None:
    """After a refused form, also show what the rules say about the rest of the entry (fields already marked keep
    their own message), so one round trip brings back every problem. Nothing is saved."""
    try:
        check()
    except InvalidValue as exc:
        for each in getattr(exc, "errors", None) or [exc]:
            field = getattr(each, "field", None)
            if field and field in form and not form[field].errors and field != "premises_query":
                form[field].errors = list(form[field].errors) + [str(each)]


def _setup_in_store(form, purchase: TestPurchase | None = None):
    _operation_choices(form)
    form.volunteer_id.validate_choice = False
    form.operation_id.validate_choice = False
    known = dict(form.operation_id.choices)
    if purchase is not None and purchase.operation_id and str(purchase.operation_id) not in known:
        form.operation_id.choices.append((str(purchase.operation_id), purchase.operation.name))


@bp.route("/purchases/new", methods=["GET", "POST"])
@roles_required(STAFF)
def new_in_store():
    form = InStoreCreateForm()
    _setup_in_store(form)
    candidates = []
    if request.method == "GET":
        op = _default_operation()
        today = today_london()
        if op is not None:
            form.operation_id.data = str(op.id)
            form.purchase_date.data = min(max(today, op.starts_on), op.ends_on)
        else:
            form.purchase_date.data = today
        form.officer_inside.data, form.officer_outside.data = _officer_names(op)
        form.time_from.data = datetime.now(LONDON).time().replace(second=0, microsecond=0)
        if request.args.get("kind") in KIND_LABELS:
            form.kind.data = request.args["kind"]
        premises = db.session.get(Premises, request.args.get("premises", type=int) or 0)
        if premises is not None:
            form.premises_id.data = str(premises.id)
            form.premises_query.data = _premises_label(premises)
    _volunteer_choices(form, form.operation_id.data, form.purchase_date.data)
    if form.is_submitted():
        form_ok = form.validate()
        premises_id, candidates = _resolve_premises(form)
        if not (form_ok and premises_id):
            _all_problems(form, lambda: P.check_in_store(_in_store_data(form, premises_id)))
        else:
            data = _in_store_data(form, premises_id)
            try:
                tp_id, created = create_once(form.submission_token.data, "TestPurchase",
                                             lambda: P.create_in_store(data, current_user), current_user.id)
            except InvalidValue as exc:
                field_error(form, exc)
            else:
                tp = db.session.get(TestPurchase, tp_id)
                flash(f"Saved: {tp.target_name}, {tp.outcome_label}." if created
                      else "This attempt was already saved; here is the record.", "success")
                if request.form.get("next") == "another" and created:
                    return redirect(url_for(".new_in_store", operation=tp.operation_id or "", kind=tp.kind.value))
                return redirect(url_for(".view", purchase_id=tp_id))
    status = 422 if form.is_submitted() else 200
    return render_template("purchases/in_store_form.html", form=form, candidates=candidates, purchase=None,
                           amend=False), status


def _edit_in_store(tp: TestPurchase, form, amend: bool):
    _setup_in_store(form, tp)
    candidates = []
    if request.method == "GET":
        form.version.data = tp.version
        form.operation_id.data = str(tp.operation_id or "")
        form.volunteer_id.data = str(tp.volunteer_id or "")
        form.premises_id.data = str(tp.premises_id)
        form.premises_query.data = _premises_label(tp.premises)
        form.aborted.data = tp.outcome is not None and tp.outcome.value == "INCONCLUSIVE"
        _fill_bools(form, tp, IN_STORE_FORM_FIELDS)
        _fill_enums(form, tp, IN_STORE_FORM_FIELDS)
    _volunteer_choices(form, form.operation_id.data, form.purchase_date.data)
    if tp.volunteer_id and str(tp.volunteer_id) not in dict(form.volunteer_id.choices):
        form.volunteer_id.choices.append((str(tp.volunteer_id), tp.volunteer.code_name))
    if form.validate_on_submit():
        premises_id, candidates = _resolve_premises(form)
        if premises_id:
            data = _in_store_data(form, premises_id)
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
    status = 422 if form.is_submitted() else 200
    return render_template("purchases/in_store_form.html", form=form, candidates=candidates, purchase=tp,
                           amend=amend), status


# --- online ---------------------------------------------------------------------------------------------------

def _store_candidates(form) -> list[OnlineStore]:
    if parse_id(form.online_store_id.data):
        store = db.session.get(OnlineStore, parse_id(form.online_store_id.data))
        return [store] if store else []
    try:
        domain = url_domain(normalise_url(form.listing_url.data))
    except InvalidValue:
        return []
    parts = domain.split(".")
    domains = {".".join(parts[i:]) for i in range(len(parts) - 1)} | {domain}
    return db.session.scalars(sa.select(OnlineStore).where(
        sa.or_(OnlineStore.domain.in_(domains), OnlineStore.domain.in_({f"www.{d}" for d in domains})))
        .order_by(OnlineStore.name).limit(20)).all()


@bp.route("/purchases/new-online", methods=["GET", "POST"])
@roles_required(STAFF)
def new_online():
    form = OrderCreateForm()
    _operation_choices(form)
    form.operation_id.validate_choice = False
    form.volunteer_id.validate_choice = False
    form.online_store_id.validate_choice = False
    store = db.session.get(OnlineStore, request.args.get("store", type=int)
                           or request.args.get("online_store_id", type=int) or 0)
    if request.method == "GET":
        op = _default_operation()
        form.operation_id.data = str(op.id) if op else ""
        form.purchase_date.data = today_london()
        form.officer_inside.data = current_user.name
        if store is not None:
            form.online_store_id.data = str(store.id)
            form.listing_url.data = request.args.get("listing_url") or store.base_url
    candidates = _store_candidates(form) if form.is_submitted() else ([store] if store else [])
    form.online_store_id.choices = [("", "Choose…")] + [
        (str(s.id), f"{s.display_name} ({s.business.display_name})") for s in candidates]
    _volunteer_choices(form, form.operation_id.data, form.purchase_date.data)
    form.online_store_id.validators = []
    if form.validate_on_submit():
        if not (form.online_store_id.data or "").isdigit():
            if len(candidates) == 1:
                form.online_store_id.data = str(candidates[0].id)
            else:
                form.online_store_id.errors = list(form.online_store_id.errors) + [
                    "Several stores are on this site: choose the seller." if candidates else
                    "No online store in the register matches the listing address: add the store to the business "
                    "first."]
        if (form.online_store_id.data or "").isdigit():
            data = _form_values(form, P.ORDER_FIELDS)
            try:
                tp_id, created = create_once(form.submission_token.data, "TestPurchase",
                                             lambda: P.create_online(data, current_user), current_user.id)
            except InvalidValue as exc:
                field_error(form, exc)
            else:
                flash("Order saved. Record the dispatch when the parcel is sent." if created
                      else "This order was already saved; here is the record.", "success")
                return redirect(url_for(".view", purchase_id=tp_id))
    status = 422 if form.is_submitted() else 200
    return render_template("purchases/online_form.html", form=form, purchase=None, amend=False), status


ONLINE_FIELDS = P.ORDER_FIELDS + P.DISPATCH_FIELDS + P.DELIVERY_FIELDS


def _edit_online(tp: TestPurchase, form, amend: bool):
    _operation_choices(form)
    for name in ("operation_id", "volunteer_id", "online_store_id"):
        form[name].validate_choice = False
    form.online_store_id.choices = [(str(tp.online_store_id), tp.online_store.display_name)]
    if request.method == "GET":
        form.version.data = tp.version
        form.operation_id.data = str(tp.operation_id or "")
        form.volunteer_id.data = str(tp.volunteer_id or "")
        form.online_store_id.data = str(tp.online_store_id)
        _fill_bools(form, tp, ONLINE_FIELDS)
        _fill_enums(form, tp, ONLINE_FIELDS)
    _courier_choices(form, tp)
    _volunteer_choices(form, form.operation_id.data, form.purchase_date.data)
    if tp.volunteer_id and str(tp.volunteer_id) not in dict(form.volunteer_id.choices):
        form.volunteer_id.choices.append((str(tp.volunteer_id), tp.volunteer.code_name))
    if form.validate_on_submit():
        data = _form_values(form, ONLINE_FIELDS)
        data["online_store_id"] = tp.online_store_id
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
    status = 422 if form.is_submitted() else 200
    return render_template("purchases/online_form.html", form=form, purchase=tp, amend=amend), status


def _courier_choices(form, tp: TestPurchase) -> None:
    """Couriers are businesses in the register (type 'Courier'): a party with its own letter and record."""
    if "courier_business_id" not in form:
        return
    form.courier_business_id.choices = [("", "Not recorded")] + [
        (str(b.id), b.display_name) for b in P.couriers()]
    if request.method == "GET":
        form.courier_business_id.data = str(tp.courier_business_id or "")


def _stage_form(tp: TestPurchase, form, fields, apply, template):
    _courier_choices(form, tp)
    if request.method == "GET":
        form.version.data = tp.version
        for name in fields:
            if name in form and name not in P.BOOL_FIELDS and name != "courier_business_id" \
                    and getattr(tp, name) is not None:
                value = getattr(tp, name)
                form[name].data = value.value if hasattr(value, "value") else value
        _fill_bools(form, tp, fields)
    if form.validate_on_submit():
        done, error = _save(lambda: apply(_form_values(form, fields)),
                            lambda _: redirect(url_for(".view", purchase_id=tp.id)))
        if done:
            flash("Saved.", "success")
            return done
        if isinstance(error, P.LetterAlreadySent):
            return _letter_sent_redirect(tp)
        if isinstance(error, InvalidValue):
            field_error(form, error)
    status = 422 if form.is_submitted() else 200
    return render_template(template, form=form, purchase=tp), status


def _letter_sent_redirect(tp: TestPurchase):
    flash("The letter for this test purchase has been sent: corrections are made as an amendment, which keeps "
          "the original in the history.", "warning")
    return redirect(url_for(".amend", purchase_id=tp.id))


def _online_stage(purchase_id: int):
    """The online purchase whose next stage is being recorded, and the redirect to send instead once its letter
    has gone (corrections are then amendments)."""
    tp = get_for_change(TestPurchase, purchase_id)
    if tp.channel != Channel.ONLINE:
        abort(404)
    return tp, (_letter_sent_redirect(tp) if tp.sent_letter else None)


@bp.route("/purchases/<int:purchase_id>/dispatch", methods=["GET", "POST"])
@roles_required(STAFF)
def dispatch(purchase_id: int):
    tp, refusal = _online_stage(purchase_id)
    if refusal:
        return refusal
    form = DispatchForm()
    return _stage_form(tp, form, P.DISPATCH_FIELDS, lambda data: P.record_dispatch(tp, data, form.version.data),
                       "purchases/dispatch_form.html")


@bp.route("/purchases/<int:purchase_id>/delivery", methods=["GET", "POST"])
@roles_required(STAFF)
def delivery(purchase_id: int):
    tp, refusal = _online_stage(purchase_id)
    if refusal:
        return refusal
    form = DeliveryForm()
    return _stage_form(tp, form, P.DELIVERY_FIELDS, lambda data: P.record_delivery(tp, data, form.version.data),
                       "purchases/delivery_form.html")


@bp.route("/purchases/<int:purchase_id>/outcome", methods=["GET", "POST"])
@roles_required(STAFF)
def outcome(purchase_id: int):
    tp, refusal = _online_stage(purchase_id)
    if refusal:
        return refusal
    form = OutcomeForm()
    if request.method == "GET":
        form.version.data = tp.version
    if form.validate_on_submit():
        done, error = _save(lambda: P.conclude_online(tp, form.version.data, current_user,
                                                      inconclusive=form.inconclusive.data),
                            lambda _: redirect(url_for(".view", purchase_id=tp.id)))
        if done:
            flash(f"Concluded: {tp.outcome_label}. The letters are ready to print.", "success")
            return done
        if isinstance(error, InvalidValue):
            field_error(form, error)
    status = 422 if form.is_submitted() else 200
    return render_template("purchases/outcome_form.html", form=form, purchase=tp, judgment=P.judge_online(tp),
                           condition_labels=CONDITION_LABELS, result_labels=RESULT_LABELS), status


# --- one record -----------------------------------------------------------------------------------------------

@bp.route("/purchases/<int:purchase_id>")
@roles_required(STAFF)
def view(purchase_id: int):
    tp = get_or_404(TestPurchase, purchase_id)
    entries = history("TestPurchase", tp.id)
    return render_template("purchases/view.html", purchase=tp, history=entries,
                           judgment=P.judge_online(tp) if tp.channel == Channel.ONLINE else None,
                           condition_labels=CONDITION_LABELS, result_labels=RESULT_LABELS,
                           item_verdict=P.verdict_label(tp), enforcement=P.enforcement_summary(tp),
                           primary_authority=P.primary_authority_name(tp.business),
                           period=P.letter_period(tp))


@bp.route("/purchases/<int:purchase_id>/edit", methods=["GET", "POST"])
@roles_required(STAFF)
def edit(purchase_id: int):
    tp = get_for_change(TestPurchase, purchase_id)
    if tp.sent_letter:
        return _letter_sent_redirect(tp)
    if tp.channel == Channel.IN_STORE:
        return _edit_in_store(tp, InStoreEditForm(obj=tp), amend=False)
    return _edit_online(tp, OnlineEditForm(obj=tp), amend=False)


@bp.route("/purchases/<int:purchase_id>/amend", methods=["GET", "POST"])
@roles_required(STAFF)
def amend(purchase_id: int):
    tp = get_for_change(TestPurchase, purchase_id)
    if not tp.sent_letter:
        return redirect(url_for(".edit", purchase_id=tp.id))
    if tp.channel == Channel.IN_STORE:
        return _edit_in_store(tp, InStoreAmendForm(obj=tp), amend=True)
    return _edit_online(tp, OnlineAmendForm(obj=tp), amend=True)


# --- follow-up actions ----------------------------------------------------------------------------------------

ACTION_FORM_FIELDS = P.ACTION_FIELDS


@bp.route("/purchases/<int:purchase_id>/actions/new", methods=["GET", "POST"])
@roles_required(STAFF)
def action_new(purchase_id: int):
    tp = get_for_change(TestPurchase, purchase_id)
    form = ActionCreateForm()
    if request.method == "GET":
        form.decided_on.data = today_london()
        form.decided_by.data = current_user.name
        wanted = request.args.get("type")
        if wanted in {t.value for t in ActionType}:
            form.action_type.data = wanted
        form.due_on.data = P.default_retest_due(tp.purchase_date)
    if form.validate_on_submit():
        data = {name: form[name].data for name in ACTION_FORM_FIELDS}
        try:
            _id, created = create_once(form.submission_token.data, "FollowUpAction",
                                       lambda: P.add_action(tp, data, current_user), current_user.id)
        except InvalidValue as exc:
            field_error(form, exc)
        else:
            flash("Action recorded." if created else "This action was already saved.", "success")
            return redirect(url_for(".view", purchase_id=tp.id))
    status = 422 if form.is_submitted() else 200
    return render_template("purchases/action_form.html", form=form, purchase=tp, action=None,
                           primary_authority=P.primary_authority_name(tp.business)), status


@bp.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
@roles_required(STAFF)
def action_edit(action_id: int):
    action = get_for_change(FollowUpAction, action_id)
    form = ActionEditForm(obj=action)
    if request.method == "GET":
        form.version.data = action.version
        form.action_type.data = action.action_type.value
        form.status.data = action.status.value
        form.court_outcome.data = action.court_outcome or ""
    if form.validate_on_submit():
        data = {name: form[name].data for name in ACTION_FORM_FIELDS}
        done, error = _save(lambda: P.update_action(action, data, form.version.data),
                            lambda _: redirect(url_for(".view", purchase_id=action.test_purchase_id)))
        if done:
            flash("Saved.", "success")
            return done
        if isinstance(error, InvalidValue):
            field_error(form, error)
    status = 422 if form.is_submitted() else 200
    return render_template("purchases/action_form.html", form=form, purchase=action.test_purchase,
                           action=action, primary_authority=P.primary_authority_name(action.test_purchase.business)), \
        status


@bp.route("/retests")
@roles_required(STAFF)
def retests():
    data = P.retests_due(within_days=min(max(request.args.get("days", 90, type=int), 0), 3650), limit=200)
    return render_template("purchases/retests.html", data=data)


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


# --- home panel, timeline, record sections ---------------------------------------------------------------------

@panel
def retests_panel(user) -> dict | None:
    if not user.is_staff:
        return None
    data = P.retests_due(limit=8)
    unsent = db.session.scalar(sa.select(sa.func.count()).select_from(NotificationLetter)
                               .where(NotificationLetter.sent_on.is_(None)))
    in_progress = db.session.scalar(sa.select(sa.func.count()).select_from(TestPurchase)
                                    .where(TestPurchase.stage.in_(OPEN_STAGES)))
    return {"title": "Retests due", "template": "purchases/_panel_retests.html", "data": data, "unsent": unsent,
            "in_progress": in_progress}


TONES = {True: "danger", False: "success"}


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


TIMELINE_LIMIT = 200  # the business page shows the newest 200 events in all


@timeline_provider
def purchase_events(business, viewer) -> list[TimelineEvent]:
    """Test purchases, letters and follow-up actions. Retailers see only attempts they have been told about (the
    letter was sent), dated by month, and never a retest (announcing it would defeat it)."""
    staff = viewer is None or getattr(viewer, "is_staff", True)
    T = TestPurchase
    letters = db.session.execute(
        sa.select(NotificationLetter.id, NotificationLetter.test_purchase_id, NotificationLetter.sent_on,
                  NotificationLetter.channel)
        .where(NotificationLetter.business_id == business.id, NotificationLetter.sent_on.is_not(None))
        .order_by(NotificationLetter.sent_on.desc()).limit(TIMELINE_LIMIT)).all()
    notified = {row.test_purchase_id for row in letters}
    query = (sa.select(T.id, T.kind, T.channel, T.outcome, T.stage, T.failed, T.purchase_date, Premises.name,
                       OnlineStore.name.label("store_name"), OnlineStore.domain)
             .outerjoin(Premises, T.premises_id == Premises.id)
             .outerjoin(OnlineStore, T.online_store_id == OnlineStore.id)
             .where(T.business_id == business.id)
             .order_by(T.purchase_date.desc(), T.id.desc()).limit(TIMELINE_LIMIT))
    if not staff:
        query = query.where(T.id.in_(notified or {0}))
    events = []
    for row in db.session.execute(query):
        title = f"{'Challenge 25 test' if row.kind.value == 'challenge25' else 'Test purchase'} " \
                f"({CHANNEL_LABELS[row.channel].lower()}): " \
                f"{OUTCOME_LABELS[row.outcome] if row.outcome else STAGE_LABELS[row.stage]}"
        tone = "secondary" if row.outcome is None or row.outcome.value == "INCONCLUSIVE" else TONES[row.failed]
        # Retailers are told the month, never the day (it would point to the volunteer); operations are not theirs
        # to see, so the month stands for the operation's dates their letter gives.
        when_label = "" if staff else _sentence_case(period_told(row.purchase_date))
        when = row.purchase_date if staff else row.purchase_date.replace(day=1)
        events.append(TimelineEvent(when=when, kind="test-purchase", title=title,
                                    detail=row.name or row.store_name or row.domain or "",
                                    url=url_for("purchases.view", purchase_id=row.id) if staff else None, tone=tone,
                                    when_label=when_label))
    for row in letters:
        events.append(TimelineEvent(
            when=row.sent_on, kind="letter", title="Notification letter sent",
            detail=f"By {row.channel.value.replace('-', ' ')}" if row.channel else "",
            url=url_for("purchases.letter_view", letter_id=row.id) if staff
            else url_for("purchases.my_letter", letter_id=row.id), tone="info"))
    A = FollowUpAction
    query = (sa.select(A.test_purchase_id, A.action_type, A.status, A.decided_on, A.due_on, A.court_result, A.fine)
             .where(A.business_id == business.id, A.action_type != ActionType.NONE)
             .order_by(A.decided_on.desc()).limit(TIMELINE_LIMIT))
    if not staff:
        query = query.where(A.action_type.in_(RETAILER_VISIBLE_ACTIONS), A.status != "cancelled",
                            A.test_purchase_id.in_(notified or {0}))
    for row in db.session.execute(query):
        detail = ACTION_STATUS_LABELS[row.status]
        if row.action_type == ActionType.RETEST and row.due_on:
            detail = f"{detail}; due by {row.due_on:%d %b %Y}"
        if row.action_type == ActionType.PROSECUTION and row.court_result:
            detail = row.court_result + (f"; fine £{row.fine:,.2f}" if row.fine is not None else "")
        events.append(TimelineEvent(
            when=row.decided_on, kind="action", title=ACTION_LABELS[row.action_type], detail=detail,
            url=url_for("purchases.view", purchase_id=row.test_purchase_id) if staff else None,
            tone="warning" if row.action_type in (ActionType.SIMPLE_CAUTION, ActionType.PROSECUTION)
            else "secondary"))
    return events


def _section(title, purchases, new_url, new_label, viewer):
    if viewer is not None and not viewer.is_staff:
        return None
    return {"title": title, "template": "purchases/_section.html", "purchases": purchases, "new_url": new_url,
            "new_label": new_label}


def business_section(business, viewer):
    purchases = P.business_purchases(business.id, limit=30)
    return _section("Test purchases", purchases, None, None, viewer)


def premises_section(premises, viewer):
    purchases = db.session.scalars(P.with_names(
        sa.select(TestPurchase).where(TestPurchase.premises_id == premises.id)
        .order_by(TestPurchase.purchase_date.desc()).limit(30))).all()
    return _section("Test purchases at this shop", purchases, url_for("purchases.new_in_store", premises=premises.id),
                    "Log a test purchase here", viewer)


def store_section(store, viewer):
    purchases = db.session.scalars(P.with_names(
        sa.select(TestPurchase).where(TestPurchase.online_store_id == store.id)
        .order_by(TestPurchase.purchase_date.desc()).limit(30))).all()
    return _section("Online test purchases", purchases, url_for("purchases.new_online", store=store.id),
                    "Start an online test purchase", viewer)


BUSINESS_SECTIONS.append(business_section)
PREMISES_SECTIONS.append(premises_section)
STORE_SECTIONS.append(store_section)
