"""The home page: what each role needs first thing."""
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from .. import home
from ..access import Role, login_required

bp = Blueprint("main", __name__)


@bp.route("/", endpoint="home")
@login_required
def home_page():
    if current_user.role == Role.RETAILER:
        return redirect(url_for("portal.index"))
    return render_template("main/home.html", panels=home.staff_panels(current_user))


