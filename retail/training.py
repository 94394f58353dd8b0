"""Rules for accredited trader training: courses, sessions, invitations, attendance, certificates and refusals.

For other areas (the compliance score, the portal):
- `TrainingRefusal` (table `training_refusal`): one row per refusal, columns business_id, premises_id, refused_on,
  kind ('declined' | 'no-show'), invitation_id, attendance_id; indexed (business_id, refused_on) and
  (premises_id, refused_on). A "no response by the deadline" is NOT a refusal and has no row here.
- `training_status(business_id)` -> {premises_id: {"certified_staff", "current", "expires", "next_expiry"}}.
- `refusal_counts(business_ids, since=None)` -> {business_id: n}.
- `expire_overdue_invitations(today)`: pending invitations past their deadline become "no response".
"""
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import aliased, selectinload

from .audit import record_event
from .extensions import db
from .home import panel
from .records import apply_fields
from .models.register import Business, Premises, name_key
from .models.training import (
    AttendanceStatus,
    InvitationResponse,
    RefusalKind,
    TrainingAttendance,
    TrainingCourse,
    TrainingInvitation,
    TrainingRefusal,
    TrainingSession,
)
from .register import (
    BUSINESS_SECTIONS,
    PREMISES_SECTIONS,
    DuplicateRecord,
    check_version,
)
from .timeline import TimelineEvent, timeline_provider
from .timeutil import LONDON, add_months, london, today_london, utcnow
from .validation import InvalidValue

REMINDER_DAYS = 30
TIMELINE_LIMIT = 100
DEFAULT_RESPONSE_DAYS = 21
# A reply is needed this many days before the session offered, so the trainer knows the numbers.
REPLY_BEFORE_SESSION_DAYS = 3


def default_reply_by(visited_on: date, session_day: date | None = None) -> date:
    """The reply-by date: three weeks after the visit, but before the session offered (a deadline after the session
    asks the shop to answer an invitation it can no longer take up); never before the visit itself."""
    deadline = visited_on + timedelta(days=DEFAULT_RESPONSE_DAYS)
    if session_day is not None:
        deadline = min(deadline, session_day - timedelta(days=REPLY_BEFORE_SESSION_DAYS))
        if deadline < visited_on:
            deadline = min(visited_on, session_day - timedelta(days=1))
    return deadline




def session_date(session: TrainingSession) -> date:
    return london(session.starts_at).date()


def london_datetime(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON)


# --- courses and sessions ---------------------------------------------------------------------------------------

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


# --- invitations ----------------------------------------------------------------------------------------------------

INVITATION_FIELDS = ("premises_id", "session_id", "visited_on", "visit_officer", "letter_sent_on", "letter_sent_by",
                     "deadline", "places", "notes")


def _check_invitation(invitation: TrainingInvitation, today: date) -> None:
    if invitation.premises_id is not None:
        premises = db.session.get(Premises, invitation.premises_id)
        if premises is None or premises.business_id != invitation.business_id:
            raise InvalidValue("The chosen shop does not belong to this business.")
    if invitation.visited_on and invitation.visited_on > today:
        raise InvalidValue("The visit date cannot be in the future.")
    if invitation.letter_sent_on and invitation.letter_sent_on > today:
        raise InvalidValue("The letter date cannot be in the future.")
    if invitation.visited_on and invitation.letter_sent_on and invitation.letter_sent_on < invitation.visited_on:
        raise InvalidValue("The letter follows the visit: its date cannot be before the visit.")
    if invitation.visited_on and invitation.deadline < invitation.visited_on:
        raise InvalidValue("The reply deadline cannot be before the visit.")
    if not invitation.places or invitation.places < 1:
        raise InvalidValue("Invite at least one member of staff.")
    if invitation.session_id is not None:
        session = db.session.get(TrainingSession, invitation.session_id)
        if session is None or session.cancelled:
            raise InvalidValue("The session offered does not exist or is cancelled.")
        held = session_date(session)
        if invitation.deadline and invitation.deadline >= held:
            raise InvalidValue(f"The reply-by date ({invitation.deadline:%d %b %Y}) must be before the session "
                               f"offered ({held:%d %b %Y}).")


