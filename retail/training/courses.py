"""Courses and sessions: creating and changing them, the places taken and left, the sessions still to come."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..records import apply_fields
from ..models.training import (
    InvitationResponse,
    TrainingAttendance,
    TrainingCourse,
    TrainingInvitation,
    TrainingSession,
)
from ..register import check_version
from ..timeutil import utcnow
from ..validation import InvalidValue

COURSE_FIELDS = ("title", "provider", "duration_minutes", "has_exam", "pass_mark", "validity_months", "description",
                 "active")
SESSION_FIELDS = ("course_id", "starts_at", "venue", "trainer", "capacity", "notes", "cancelled")


def _check_course(course: TrainingCourse) -> None:
    if course.duration_minutes is None or course.duration_minutes <= 0:
        raise InvalidValue("The course must last some time.")
    if not course.validity_months or course.validity_months < 1:
        raise InvalidValue("A certificate must be valid for at least one month.")
    if course.has_exam:
        if course.pass_mark is None or not 1 <= course.pass_mark <= 100:
            raise InvalidValue("Give a pass mark between 1 and 100 for a course with an exam.")
    else:
        course.pass_mark = None


def create_course(data: dict) -> TrainingCourse:
    course = TrainingCourse(duration_minutes=150, has_exam=True, pass_mark=70, validity_months=12, active=True)
    apply_fields(course, data, COURSE_FIELDS)
    _check_course(course)
    db.session.add(course)
    db.session.flush()
    return course


def update_course(course: TrainingCourse, data: dict, version=None) -> TrainingCourse:
    check_version(course, version)
    apply_fields(course, data, COURSE_FIELDS)
    _check_course(course)
    db.session.flush()
    return course


def _check_session(session: TrainingSession) -> None:
    if not session.capacity or session.capacity < 1:
        raise InvalidValue("Capacity must be at least one place.")
    if db.session.get(TrainingCourse, session.course_id) is None:
        raise InvalidValue("Choose a course.")
    if session.id:
        taken = seats_taken([session.id]).get(session.id, 0)
        if session.capacity < taken:
            raise InvalidValue(f"{taken} places are already taken; the capacity cannot be lower than that.")


def create_session(data: dict) -> TrainingSession:
    session = TrainingSession(capacity=20, cancelled=False)
    apply_fields(session, data, SESSION_FIELDS)
    _check_session(session)
    db.session.add(session)
    db.session.flush()
    return session


def update_session(session: TrainingSession, data: dict, version=None) -> TrainingSession:
    check_version(session, version)
    apply_fields(session, data, SESSION_FIELDS)
    _check_session(session)
    db.session.flush()
    return session


def seats_taken(session_ids) -> dict[int, int]:
    """Places taken per session: each person booked, plus places held by accepted invitations not yet named."""
    ids = list(session_ids)
    taken = {sid: 0 for sid in ids}
    if not ids:
        return taken
    named: dict[int | None, int] = {}
    for session_id, invitation_id, count in db.session.execute(
            sa.select(TrainingAttendance.session_id, TrainingAttendance.invitation_id, sa.func.count())
            .where(TrainingAttendance.session_id.in_(ids))
            .group_by(TrainingAttendance.session_id, TrainingAttendance.invitation_id)):
        taken[session_id] += count
        if invitation_id is not None:
            named[invitation_id] = named.get(invitation_id, 0) + count
    for invitation_id, session_id, places in db.session.execute(
            sa.select(TrainingInvitation.id, TrainingInvitation.session_id, TrainingInvitation.places)
            .where(TrainingInvitation.session_id.in_(ids),
                   TrainingInvitation.response == InvitationResponse.ACCEPTED)):
        taken[session_id] += max(0, places - named.get(invitation_id, 0))
    return taken


def places_left(session: TrainingSession) -> int:
    return max(0, session.capacity - seats_taken([session.id])[session.id])


def upcoming_sessions(now: datetime | None = None, with_room: int = 0) -> list[tuple[TrainingSession, int]]:
    """Sessions not yet started and not cancelled, soonest first, with the places left (only those with room)."""
    sessions = db.session.scalars(
        sa.select(TrainingSession).options(selectinload(TrainingSession.course))
        .where(TrainingSession.starts_at > (now or utcnow()), TrainingSession.cancelled.is_(False))
        .order_by(TrainingSession.starts_at).limit(50)).all()
    taken = seats_taken([s.id for s in sessions])
    out = [(s, s.capacity - taken[s.id]) for s in sessions]
    return [(s, left) for s, left in out if left >= with_room]
