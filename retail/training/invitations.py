"""Invitations and the shop's response: accepting, declining (a refusal) and no response by the deadline."""
from datetime import date

import sqlalchemy as sa

from ..audit import record_event
from ..extensions import db
from ..records import apply_fields
from ..models.register import Business, Premises
from ..models.training import (
    InvitationResponse,
    RefusalKind,
    TrainingInvitation,
    TrainingRefusal,
    TrainingSession,
)
from ..register import check_version
from ..timeutil import today_london, utcnow
from ..validation import InvalidValue
from .courses import seats_taken
from .dates import default_reply_by, session_date

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
