"""Follow-up actions on a test purchase (warnings, retests, cautions, prosecutions) and the retests due."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ... import purchases as P
from ...access import STAFF, roles_required
from ...forms.purchases import ActionCreateForm, ActionEditForm
from ...idempotency import create_once
from ...models.purchases import ActionType, FollowUpAction, TestPurchase
from ...timeutil import today_london
from ...validation import InvalidValue
from .._helpers import field_error, get_for_change
from . import bp
from .helpers import _save


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
