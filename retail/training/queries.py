"""Queries for reminders, pages and the score: expiring certificates, no responses, letters to print, status."""
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from ..extensions import db
from ..models.register import Premises
from ..models.training import (
    InvitationResponse,
    TrainingAttendance,
    TrainingCourse,
    TrainingInvitation,
    TrainingRefusal,
    TrainingSession,
)
from ..timeutil import today_london

REMINDER_DAYS = 30


def _none_such(*where) -> sa.ColumnElement[bool]:
    """No row matches: NOT EXISTS, written as a scalar subquery that finds nothing. PostgreSQL turns NOT EXISTS into
    a hash anti-join that reads the whole table (40,000 certificates or invitations at UK scale, 18-28 ms on every
    officer's home page); a scalar subquery stays a probe of an index for each of the few rows in the date window
    (8-10 ms). SQLite runs both forms the same way."""
    return sa.select(sa.literal(1)).where(*where).limit(1).scalar_subquery().is_(None)


def _latest_certificate_for_person():
    """No later certificate for the same person at the same shop (they were retrained).

    Matched per shop rather than per business so that the check stays a short index probe for large chains."""
    newer = aliased(TrainingAttendance)
    return _none_such(
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
    """No newer invitation for the same shop (or, for a whole-business invitation, the same business)."""
    later, later_business = aliased(TrainingInvitation), aliased(TrainingInvitation)
    no_later_for_shop = _none_such(later.premises_id == TrainingInvitation.premises_id,
                                   later.id > TrainingInvitation.id)
    no_later_for_business = _none_such(later_business.business_id == TrainingInvitation.business_id,
                                       later_business.id > TrainingInvitation.id)
    return sa.and_(no_later_for_shop, sa.or_(TrainingInvitation.premises_id.is_not(None), no_later_for_business))


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

    from ..letters.kinds import sent_content
    from ..settings import all_settings

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
