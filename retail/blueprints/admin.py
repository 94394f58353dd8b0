"""Administration: users (create, disable, re-role; never deleted) and authority settings."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..access import Role, roles_required
from ..accounts import create_user, update_user
from ..audit import history
from ..extensions import db
from ..forms.accounts import SettingsForm, UserForm
from ..models.accounts import User
from ..settings import all_settings, save_settings
from ..validation import InvalidValue

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@roles_required(Role.ADMIN)
def users():
    rows = db.session.scalars(sa.select(User).order_by(User.role, User.email)).all()
    return render_template("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_user():
    form = UserForm()
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors.append("Set an initial password (at least 10 characters).")
        else:
            try:
                user = create_user(form.email.data, form.role.data, form.password.data, form.name.data,
                                   form.business_id.data)
                user.active = form.active.data
                db.session.commit()
            except InvalidValue as exc:
                db.session.rollback()
                form.email.errors.append(str(exc))
            else:
                flash(f"User {user.email} created.", "success")
                return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserForm(obj=user)
    if form.validate_on_submit():
        try:
            update_user(user, email=form.email.data, name=form.name.data, role=form.role.data,
                        business_id=form.business_id.data, active=form.active.data, password=form.password.data,
                        acting_user=current_user)
            db.session.commit()
        except InvalidValue as exc:
            db.session.rollback()
            form.role.errors.append(str(exc))
        else:
            flash(f"User {user.email} saved.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user, history=history("User", user.id))


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def settings():
    form = SettingsForm(data=all_settings())
    if form.validate_on_submit():
        save_settings({name: form[name].data for name in
                       ("authority_name", "letterhead_address", "letterhead_phone", "letterhead_email", "contact_url")})
        db.session.commit()
        flash("Settings saved.", "success")
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form)
