"""The home page: what each role needs first thing; the service worker."""
from flask import Blueprint, current_app, redirect, render_template, send_from_directory, url_for
from flask_login import current_user

from .. import home
from ..access import Role, login_required, public

bp = Blueprint("main", __name__)


@bp.route("/", endpoint="home")
@login_required
def home_page():
    if current_user.role == Role.RETAILER:
        return redirect(url_for("portal.index"))
    return render_template("main/home.html", panels=home.staff_panels(current_user))




@bp.route("/sw.js")
@public
def service_worker():
    """The service worker that keeps the logging forms usable with no signal (static/sw.js; issue 11 part 3). Served
    from the root so it may look after the whole site; never cached by the browser, so an update reaches phones."""
    response = send_from_directory(current_app.static_folder, "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response
