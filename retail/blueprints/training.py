"""Training pages for staff: courses, sessions and attendance, invitations and their letters, reminders."""
import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.orm import selectinload

from .. import training as tr
from ..access import STAFF, roles_required
from ..audit import history
from ..extensions import db
from ..paging import keyset_page
from ..forms.training import (
    AttendeeForm,
    CourseCreateForm,
    CourseEditForm,
    InvitationCreateForm,
    InvitationEditForm,
    LetterSentForm,
    MarkLettersSentForm,
    OfficerResponseForm,
    ResultForm,
    SessionCreateForm,
    SessionEditForm,
)
from ..idempotency import create_once
from ..models.register import Business
from ..models.training import (
    RESPONSE_LABELS,
    InvitationResponse,
    TrainingAttendance,
    TrainingCourse,
    TrainingInvitation,
    TrainingSession,
)
from ..nav import add_nav
from ._helpers import get_for_change, get_or_404, save_edit
from ..register import StaleRecord
from ..timeutil import london, today_london
from ..validation import InvalidValue

bp = Blueprint("training", __name__)
add_nav("Training", "training.index", STAFF, 40)


def _field_error(form, name, message):
    target = form._fields.get(name)
    if target is not None:
        target.errors = list(target.errors) + [message]
    else:
        flash(message, "danger")


def _course_data(form) -> dict:
    return {name: form[name].data for name in tr.COURSE_FIELDS if name in form}


def _session_data(form) -> dict:
    data = {"course_id": form.course_id.data, "starts_at": tr.london_datetime(form.on.data, form.at.data),
            "venue": form.venue.data, "trainer": form.trainer.data, "capacity": form.capacity.data,
            "notes": form.notes.data or ""}
    if "cancelled" in form:
        data["cancelled"] = form.cancelled.data
    return data


def _session_label(session: TrainingSession, left: int | None = None) -> str:
    label = f"{london(session.starts_at).strftime('%a %d %b %Y %H:%M')}, {session.venue}"
    return label + (f" ({left} places left)" if left is not None else "")


def _session_choices(include_id: int | None = None) -> list:
    choices = [(None, "No session yet")]
    upcoming = tr.upcoming_sessions()
    choices += [(s.id, _session_label(s, left)) for s, left in upcoming]
    if include_id and include_id not in {s.id for s, _ in upcoming}:
        session = db.session.get(TrainingSession, include_id)
        if session:
            choices.append((session.id, _session_label(session)))
    return choices


# --- overview and reminders ------------------------------------------------------------------------------------

@bp.route("/training")
@roles_required(STAFF)
def index():
    if tr.expire_overdue_invitations(today_london()):
        db.session.commit()
    upcoming = tr.upcoming_sessions()
    past = db.session.scalars(
        sa.select(TrainingSession).options(selectinload(TrainingSession.course))
        .where(TrainingSession.starts_at <= tr.utcnow()).order_by(TrainingSession.starts_at.desc()).limit(10)).all()
    courses = db.session.scalars(sa.select(TrainingCourse).order_by(TrainingCourse.active.desc(),
                                                                    TrainingCourse.title)).all()
    counts = {"expiring": tr.count(tr.expiring_certificates_query()), "no_response": tr.count(tr.no_response_query()),
              "letters": tr.count(tr.letters_to_print_query()),
              "pending": tr.count(sa.select(TrainingInvitation.id)
                                  .where(TrainingInvitation.response == InvitationResponse.PENDING))}
    return render_template("training/index.html", upcoming=upcoming, past=past, courses=courses, counts=counts)


