"""/programme: the shops of a borough ranked by who to visit or test next, with the reasons and the rules."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import programme as prog
from ..access import STAFF, Role, roles_required
from ..boroughs import BOROUGH_CHOICES
from ..extensions import db
from ..models.authority import Authority
from ..models.purchases import Operation
from ..nav import add_nav

bp = Blueprint("programme", __name__)
add_nav("Who to visit next", "programme.index", STAFF, 13)
# Who builds an operation's target list: the people who run operations (administrators manage users and settings).
TARGETERS = frozenset({Role.SUPERVISOR, Role.OFFICER, Role.POLICE})


@bp.route("/programme")
@roles_required(STAFF)
def index():
    own = db.session.get(Authority, current_user.authority_id) if current_user.authority_id else None
    borough = request.args.get("borough") or (own.borough if own is not None and own.borough else "")
    rows = prog.ranked_shops(borough) if borough else []
    return render_template("visits/programme.html", rows=rows, borough=borough, boroughs=BOROUGH_CHOICES,
                           rules=prog.RULES, operations=prog.target_operations(),
                           can_target=current_user.role in TARGETERS)


@bp.route("/programme/week")
@roles_required(STAFF)
def week():
    """The shops ticked on the programme as a printable week of visits (a route per day)."""
    from datetime import timedelta

    from ..timeutil import today_london

    today = today_london()
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    ids = [i for i in request.args.getlist("premises", type=int)][:40]
    return render_template("visits/week.html", days=prog.plan_week(ids, monday), borough=request.args.get("borough"))


def _ticked() -> list[int]:
    return [i for i in request.values.getlist("premises", type=int) if i > 0][:prog.MAX_TARGETS]


@bp.route("/programme/targets")
@roles_required(TARGETERS)
def targets_confirm():
    """The ticked shops, ranked with their reasons, before they go on the chosen operation's list."""
    operation = db.session.get(Operation, request.args.get("operation", type=int) or 0)
    if operation is None:
        flash("Choose the operation whose target list the shops go on.", "danger")
        return redirect(url_for(".index", borough=request.args.get("borough", "")))
    rows = prog.rank_premises(_ticked())
    return render_template("visits/targets_confirm.html", operation=operation, rows=rows,
                           on_list={t.premises_id for t in operation.targets}, borough=request.args.get("borough", ""))


@bp.route("/programme/targets", methods=["POST"])
@roles_required(TARGETERS)
def targets_add():
    operation = db.session.get(Operation, request.form.get("operation", type=int) or 0) or abort(404)
    try:
        added = prog.add_targets(operation, _ticked(), current_user)
        db.session.commit()
    except prog.TargetError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for(".index", borough=request.form.get("borough", "")))
    flash(f"{len(added)} shop{'s' if len(added) != 1 else ''} added to the target list.", "success")
    return redirect(url_for("operations.view", operation_id=operation.id, _anchor="targets"))
