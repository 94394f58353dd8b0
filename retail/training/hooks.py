"""Extension points: the home panel, the business timeline, and the business and premises sections."""
import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..home import panel
from ..models.register import Premises
from ..models.training import (
    AttendanceStatus,
    InvitationResponse,
    TrainingAttendance,
    TrainingInvitation,
    TrainingSession,
)
from ..register import BUSINESS_SECTIONS, PREMISES_SECTIONS
from ..timeline import TimelineEvent, timeline_provider
from ..timeutil import london, today_london
from .queries import (business_invitations, business_refusals, count, expiring_certificates_query,
                      letters_to_print_query, no_response_query, training_status)

TIMELINE_LIMIT = 100


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