def create_invitation(business: Business, data: dict, today: date | None = None) -> TrainingInvitation:
    today = today or today_london()
    invitation = TrainingInvitation(business_id=business.id, response=InvitationResponse.PENDING, places=1)
    apply_fields(invitation, data, INVITATION_FIELDS)
    if not invitation.deadline:
        session = db.session.get(TrainingSession, invitation.session_id) if invitation.session_id else None
        invitation.deadline = default_reply_by(invitation.visited_on or today,
                                               session_date(session) if session is not None else None)
    _check_invitation(invitation, today)
    db.session.add(invitation)
    db.session.flush()
    return invitation


def update_invitation(invitation: TrainingInvitation, data: dict, version=None,
                      today: date | None = None) -> TrainingInvitation:
    check_version(invitation, version)
    apply_fields(invitation, data, INVITATION_FIELDS)
    _check_invitation(invitation, today or today_london())
    db.session.flush()
    return invitation


def record_letter_sent(invitation: TrainingInvitation, on: date, by: str) -> None:
    if on > today_london():
        raise InvalidValue("The letter date cannot be in the future.")
    if invitation.visited_on and on < invitation.visited_on:
        raise InvalidValue("The letter follows the visit: its date cannot be before the visit.")
    invitation.letter_sent_on = on
    invitation.letter_sent_by = by
    db.session.flush()
    record_event("TrainingInvitation", invitation.id, f"Invitation letter sent on {on.isoformat()}")


def _refusal_for_invitation(invitation: TrainingInvitation) -> TrainingRefusal | None:
    return db.session.scalar(sa.select(TrainingRefusal).where(TrainingRefusal.invitation_id == invitation.id))


def accept_invitation(invitation: TrainingInvitation, on: date, actor: str, session_id: int | None = None,
                      places: int | None = None) -> bool:
    """Accept, optionally choosing the session and how many staff will come. Returns False if already accepted."""
    if invitation.response == InvitationResponse.ACCEPTED and (session_id in (None, invitation.session_id)):
        return False
    if invitation.response == InvitationResponse.DECLINED:
        raise InvalidValue("This invitation was declined. Ask the officer for a new invitation.")
    wanted_places = places or invitation.places
    if wanted_places < 1 or wanted_places > 20:
        raise InvalidValue("Say how many staff will come (1 to 20).")
    chosen = session_id or invitation.session_id
    if chosen is not None:
        session = db.session.get(TrainingSession, chosen)
        if session is None or session.cancelled or session.starts_at <= utcnow():
            raise InvalidValue("That session is not open for booking. Choose another.")
        held = invitation.places if (invitation.response == InvitationResponse.ACCEPTED
                                     and invitation.session_id == chosen) else 0
        left = session.capacity - seats_taken([chosen])[chosen] + held
        if wanted_places > left:
            raise InvalidValue(f"That session has {max(left, 0)} place{'s' if left != 1 else ''} left. "
                               "Choose another session or fewer places.")
    invitation.session_id = chosen
    invitation.places = wanted_places
    invitation.response = InvitationResponse.ACCEPTED
    invitation.responded_on = on
    invitation.responded_by = actor
    invitation.decline_reason = ""
    db.session.flush()
    return True


def decline_invitation(invitation: TrainingInvitation, on: date, reason: str, actor: str) -> bool:
    """Decline with a reason; records a refusal dated `on`. Returns False if it was already declined."""
    if invitation.response == InvitationResponse.DECLINED:
        return False
    reason = (reason or "").strip()
    if not reason:
        raise InvalidValue("Say why you are declining the training.")
    if on > today_london():
        raise InvalidValue("The date cannot be in the future.")
    invitation.response = InvitationResponse.DECLINED
    invitation.responded_on = on
    invitation.responded_by = actor
    invitation.decline_reason = reason
    if _refusal_for_invitation(invitation) is None:
        db.session.add(TrainingRefusal(
            business_id=invitation.business_id, premises_id=invitation.premises_id, refused_on=on,
            kind=RefusalKind.DECLINED, invitation_id=invitation.id, reason=reason, recorded_by=actor))
    db.session.flush()
    return True


