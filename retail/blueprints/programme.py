"""/programme: the shops of a borough ranked by who to visit or test next, with the reasons and the rules."""
from flask import Blueprint, render_template, request
from flask_login import current_user

from .. import programme as prog
from ..access import STAFF, roles_required
from ..boroughs import BOROUGH_CHOICES
from ..extensions import db
from ..models.authority import Authority
from ..nav import add_nav

bp = Blueprint("programme", __name__)
add_nav("Who to visit next", "programme.index", STAFF, 13)


@bp.route("/programme")
@roles_required(STAFF)
def index():
    own = db.session.get(Authority, current_user.authority_id) if current_user.authority_id else None
    borough = request.args.get("borough") or (own.borough if own is not None and own.borough else "")
    rows = prog.ranked_shops(borough) if borough else []
    return render_template("visits/programme.html", rows=rows, borough=borough, boroughs=BOROUGH_CHOICES,
                           rules=prog.RULES)


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
