"""Attendance, results and certificates; a no-show records a refusal, a corrected result withdraws it."""
from datetime import date

import sqlalchemy as sa

from ..extensions import db
from ..models.register import Premises, name_key
from ..models.training import (
    AttendanceStatus,
    InvitationResponse,
    RefusalKind,
    TrainingAttendance,
    TrainingCourse,
    TrainingInvitation,
    TrainingRefusal,
    TrainingSession,
)
from ..register import DuplicateRecord, check_version
from ..timeutil import add_months, today_london
from ..validation import InvalidValue
from .courses import places_left
from .dates import session_date

def add_attendee(session: TrainingSession, data: dict) -> TrainingAttendance:
    """Book a person onto a session (capacity enforced; an accepted invitation's held places are used first)."""
    if session.cancelled:
        raise InvalidValue("This session is cancelled.")
    name = (data.get("person_name") or "").strip()
    if not name:
        raise InvalidValue("Give the person's name.")
    invitation = None
    if data.get("invitation_id"):
        invitation = db.session.get(TrainingInvitation, int(data["invitation_id"]))
        if invitation is None:
            raise InvalidValue("That invitation does not exist.")
        business_id = invitation.business_id
        premises_id = data.get("premises_id") or invitation.premises_id
    else:
        premises = db.session.get(Premises, int(data["premises_id"])) if data.get("premises_id") else None
        if premises is None:
            raise InvalidValue("Choose the shop the person works at.")
        business_id, premises_id = premises.business_id, premises.id
    if premises_id is not None:
        premises = db.session.get(Premises, int(premises_id))
        if premises is None or premises.business_id != business_id:
            raise InvalidValue("The chosen shop does not belong to the invited business.")
    duplicate = db.session.scalar(
        sa.select(TrainingAttendance.id).where(TrainingAttendance.session_id == session.id,
                                               TrainingAttendance.business_id == business_id,
                                               sa.func.lower(TrainingAttendance.person_name) == name_key(name)))
    if duplicate:
        raise DuplicateRecord(f"{name} is already booked on this session.", duplicate, "person_name")
    held = 0
    if invitation is not None and invitation.response == InvitationResponse.ACCEPTED \
            and invitation.session_id == session.id:
        named = db.session.scalar(sa.select(sa.func.count()).select_from(TrainingAttendance)
                                  .where(TrainingAttendance.invitation_id == invitation.id)) or 0
        held = max(0, invitation.places - named)
    if held == 0 and places_left(session) < 1:
        raise InvalidValue(f"This session is full ({session.capacity} places).")
    attendance = TrainingAttendance(session_id=session.id, invitation_id=invitation.id if invitation else None,
                                    business_id=business_id, premises_id=premises_id, person_name=name,
                                    person_role=(data.get("person_role") or "").strip(),
                                    status=AttendanceStatus.BOOKED)
    db.session.add(attendance)
    db.session.flush()
    return attendance


def certificate_number(attendance: TrainingAttendance, on: date) -> str:
    return f"KRT-{on.year}-{attendance.id:06d}"


def compute_pass(course: TrainingCourse, attended: bool, score: int | None) -> bool | None:
    if not attended:
        return None
    if not course.has_exam:
        return True
    return score is not None and score >= (course.pass_mark or 0)


def record_result(attendance: TrainingAttendance, attended: bool, exam_score: int | None, actor: str,
                  version=None, today: date | None = None) -> TrainingAttendance:
    """Attended (with the exam score) or no-show. Passing issues a certificate; a no-show records a refusal."""
    check_version(attendance, version)
    session = attendance.session
    course = session.course
    held_on = session_date(session)
    if held_on > (today or today_london()):
        raise InvalidValue("The session has not happened yet: record the result on or after "
                           f"{held_on.strftime('%d %b %Y')}.")
    if attended:
        if course.has_exam:
            if exam_score is None:
                raise InvalidValue("Enter the exam score (0 to 100).")
            if not 0 <= exam_score <= 100:
                raise InvalidValue("The exam score must be between 0 and 100.")
        attendance.status = AttendanceStatus.ATTENDED
        attendance.exam_score = exam_score if course.has_exam else None
        attendance.passed = compute_pass(course, True, attendance.exam_score)
        if attendance.passed:
            attendance.certificate_number = attendance.certificate_number or certificate_number(attendance, held_on)
            attendance.certificate_expires = add_months(held_on, course.validity_months)
        else:
            attendance.certificate_number = None
            attendance.certificate_expires = None
        _withdraw_no_show_refusal(attendance)
    else:
        attendance.status = AttendanceStatus.NO_SHOW
        attendance.exam_score = None
        attendance.passed = None
        attendance.certificate_number = None
        attendance.certificate_expires = None
        _record_no_show_refusal(attendance, held_on, actor)
    db.session.flush()
    return attendance


def _record_no_show_refusal(attendance: TrainingAttendance, on: date, actor: str) -> None:
    if attendance.invitation_id is not None:
        exists = sa.select(TrainingRefusal.id).where(TrainingRefusal.invitation_id == attendance.invitation_id)
    else:
        exists = sa.select(TrainingRefusal.id).where(TrainingRefusal.attendance_id == attendance.id)
    if db.session.scalar(exists) is not None:
        return
    db.session.add(TrainingRefusal(
        business_id=attendance.business_id, premises_id=attendance.premises_id, refused_on=on,
        kind=RefusalKind.NO_SHOW, invitation_id=attendance.invitation_id,
        attendance_id=None if attendance.invitation_id else attendance.id,
        reason=f"{attendance.person_name} did not attend", recorded_by=actor))


def _withdraw_no_show_refusal(attendance: TrainingAttendance) -> None:
    """A corrected result (no-show → attended) removes the no-show refusal if nobody else missed the session."""
    if attendance.invitation_id is not None:
        others = db.session.scalar(sa.select(sa.func.count()).select_from(TrainingAttendance).where(
            TrainingAttendance.invitation_id == attendance.invitation_id, TrainingAttendance.id != attendance.id,
            TrainingAttendance.status == AttendanceStatus.NO_SHOW))
        if others:
            return
        refusal = db.session.scalar(sa.select(TrainingRefusal).where(
            TrainingRefusal.invitation_id == attendance.invitation_id, TrainingRefusal.kind == RefusalKind.NO_SHOW))
    else:
        refusal = db.session.scalar(sa.select(TrainingRefusal).where(TrainingRefusal.attendance_id == attendance.id))
    if refusal is not None:
        db.session.delete(refusal)