def expire_overdue_invitations(today: date | None = None, business_id: int | None = None) -> int:
    """Pending invitations whose reply deadline has passed become 'no response' (which is not a refusal)."""
    today = today or today_london()
    query = sa.select(TrainingInvitation).where(TrainingInvitation.response == InvitationResponse.PENDING,
                                                TrainingInvitation.deadline < today)
    if business_id is not None:
        query = query.where(TrainingInvitation.business_id == business_id)
    count = 0
    for invitation in db.session.scalars(query):
        invitation.response = InvitationResponse.NO_RESPONSE
        invitation.responded_on = invitation.deadline
        invitation.responded_by = "deadline passed"
        count += 1
    if count:
        db.session.flush()
    return count


# --- attendance and certificates --------------------------------------------------------------------------------

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


# --- queries for reminders, pages and the score --------------------------------------------------------------------

def _latest_certificate_for_person():
    """NOT EXISTS a later certificate for the same person at the same shop (they were retrained).

    Matched per shop rather than per business so that the check stays a short index probe for large chains."""
    newer = aliased(TrainingAttendance)
    return ~sa.exists().where(
        newer.premises_id == TrainingAttendance.premises_id,
        sa.func.lower(newer.person_name) == sa.func.lower(TrainingAttendance.person_name),
        newer.certificate_expires > TrainingAttendance.certificate_expires)


def expiring_certificates_query(today: date | None = None, days: int = REMINDER_DAYS, business_id: int | None = None):
    """Certificates that expire within `days` (and not already renewed by a later one)."""
    today = today or today_london()
    query = (sa.select(TrainingAttendance)
             .where(TrainingAttendance.certificate_expires >= today,
                    TrainingAttendance.certificate_expires <= today + timedelta(days=days),
                    _latest_certificate_for_person())
             .order_by(TrainingAttendance.certificate_expires, TrainingAttendance.id))
    if business_id is not None:
        query = query.where(TrainingAttendance.business_id == business_id)
    return query


def _no_later_invitation():
    """NOT EXISTS a newer invitation for the same shop (or, for a whole-business invitation, the same business)."""
    later, later_business = aliased(TrainingInvitation), aliased(TrainingInvitation)
    same_shop = sa.exists().where(later.premises_id == TrainingInvitation.premises_id,
                                  later.id > TrainingInvitation.id)
    same_business = sa.exists().where(later_business.business_id == TrainingInvitation.business_id,
                                      later_business.id > TrainingInvitation.id)
    return sa.and_(~same_shop, sa.or_(TrainingInvitation.premises_id.is_not(None), ~same_business))


NO_RESPONSE_FOLLOW_UP_DAYS = 180


def no_response_query(business_id: int | None = None, today: date | None = None,
                      within_days: int | None = NO_RESPONSE_FOLLOW_UP_DAYS):
    """Invitations that got no response by the deadline (within the last `within_days`, to follow up) and have not
    been followed by a newer invitation to the same shop. All of them: within_days=None."""
    query = (sa.select(TrainingInvitation)
             .where(TrainingInvitation.response == InvitationResponse.NO_RESPONSE, _no_later_invitation())
             .order_by(TrainingInvitation.deadline.desc(), TrainingInvitation.id.desc()))
    if within_days is not None:
        query = query.where(TrainingInvitation.deadline >= (today or today_london()) - timedelta(days=within_days))
    if business_id is not None:
        query = query.where(TrainingInvitation.business_id == business_id)
    return query


def letters_to_print_query():
    """Invitations given on a visit whose confirming letter has not been sent yet (oldest visit first)."""
    return (sa.select(TrainingInvitation)
            .where(TrainingInvitation.letter_sent_on.is_(None),
                   TrainingInvitation.response.in_([InvitationResponse.PENDING, InvitationResponse.ACCEPTED]))
            .order_by(TrainingInvitation.visited_on, TrainingInvitation.id))


def count(query) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0


