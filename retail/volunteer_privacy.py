"""Who may see a volunteer's personal details (date of birth, welfare notes, areas to avoid, consent and photo
references), and the log of every view (issue 9 part 5, brief 2.2). Everyone else sees the code name and age band."""
import sqlalchemy as sa
from flask import request
from flask_login import current_user

from .access import Role
from .extensions import db
from .models.purchases import Operation, OperationOfficer, VolunteerConsent
from .models.retention import PersonalDataView
from .rules.volunteers import age_on


def age_band(date_of_birth, on) -> str:
    """Two-year bands: enough to plan an operation, not enough to identify a child."""
    age = age_on(date_of_birth, on)
    if age >= 18:
        return "18 or over"
    low = age - (age % 2)
    return f"{low}–{low + 1}"


def visible_volunteer_ids(user, volunteer_ids) -> set[int]:
    """The volunteers whose details `user` may see: a supervisor sees their authority's (the scoping already limits
    volunteers to it); an officer or police officer only those with live consent for an operation they are on."""
    ids = {i for i in volunteer_ids if i}
    if not ids or not getattr(user, "is_authenticated", False):
        return set()
    if user.role == Role.SUPERVISOR:
        return ids
    if user.role not in (Role.OFFICER, Role.POLICE):
        return set()
    on_operation = sa.or_(Operation.lead_officer_id == user.id, Operation.id.in_(
        sa.select(OperationOfficer.__table__.c.operation_id).where(OperationOfficer.__table__.c.user_id == user.id)))
    return set(db.session.scalars(
        sa.select(VolunteerConsent.volunteer_id).join(Operation, Operation.id == VolunteerConsent.operation_id)
        .where(VolunteerConsent.volunteer_id.in_(ids), VolunteerConsent.withdrawn.is_(False), on_operation)))


def log_views(volunteers) -> None:
    """Record that the signed-in user was shown these volunteers' personal details on this page."""
    for v in volunteers:
        db.session.add(PersonalDataView(authority_id=v.authority_id, user_id=current_user.id,
                                        actor=current_user.email, volunteer_id=v.id, code_name=v.code_name,
                                        page=request.path[:200]))
    if volunteers:
        db.session.commit()


def access_log(authority_id: int, limit: int = 500) -> list[PersonalDataView]:
    return db.session.scalars(sa.select(PersonalDataView).where(PersonalDataView.authority_id == authority_id)
                              .order_by(PersonalDataView.id.desc()).limit(limit)).all()