@bp.route("/training/reminders")
@roles_required(STAFF)
def reminders():
    if tr.expire_overdue_invitations(today_london()):
        db.session.commit()
    expiring = db.session.scalars(tr.expiring_certificates_query().options(
        selectinload(TrainingAttendance.business), selectinload(TrainingAttendance.premises)).limit(500)).all()
    no_response = db.session.scalars(tr.no_response_query().options(
        selectinload(TrainingInvitation.business), selectinload(TrainingInvitation.premises)).limit(500)).all()
    return render_template("training/reminders.html", expiring=expiring, no_response=no_response,
                           days=tr.REMINDER_DAYS, today=today_london(),
                           follow_up_days=tr.NO_RESPONSE_FOLLOW_UP_DAYS)


# --- courses ------------------------------------------------------------------------------------------------------

@bp.route("/training/courses/new", methods=["GET", "POST"])
@roles_required(STAFF)
def course_new():
    form = CourseCreateForm()
    if form.validate_on_submit():
        try:
            _, created = create_once(form.submission_token.data, "TrainingCourse",
                                     lambda: tr.create_course(_course_data(form)), current_user.id)
        except InvalidValue as exc:
            _field_error(form, "pass_mark", str(exc))
        else:
            flash("Course added." if created else "This form was already saved.", "success")
            return redirect(url_for("training.index"))
    return render_template("training/course_form.html", form=form, course=None)


@bp.route("/training/courses/<int:course_id>/edit", methods=["GET", "POST"])
@roles_required(STAFF)
def course_edit(course_id: int):
    course = get_or_404(TrainingCourse, course_id)
    form = CourseEditForm(obj=course)
    if request.method == "GET":
        form.version.data = course.version
    if form.validate_on_submit():
        done = save_edit(form, lambda: tr.update_course(course, _course_data(form), form.version.data),
                          url_for("training.index"))
        if done:
            return done
    return render_template("training/course_form.html", form=form, course=course,
                           history=history("TrainingCourse", course.id))


# --- sessions and attendance ----------------------------------------------------------------------------------

def _course_choices():
    return [(c.id, c.title) for c in db.session.scalars(
        sa.select(TrainingCourse).order_by(TrainingCourse.active.desc(), TrainingCourse.title))]


@bp.route("/training/sessions/new", methods=["GET", "POST"])
@roles_required(STAFF)
def session_new():
    form = SessionCreateForm()
    form.course_id.choices = _course_choices()
    if not form.course_id.choices:
        flash("Add a course first.", "info")
        return redirect(url_for("training.course_new"))
    if form.validate_on_submit():
        try:
            session_id, created = create_once(form.submission_token.data, "TrainingSession",
                                              lambda: tr.create_session(_session_data(form)), current_user.id)
        except InvalidValue as exc:
            _field_error(form, "capacity", str(exc))
        else:
            flash("Session added." if created else "This form was already saved.", "success")
            return redirect(url_for("training.session_view", session_id=session_id))
    return render_template("training/session_form.html", form=form, session=None)


