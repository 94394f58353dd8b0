"""Logging and editing in-store test purchases (the shop picker, the attempt form, every problem at once)."""
from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ... import purchases as P
from ...access import STAFF, roles_required
from ...extensions import db
from ...forms.purchases import InStoreCreateForm
from ...idempotency import create_once
from ...models.purchases import KIND_LABELS, TestPurchase
from ...models.register import Premises
from ...timeutil import LONDON, today_london
from ...validation import InvalidValue, parse_id
from .._helpers import field_error
from . import bp
from .helpers import (_default_operation, _fill_bools, _fill_enums, _form_values, _officer_names, _operation_choices,
                      _save_edit, _volunteer_choices)


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
            saved = _save_edit(tp, form, _in_store_data(form, premises_id), amend)
            if saved:
                return saved
    status = 422 if form.is_submitted() else 200
    return render_template("purchases/in_store_form.html", form=form, candidates=candidates, purchase=tp,
                           amend=amend), status
