"""Online test purchases: the order, then dispatch, delivery and the outcome, each as its own stage."""
import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ... import purchases as P
from ...access import STAFF, roles_required
from ...extensions import db
from ...forms.purchases import DeliveryForm, DispatchForm, OrderCreateForm, OutcomeForm
from ...idempotency import create_once
from ...models.purchases import Channel, TestPurchase
from ...models.register import OnlineStore
from ...rules.online import CONDITION_LABELS, RESULT_LABELS
from ...timeutil import today_london
from ...validation import InvalidValue, normalise_url, parse_id, url_domain
from .._helpers import field_error, get_for_change
from . import bp
from .helpers import (_default_operation, _fill_bools, _fill_enums, _form_values, _letter_sent_redirect,
                      _operation_choices, _save, _save_edit, _volunteer_choices)


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
        saved = _save_edit(tp, form, data, amend)
        if saved:
            return saved
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