@bp.route("/training/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@roles_required(STAFF)
def session_edit(session_id: int):
    session = get_for_change(TrainingSession, session_id)
    form = SessionEditForm(obj=session)
    form.course_id.choices = _course_choices()
    if request.method == "GET":
        form.version.data = session.version
        local = london(session.starts_at)
        form.on.data, form.at.data = local.date(), local.time().replace(tzinfo=None)
    if form.validate_on_submit():
        done = save_edit(form,
                          lambda: tr.update_session(session, _session_data(form), form.version.data),
                          url_for("training.session_view", session_id=session.id))
        if done:
            return done
    return render_template("training/session_form.html", form=form, session=session)


def _attendee_form(session: TrainingSession, form=None):
    form = form or AttendeeForm()
    accepted = db.session.scalars(
        sa.select(TrainingInvitation).options(selectinload(TrainingInvitation.business),
                                              selectinload(TrainingInvitation.premises))
        .where(TrainingInvitation.session_id == session.id,
               TrainingInvitation.response == InvitationResponse.ACCEPTED)).all()
    form.invitation_id.choices = [(None, "Walk-in (choose the shop below)")] + [
        (i.id, f"{i.business.display_name}" + (f", {i.premises.name}" if i.premises else "") + f" ({i.places} places)")
        for i in accepted]
    return form, accepted


def _render_session(session, attendee_form=None, status=200):
    attendee_form, accepted = _attendee_form(session, attendee_form)
    attendances = db.session.scalars(
        sa.select(TrainingAttendance).options(selectinload(TrainingAttendance.business),
                                              selectinload(TrainingAttendance.premises))
        .where(TrainingAttendance.session_id == session.id).order_by(TrainingAttendance.person_name)).all()
    result_forms = {}
    for a in attendances:
        form = ResultForm(prefix=f"r{a.id}")
        form.version.data = a.version
        form.status.data = "no-show" if a.status.value == "no-show" else "attended"
        form.exam_score.data = a.exam_score
        result_forms[a.id] = form
    return render_template("training/session.html", session=session, attendances=attendances, accepted=accepted,
                           attendee_form=attendee_form, result_forms=result_forms,
                           taken=tr.seats_taken([session.id])[session.id], held_on=tr.session_date(session),
                           today=today_london(), history=history("TrainingSession", session.id)), status


@bp.route("/training/sessions/<int:session_id>")
@roles_required(STAFF)
def session_view(session_id: int):
    return _render_session(get_or_404(TrainingSession, session_id))


@bp.route("/training/sessions/<int:session_id>/attendees", methods=["POST"])
@roles_required(STAFF)
def attendee_add(session_id: int):
    session = get_or_404(TrainingSession, session_id)
    form, _ = _attendee_form(session)
    if form.validate_on_submit():
        data = {"person_name": form.person_name.data, "person_role": form.person_role.data,
                "invitation_id": form.invitation_id.data, "premises_id": form.premises_id.data}
        try:
            _, created = create_once(form.submission_token.data, "TrainingAttendance",
                                     lambda: tr.add_attendee(session, data), current_user.id)
        except InvalidValue as exc:
            _field_error(form, getattr(exc, "field", None) or "person_name", str(exc))
        else:
            flash(f"{data['person_name']} added." if created else "This form was already saved.", "success")
            return redirect(url_for("training.session_view", session_id=session.id))
    return _render_session(session, form, 422)


@bp.route("/training/attendance/<int:attendance_id>/result", methods=["POST"])
@roles_required(STAFF)
def attendance_result(attendance_id: int):
    attendance = get_or_404(TrainingAttendance, attendance_id)
    form = ResultForm(prefix=f"r{attendance.id}")
    if form.validate_on_submit():
        try:
            tr.record_result(attendance, form.status.data == "attended", form.exam_score.data, current_user.email,
                             form.version.data)
            db.session.commit()
        except (InvalidValue, StaleRecord) as exc:
            db.session.rollback()
            flash(f"{attendance.person_name}: {exc}", "danger")
        else:
            if attendance.passed:
                flash(f"{attendance.person_name} passed: certificate {attendance.certificate_number}.", "success")
            else:
                flash(f"Result saved for {attendance.person_name}.", "success")
    else:
        flash("; ".join(e for errors in form.errors.values() for e in errors), "danger")
    return redirect(url_for("training.session_view", session_id=attendance.session_id) + f"#a{attendance.id}")


# --- invitations ----------------------------------------------------------------------------------------------

def _invitation_form(business: Business, form, include_session: int | None = None):
    form.premises_id.choices = [(None, "The whole business")] + [
        (p.id, f"{p.name}, {p.postcode}") for p in business.premises if p.status.value == "trading"]
    form.session_id.choices = _session_choices(include_session)
    return form


def _invitation_data(form) -> dict:
    data = {name: form[name].data for name in tr.INVITATION_FIELDS if name in form}
    data["notes"] = data.get("notes") or ""
    data["visit_officer"] = data.get("visit_officer") or ""
    if not data.get("deadline"):
        data.pop("deadline", None)
    if data.get("letter_sent_on"):
        data["letter_sent_by"] = current_user.name or current_user.email
    return data


@bp.route("/training/invitations")
@roles_required(STAFF)
def invitations():
    if tr.expire_overdue_invitations(today_london()):
        db.session.commit()
    response = request.args.get("response", "")
    query = sa.select(TrainingInvitation).options(selectinload(TrainingInvitation.business),
                                                  selectinload(TrainingInvitation.premises),
                                                  selectinload(TrainingInvitation.session))
    if response in {r.value for r in InvitationResponse}:
        query = query.where(TrainingInvitation.response == response)
    page = keyset_page(query, [(TrainingInvitation.id, True)], current_app.config.get("REGISTER_PAGE_SIZE", 50),
                       request.args)
    return render_template("training/invitations.html", page=page, response=response,
                           labels={r.value: label for r, label in RESPONSE_LABELS.items()})


@bp.route("/businesses/<int:business_id>/training/invite", methods=["GET", "POST"])
@roles_required(STAFF)
def invitation_new(business_id: int):
    business = get_or_404(Business, business_id)
    form = _invitation_form(business, InvitationCreateForm())
    if request.method == "GET":
        form.visited_on.data = today_london()
        form.visit_officer.data = current_user.name
        premises_id = request.args.get("premises_id", type=int)
        if premises_id in {p.id for p in business.premises}:
            form.premises_id.data = premises_id
        elif len(business.premises) == 1:
            form.premises_id.data = business.premises[0].id
        upcoming = tr.upcoming_sessions(with_room=1)
        if upcoming:
            form.session_id.data = upcoming[0][0].id
    if form.validate_on_submit():
        try:
            invitation_id, created = create_once(
                form.submission_token.data, "TrainingInvitation",
                lambda: tr.create_invitation(business, _invitation_data(form)), current_user.id)
        except InvalidValue as exc:
            _field_error(form, "visited_on", str(exc))
        else:
            flash("Invitation recorded. Print the confirming letter when you are back." if created
                  else "This form was already saved.", "success")
            return redirect(url_for("training.invitation_view", invitation_id=invitation_id))
    return render_template("training/invitation_form.html", form=form, business=business, invitation=None)


@bp.route("/training/invitations/<int:invitation_id>")
@roles_required(STAFF)
def invitation_view(invitation_id: int):
    invitation = get_or_404(TrainingInvitation, invitation_id)
    return _render_invitation(invitation)


def _render_invitation(invitation, response_form=None, letter_form=None, status=200):
    if response_form is None:
        response_form = OfficerResponseForm()
        response_form.version.data = invitation.version
        response_form.on.data = today_london()
        response_form.session_id.data = invitation.session_id
        response_form.places.data = invitation.places
    response_form.session_id.choices = _session_choices(invitation.session_id)
    if letter_form is None:
        letter_form = LetterSentForm()
        letter_form.on.data = today_london()
    attendances = db.session.scalars(sa.select(TrainingAttendance)
                                     .where(TrainingAttendance.invitation_id == invitation.id)).all()
    return render_template("training/invitation.html", invitation=invitation, response_form=response_form,
                           letter_form=letter_form, attendances=attendances,
                           history=history("TrainingInvitation", invitation.id)), status


@bp.route("/training/invitations/<int:invitation_id>/edit", methods=["GET", "POST"])
@roles_required(STAFF)
def invitation_edit(invitation_id: int):
    invitation = get_or_404(TrainingInvitation, invitation_id)
    form = _invitation_form(invitation.business, InvitationEditForm(obj=invitation), invitation.session_id)
    if request.method == "GET":
        form.version.data = invitation.version
    if form.validate_on_submit():
        done = save_edit(form,
                          lambda: tr.update_invitation(invitation, _invitation_data(form), form.version.data),
                          url_for("training.invitation_view", invitation_id=invitation.id))
        if done:
            return done
    return render_template("training/invitation_form.html", form=form, business=invitation.business,
                           invitation=invitation)


@bp.route("/training/invitations/<int:invitation_id>/response", methods=["POST"])
@roles_required(STAFF)
def invitation_response(invitation_id: int):
    invitation = get_or_404(TrainingInvitation, invitation_id)
    form = OfficerResponseForm()
    form.session_id.choices = _session_choices(invitation.session_id)
    if form.validate_on_submit():
        actor = current_user.email
        try:
            from ..register import check_version

            check_version(invitation, form.version.data)
            if form.on.data > today_london():
                raise InvalidValue("The reply date cannot be in the future.")
            if form.response.data == "accepted":
                tr.accept_invitation(invitation, form.on.data, actor, form.session_id.data, form.places.data)
            else:
                tr.decline_invitation(invitation, form.on.data, form.reason.data, actor)
            db.session.commit()
        except (InvalidValue, StaleRecord) as exc:
            db.session.rollback()
            form.reason.errors = list(form.reason.errors) + [str(exc)]
        else:
            flash(f"Reply recorded: {invitation.response_label}.", "success")
            return redirect(url_for("training.invitation_view", invitation_id=invitation.id))
    return _render_invitation(invitation, response_form=form, status=422)


@bp.route("/training/invitations/<int:invitation_id>/letter-sent", methods=["POST"])
@roles_required(STAFF)
def invitation_letter_sent(invitation_id: int):
    invitation = get_or_404(TrainingInvitation, invitation_id)
    form = LetterSentForm()
    if form.validate_on_submit():
        try:
            tr.record_letter_sent(invitation, form.on.data, current_user.name or current_user.email)
            db.session.commit()
        except InvalidValue as exc:
            db.session.rollback()
            form.on.errors = list(form.on.errors) + [str(exc)]
        else:
            flash("Letter recorded as sent.", "success")
            return redirect(url_for("training.invitation_view", invitation_id=invitation.id))
    return _render_invitation(invitation, letter_form=form, status=422)


@bp.route("/training/invitations/<int:invitation_id>/letter")
@roles_required(STAFF)
def invitation_letter(invitation_id: int):
    invitation = get_or_404(TrainingInvitation, invitation_id)
    return render_template("training/letters.html", letters=[tr.invitation_letter(invitation)], form=None,
                           back=url_for("training.invitation_view", invitation_id=invitation.id))


@bp.route("/training/letters")
@roles_required(STAFF)
def letters():
    """Every invitation letter not yet sent, one page each, to print in one go."""
    invitations = db.session.scalars(tr.letters_to_print_query().options(
        selectinload(TrainingInvitation.business), selectinload(TrainingInvitation.premises),
        selectinload(TrainingInvitation.session).selectinload(TrainingSession.course)).limit(200)).all()
    form = MarkLettersSentForm()
    form.ids.data = ",".join(str(i.id) for i in invitations)
    form.on.data = today_london()
    return render_template("training/letters.html", letters=[tr.invitation_letter(i) for i in invitations],
                           form=form, back=url_for("training.index"))


@bp.route("/training/letters/sent", methods=["POST"])
@roles_required(STAFF)
def letters_sent():
    form = MarkLettersSentForm()
    if not form.validate_on_submit():
        flash("Give the date the letters were posted.", "danger")
        return redirect(url_for("training.letters"))
    try:
        ids = [int(i) for i in (form.ids.data or "").split(",") if i.strip()]
    except ValueError:
        abort(400)
    invitations = db.session.scalars(sa.select(TrainingInvitation).where(
        TrainingInvitation.id.in_(ids), TrainingInvitation.letter_sent_on.is_(None))).all()
    try:
        for invitation in invitations:
            tr.record_letter_sent(invitation, form.on.data, current_user.name or current_user.email)
        db.session.commit()
    except InvalidValue as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("training.letters"))
    flash(f"{len(invitations)} letter{'s' if len(invitations) != 1 else ''} recorded as sent.", "success")
    return redirect(url_for("training.index"))