def training_status(business_id: int, today: date | None = None) -> dict:
    """Per premises of the business: {"certified_staff": [{name, role, certificate_number, expires}],
    "current": bool (someone holds an unexpired certificate), "expires": latest expiry (when the shop stops having a
    certified person) or None, "next_expiry": earliest current expiry or None}. Certificates recorded without a shop
    are under the key None."""
    today = today or today_london()
    premises_ids = db.session.scalars(sa.select(Premises.id).where(Premises.business_id == business_id)).all()
    status = {pid: {"certified_staff": [], "current": False, "expires": None, "next_expiry": None}
              for pid in premises_ids}
    rows = db.session.execute(
        sa.select(TrainingAttendance.premises_id, TrainingAttendance.person_name, TrainingAttendance.person_role,
                  TrainingAttendance.certificate_number, TrainingAttendance.certificate_expires)
        .where(TrainingAttendance.business_id == business_id, TrainingAttendance.passed.is_(True),
               TrainingAttendance.certificate_expires >= today)
        .order_by(TrainingAttendance.certificate_expires.desc())).all()
    seen = set()
    for premises_id, name, role, number, expires in rows:
        key = (premises_id, name.lower())
        if key in seen:  # a retrained person: their latest certificate counts
            continue
        seen.add(key)
        entry = status.setdefault(premises_id, {"certified_staff": [], "current": False, "expires": None,
                                                "next_expiry": None})
        entry["certified_staff"].append({"name": name, "role": role, "certificate_number": number, "expires": expires,
                                         "expiring": expires <= today + timedelta(days=REMINDER_DAYS)})
        entry["current"] = True
        entry["expires"] = max(entry["expires"] or expires, expires)
        entry["next_expiry"] = min(entry["next_expiry"] or expires, expires)
    for entry in status.values():
        entry["certified_staff"].sort(key=lambda s: (s["expires"], s["name"]))
    return status


def refusal_counts(business_ids, since: date | None = None) -> dict[int, int]:
    ids = list(business_ids)
    query = (sa.select(TrainingRefusal.business_id, sa.func.count())
             .where(TrainingRefusal.business_id.in_(ids)).group_by(TrainingRefusal.business_id))
    if since is not None:
        query = query.where(TrainingRefusal.refused_on >= since)
    counts = {bid: 0 for bid in ids}
    counts.update(dict(db.session.execute(query).all()))
    return counts


def business_invitations(business_id: int, limit: int | None = None) -> list[TrainingInvitation]:
    return db.session.scalars(
        sa.select(TrainingInvitation).options(selectinload(TrainingInvitation.session)
                                              .selectinload(TrainingSession.course),
                                              selectinload(TrainingInvitation.premises))
        .where(TrainingInvitation.business_id == business_id).order_by(TrainingInvitation.id.desc())
        .limit(limit)).all()


def business_refusals(business_id: int) -> list[TrainingRefusal]:
    return db.session.scalars(sa.select(TrainingRefusal).where(TrainingRefusal.business_id == business_id)
                              .order_by(TrainingRefusal.refused_on.desc())).all()


def invitation_letter(invitation: TrainingInvitation) -> dict:
    """What the printed invitation letter says (the letterhead comes from the authority's settings)."""
    from markupsafe import Markup

    from .letters.kinds import sent_content
    from .settings import all_settings

    settings = all_settings()
    business = invitation.business
    premises = invitation.premises
    session = invitation.session
    return {
        "settings": settings, "invitation": invitation, "business": business, "premises": premises,
        "session": session, "course": session.course if session else _default_course(),
        "addressee": business.contact_name or "The Manager",
        "address_lines": ([premises.name, premises.address_line1, premises.address_line2, premises.town,
                           premises.postcode] if premises else
                          [business.display_name, business.head_office_address, business.head_office_postcode or ""]),
        "letter_date": invitation.letter_sent_on or today_london(),
        # the letter as it was sent, when the post round kept its text (the wording may have changed since)
        "as_sent": Markup(sent_content("training-invitation", invitation.id) or "") if invitation.letter_sent_on
        else Markup(""),
    }


def _default_course() -> TrainingCourse | None:
    return db.session.scalar(sa.select(TrainingCourse).where(TrainingCourse.active.is_(True))
                             .order_by(TrainingCourse.id).limit(1))


# --- extension points: home panel, timeline, business and premises sections ------------------------------------

@panel
def training_panel(user) -> dict | None:
    if not user.is_staff:
        return None
    today = today_london()
    expiring = expiring_certificates_query(today)
    no_response = no_response_query()
    return {
        "title": "Training reminders", "template": "training/_panel.html",
        "expiring_count": count(expiring), "no_response_count": count(no_response),
        "letters_count": count(letters_to_print_query()),
        "expiring": db.session.scalars(expiring.options(selectinload(TrainingAttendance.business)).limit(5)).all(),
        "no_response": db.session.scalars(no_response.options(selectinload(TrainingInvitation.business))
                                          .limit(5)).all(),
    }


