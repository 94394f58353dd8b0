"""Signing in and out, and changing one's own password."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from .. import throttle
from ..access import login_required, public
from ..accounts import LoginRefused, LoginThrottled, authenticate, change_own_password, sign_out
from ..extensions import db
from ..forms.accounts import ChangePasswordForm, LoginForm
from ..passwords import WeakPassword
from ..validation import InvalidValue

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: an open redirect after login is a phishing aid.
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        device = request.cookies.get(throttle.DEVICE_COOKIE)
        try:
            user = authenticate(form.email.data, form.password.data, address=request.remote_addr or "unknown",
                                known_user_ids=throttle.known_user_ids(device))
        except LoginRefused as exc:
            form.password.errors.append(str(exc))
            headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, LoginThrottled) else {}
            return render_template("auth/login.html", form=form), exc.status, headers
        login_user(user)
        response = redirect(_safe_next(request.args.get("next")) or url_for("main.home"))
        response.set_cookie(throttle.DEVICE_COOKIE, throttle.remember_device(device, user.id),
                            max_age=throttle.DEVICE_COOKIE_DAYS * 86400, httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
        return response
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Ending the user's sessions on the server: a copy of this cookie is as dead as the cookie itself.
    sign_out(current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_own_password(user, form.current_password.data, form.new_password.data)
        except WeakPassword as exc:
            db.session.rollback()
            form.new_password.errors.append(str(exc))
        except InvalidValue as exc:
            db.session.rollback()
            form.current_password.errors.append(str(exc))
        else:
            db.session.commit()
            login_user(user)  # this session goes on with the new token; every other one has ended
            flash("Your password has been changed. You have been signed out everywhere else.", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)
