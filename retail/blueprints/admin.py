"""Administration inside the admin's own organisation: its users (create, disable, re-role; never deleted) and its
settings. An admin of one authority neither sees nor changes another's."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import throttle
from ..access import Role, roles_required
from ..accounts import create_user, update_user
from ..audit import history
from ..extensions import db
from ..forms.accounts import SettingsForm, UserForm, role_choices
from ..letters import KINDS, wording
from ..models.accounts import User
from ..models.settings import Setting
from ..passwords import WeakPassword
from ..settings import all_settings, save_settings
from ..validation import InvalidValue

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _own_user(user_id: int) -> User:
    """A user of the admin's own organisation; any other answers 404 (not 403: we do not say it exists)."""
    user = db.session.scalar(sa.select(User).where(User.id == user_id,
                                                   User.authority_id == current_user.authority_id))
    return user or abort(404)


def _user_form(**kwargs) -> UserForm:
    form = UserForm(**kwargs)
    form.role.choices = role_choices(current_user.authority.kind)
    return form


@bp.route("/users")
@roles_required(Role.ADMIN)
def users():
    rows = db.session.scalars(sa.select(User).where(User.authority_id == current_user.authority_id)
                              .order_by(User.role, User.email)).all()
    return render_template("admin/users.html", users=rows, organisation=current_user.authority,
                           slowed=throttle.slowed_accounts(u.email for u in rows))


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_user():
    form = _user_form()
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors.append("Set an initial password (at least 10 characters).")
        else:
            try:
                user = create_user(form.email.data, form.role.data, form.password.data, form.name.data,
                                   form.business_id.data, authority_id=current_user.authority_id)
                user.active = form.active.data
                db.session.commit()
            except WeakPassword as exc:
                db.session.rollback()
                form.password.errors.append(str(exc))
            except InvalidValue as exc:
                db.session.rollback()
                form.email.errors.append(str(exc))
            else:
                flash(f"User {user.email} created.", "success")
                return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None, organisation=current_user.authority)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_user(user_id: int):
    user = _own_user(user_id)
    form = _user_form(obj=user)
    if form.validate_on_submit():
        try:
            update_user(user, email=form.email.data, name=form.name.data, role=form.role.data,
                        business_id=form.business_id.data, active=form.active.data, password=form.password.data,
                        acting_user=current_user)
            db.session.commit()
        except WeakPassword as exc:
            db.session.rollback()
            form.password.errors.append(str(exc))
        except InvalidValue as exc:
            db.session.rollback()
            form.role.errors.append(str(exc))
        else:
            flash(f"User {user.email} saved.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user, organisation=user.authority,
                           history=history("User", user.id))


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def settings():
    authority_id = current_user.authority_id
    form = SettingsForm(data=all_settings(authority_id))
    if form.validate_on_submit():
        save_settings(form.values(), authority_id=authority_id)
        db.session.commit()
        flash("Settings saved.", "success")
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form, organisation=current_user.authority)


@bp.route("/retention", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def retention_schedule():
    """The authority's retention schedule and what the last run removed (issue 9 part 6); the monitor evidence's
    London-wide period, which only London Trading Standards' admins change."""
    from .. import retention

    authority_id = current_user.authority_id
    values = retention.schedule_values(current_user.authority)
    problems = {}
    status = 200
    if request.method == "POST":
        submitted, problems = retention.save_schedule(current_user.authority, request.form)
        if not problems:
            db.session.commit()
            flash("Retention schedule saved.", "success")
            return redirect(url_for("admin.retention_schedule"))
        values, status = {**values, **submitted}, 422
    run = retention.last_run(dry_run=None)
    report = run.report.get(str(authority_id)) if run else None
    evidence_report = run.report.get(retention.EVIDENCE_REPORT_KEY) if run else None
    return render_template("admin/retention.html", periods=retention.PERIODS,
                           deployment_periods=retention.DEPLOYMENT_PERIODS,
                           may_set_deployment=retention.may_set_deployment_periods(current_user.authority),
                           values=values, problems=problems, run=run, report=report,
                           evidence_report=evidence_report, organisation=current_user.authority), status


# --- letter wording (issue 12 part 2) --------------------------------------------------------------------------------

def _wording(key: str):
    found = wording.WORDINGS.get(key)
    if found is None:
        abort(404)
    return found


@bp.route("/letters")
@roles_required(Role.ADMIN)
def letter_wording():
    """Every passage of every letter kind the authority may reword, and whether it uses its own wording."""
    settings = all_settings(current_user.authority_id)
    groups = [(KINDS[kind].label, [(w, wording.is_standard(w, settings)) for w in passages])
              for kind, passages in wording.by_kind().items()]
    return render_template("admin/letter_wording.html", groups=groups, organisation=current_user.authority)


@bp.route("/letters/<key>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def letter_passage(key: str):
    """Edit one passage: preview it on sample data, save it (refused while legal wording is missing), or restore the
    standard wording. Saved wording is used for letters not yet sent; sent letters keep their text."""
    passage = _wording(key)
    authority_id = current_user.authority_id
    settings = all_settings(authority_id)
    text = wording.text_for(passage, settings)
    problems, preview, status = [], None, 200
    if request.method == "POST":
        action = request.form.get("action", "preview")
        if action == "restore":
            if wording.restore_standard(passage, authority_id):
                db.session.commit()
                flash(f"The standard wording of \u201c{passage.title}\u201d applies again.", "success")
            return redirect(url_for("admin.letter_passage", key=key))
        text = request.form.get("text", "").replace("\r\n", "\n").strip()
        problems = wording.check(passage, text)
        if problems:
            status = 422
        elif action == "save":
            wording.save(passage, text, authority_id)
            db.session.commit()
            flash(f"Wording of \u201c{passage.title}\u201d saved. Letters not yet sent use it; sent letters keep "
                  "their text.", "success")
            return redirect(url_for("admin.letter_passage", key=key))
        else:
            preview = wording.render_text(text, passage.sample_values())
    else:
        preview = wording.render_text(text, passage.sample_values())
    row = db.session.scalar(sa.select(Setting).where(Setting.key == passage.setting_key,
                                                     Setting.authority_id == authority_id))
    return render_template("admin/letter_passage.html", passage=passage, kind=KINDS[passage.kind], text=text,
                           problems=problems, preview=preview, settings=settings,
                           standard=wording.is_standard(passage, settings), organisation=current_user.authority,
                           history=history("Setting", row.id) if row is not None else []), status