def _staff(viewer) -> bool:
    return viewer is None or viewer.is_staff


@timeline_provider
def training_events(business, viewer) -> list[TimelineEvent]:
    staff = _staff(viewer)
    events = []
    # The newest records are enough for a timeline (it shows at most 200 events across all areas).
    invitations = db.session.scalars(sa.select(TrainingInvitation)
                                     .where(TrainingInvitation.business_id == business.id)
                                     .order_by(TrainingInvitation.id.desc()).limit(TIMELINE_LIMIT)).all()
    for inv in invitations:
        url = (url_for("training.invitation_view", invitation_id=inv.id) if staff
               else url_for("portal.invitation", invitation_id=inv.id))
        if inv.visited_on:
            events.append(TimelineEvent(inv.visited_on, "training", "Invited to training on a visit",
                                        f"by {inv.visit_officer}" if inv.visit_officer else "", url, "info"))
        if inv.letter_sent_on:
            events.append(TimelineEvent(inv.letter_sent_on, "training", "Training invitation letter sent", "", url,
                                        "info"))
        if inv.responded_on and inv.response != InvitationResponse.PENDING:
            tone = {"accepted": "success", "declined": "danger", "no-response": "warning"}[inv.response.value]
            detail = inv.decline_reason if inv.response == InvitationResponse.DECLINED else ""
            events.append(TimelineEvent(inv.responded_on, "training", f"Training invitation: {inv.response_label}",
                                        detail, url, tone))
    rows = db.session.execute(
        sa.select(TrainingAttendance, TrainingSession.starts_at)
        .join(TrainingSession, TrainingAttendance.session_id == TrainingSession.id)
        .where(TrainingAttendance.business_id == business.id,
               TrainingAttendance.status != AttendanceStatus.BOOKED)
        .order_by(TrainingSession.starts_at.desc()).limit(TIMELINE_LIMIT)).all()
    for attendance, starts_at in rows:
        when = london(starts_at).date()
        url = url_for("training.session_view", session_id=attendance.session_id) if staff else None
        if attendance.status == AttendanceStatus.NO_SHOW:
            events.append(TimelineEvent(when, "training", f"{attendance.person_name} did not attend training", "",
                                        url, "danger"))
        elif attendance.passed:
            events.append(TimelineEvent(when, "training", f"{attendance.person_name} passed training",
                                        f"Certificate {attendance.certificate_number}, valid until "
                                        f"{attendance.certificate_expires.strftime('%d %b %Y')}", url, "success"))
        else:
            events.append(TimelineEvent(when, "training", f"{attendance.person_name} attended training, did not pass",
                                        f"Exam score {attendance.exam_score}" if attendance.exam_score is not None
                                        else "", url, "warning"))
    return events


SECTION_ROWS = 30


def _business_section(business, viewer) -> dict | None:
    if not _staff(viewer):
        return None
    status = training_status(business.id)
    # A chain can have thousands of shops: load only the rows shown.
    shops = db.session.scalars(sa.select(Premises).where(Premises.business_id == business.id)
                               .order_by(Premises.name_key, Premises.id).limit(SECTION_ROWS)).all()
    return {"title": "Training", "template": "training/_business_section.html", "business": business,
            "status": status, "premises": {p.id: p for p in shops}, "shop_count": len(status) - (None in status),
            "certified_shops": sum(1 for pid, entry in status.items() if pid is not None and entry["current"]),
            "invitations": business_invitations(business.id, SECTION_ROWS),
            "invitation_count": count(sa.select(TrainingInvitation.id)
                                      .where(TrainingInvitation.business_id == business.id)),
            "refusals": business_refusals(business.id), "limit": SECTION_ROWS}


def _premises_section(premises, viewer) -> dict | None:
    if not _staff(viewer):
        return None
    status = training_status(premises.business_id).get(premises.id)
    invitations = db.session.scalars(sa.select(TrainingInvitation)
                                     .where(TrainingInvitation.premises_id == premises.id)
                                     .order_by(TrainingInvitation.id.desc()).limit(20)).all()
    return {"title": "Training", "template": "training/_premises_section.html", "premises": premises,
            "status": status, "invitations": invitations}


BUSINESS_SECTIONS.append(_business_section)
PREMISES_SECTIONS.append(_premises_section)
