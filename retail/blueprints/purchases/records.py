"""One test purchase: the record view, and editing it before its letter is sent or amending it after."""
from flask import redirect, render_template, url_for

from ... import purchases as P
from ...access import STAFF, roles_required
from ...audit import history
from ...forms.purchases import InStoreAmendForm, InStoreEditForm, OnlineAmendForm, OnlineEditForm
from ...models.purchases import Channel, TestPurchase
from ...rules.online import CONDITION_LABELS, RESULT_LABELS
from .._helpers import get_for_change, get_or_404
from . import bp
from .helpers import _letter_sent_redirect
from .in_store import _edit_in_store
from .online import _edit_online


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
