"""The test-purchase list, its CSV export, and the volunteer list the attempt forms fetch."""
from datetime import date

from flask import Response, abort, current_app, jsonify, render_template, request, stream_with_context

from ... import purchases as P
from ...access import STAFF, roles_required
from ...boroughs import BOROUGH_CHOICES
from ...models.purchases import CHANNEL_LABELS, KIND_LABELS, OUTCOME_LABELS, STAGE_LABELS
from ...paging import keyset_page
from ...validation import parse_id
from . import bp


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
