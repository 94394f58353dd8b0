"""Operations and volunteers: an operation's dates and sharing, pseudonymous volunteers, parental consent per
operation, and the pick-lists the attempt forms offer."""
from datetime import date, timedelta

import sqlalchemy as sa

from ..authorities import authorities_for_boroughs
from ..extensions import db
from ..models.authority import Authority
from ..models.purchases import Operation, TestPurchase, Volunteer, VolunteerConsent
from ..records import apply_fields
from ..register import check_version
from ..scoping import current_authority_id
from ..timeutil import today_london
from .errors import PurchaseError

OPERATION_FIELDS = ("name", "lead_agency", "boroughs", "starts_on", "ends_on", "lead_officer_id", "officer_ids",
                    "risk_assessment_ref", "authorisation_ref", "briefing_on", "notes")
VOLUNTEER_FIELDS = ("code_name", "date_of_birth", "areas_to_avoid", "welfare_notes", "active")
CONSENT_FIELDS = ("volunteer_id", "given_by", "relationship_to_volunteer", "given_on",
                  "birth_certificate_checked_by", "photo_ref")


def _apply_plain(record, data: dict, fields) -> None:
    apply_fields(record, data, fields, nullable={"lead_officer_id", "briefing_on"})


def _validate_operation(op: Operation) -> None:
    if op.ends_on < op.starts_on:
        raise PurchaseError("The last day is before the first day.", "ends_on")
    if (op.ends_on - op.starts_on).days > 366:
        raise PurchaseError("An operation lasts a year at most: split it.", "ends_on")
    if op.briefing_on and op.briefing_on > op.ends_on:
        raise PurchaseError("The briefing is after the operation has ended.", "briefing_on")
    outside = db.session.scalar(sa.select(sa.func.count()).select_from(TestPurchase).where(
        TestPurchase.operation_id == op.id,
        sa.or_(TestPurchase.purchase_date < op.starts_on, TestPurchase.purchase_date > op.ends_on))) if op.id else 0
    if outside:
        raise PurchaseError(f"{outside} test purchase(s) of this operation fall outside these dates.", "starts_on")


def create_operation(data: dict, authority_id: int | None = None) -> Operation:
    op = Operation(authority_id=authority_id or current_authority_id())
    _apply_plain(op, data, OPERATION_FIELDS)
    _validate_operation(op)
    _share_with_named_boroughs(op)
    db.session.add(op)
    db.session.flush()
    return op


def update_operation(op: Operation, data: dict, version=None) -> Operation:
    check_version(op, version)
    _apply_plain(op, data, OPERATION_FIELDS)
    _validate_operation(op)
    _share_with_named_boroughs(op)
    db.session.flush()
    return op


def _share_with_named_boroughs(op: Operation) -> None:
    """A police operation works across the boroughs it names: those boroughs read its records (never its
    volunteers). A borough's own operation is shared with no one."""
    owner = db.session.get(Authority, op.authority_id) if op.authority_id else None
    if owner is None or not owner.runs_test_purchases_across_boroughs:
        op.shared_with = []
        return
    op.shared_with = [a for a in authorities_for_boroughs(op.boroughs) if a.id != owner.id]


def _validate_volunteer(volunteer: Volunteer) -> None:
    today = today_london()
    if volunteer.date_of_birth >= today:
        raise PurchaseError("The date of birth must be in the past.", "date_of_birth")
    if volunteer.age_on(today) < 12:
        raise PurchaseError("Volunteers are at least 12 years old.", "date_of_birth")
    query = sa.select(Volunteer.id).where(sa.func.lower(Volunteer.code_name) == volunteer.code_name.lower())
    if volunteer.id:
        query = query.where(Volunteer.id != volunteer.id)
    if db.session.scalar(query):
        raise PurchaseError(f"The code name {volunteer.code_name} is already used.", "code_name")


def create_volunteer(data: dict) -> Volunteer:
    volunteer = Volunteer()
    _apply_plain(volunteer, data, VOLUNTEER_FIELDS)
    _validate_volunteer(volunteer)
    db.session.add(volunteer)
    db.session.flush()
    return volunteer


def update_volunteer(volunteer: Volunteer, data: dict, version=None) -> Volunteer:
    check_version(volunteer, version)
    _apply_plain(volunteer, data, VOLUNTEER_FIELDS)
    _validate_volunteer(volunteer)
    db.session.flush()
    return volunteer


def add_consent(op: Operation, data: dict) -> VolunteerConsent:
    consent = VolunteerConsent(operation_id=op.id)
    _apply_plain(consent, data, CONSENT_FIELDS)
    volunteer = db.session.get(Volunteer, consent.volunteer_id) if consent.volunteer_id else None
    if volunteer is None:
        raise PurchaseError("Choose the volunteer.", "volunteer_id")
    if not volunteer.active:
        raise PurchaseError(f"{volunteer.code_name} is not an active volunteer.", "volunteer_id")
    if consent.given_on > today_london():
        raise PurchaseError("The consent date cannot be in the future.", "given_on")
    if consent.given_on > op.ends_on:
        raise PurchaseError("Consent must be given before the operation ends.", "given_on")
    if volunteer.age_on(op.starts_on) >= 18:
        raise PurchaseError(f"{volunteer.code_name} is 18 or over when the operation starts.", "volunteer_id")
    if db.session.scalar(sa.select(VolunteerConsent.id).where(VolunteerConsent.volunteer_id == volunteer.id,
                                                              VolunteerConsent.operation_id == op.id)):
        raise PurchaseError(f"Consent for {volunteer.code_name} is already recorded for this operation.",
                            "volunteer_id")
    db.session.add(consent)
    db.session.flush()
    return consent


def withdraw_consent(consent: VolunteerConsent) -> None:
    consent.withdrawn = True
    db.session.flush()


def volunteers_for_operation(operation_id: int | None, on: date | None = None) -> list[Volunteer]:
    """Active volunteers with consent for this operation (and under 18 on `on`, when given)."""
    if not operation_id:
        return []
    rows = db.session.scalars(
        sa.select(Volunteer).join(VolunteerConsent, VolunteerConsent.volunteer_id == Volunteer.id)
        .where(VolunteerConsent.operation_id == operation_id, VolunteerConsent.withdrawn.is_(False),
               Volunteer.active.is_(True)).order_by(Volunteer.code_name)).all()
    return [v for v in rows if on is None or v.age_on(on) < 18]


def volunteer_availability(operation_id: int | None, on: date | None = None) -> tuple[list[Volunteer], list[dict]]:
    """Who can be chosen for an attempt in this operation on `on`, and why each other active volunteer of the
    operation's authority cannot (no consent, consent withdrawn or later than the date, too old or too young on the
    day: brief 2.2). Reasons never give a date of birth or an exact age."""
    from ..rules import volunteers as volunteer_rules
    from ..settings import volunteer_age_range

    op = db.session.get(Operation, operation_id) if operation_id else None
    if op is None:
        return [], []
    consents = {c.volunteer_id: c for c in db.session.scalars(
        sa.select(VolunteerConsent).where(VolunteerConsent.operation_id == op.id))}
    volunteers = db.session.scalars(
        sa.select(Volunteer).where(Volunteer.active.is_(True), sa.or_(
            Volunteer.authority_id == op.authority_id, Volunteer.id.in_(consents or {0})))
        .order_by(Volunteer.code_name)).all()
    age_range = volunteer_age_range(op.authority_id)
    available, missing = [], []
    for volunteer in volunteers:
        consent = consents.get(volunteer.id)
        reason = None
        if consent is None:
            reason = "no parental consent for this operation"
        elif consent.withdrawn:
            reason = "consent withdrawn"
        elif on is not None and consent.given_on > on:
            reason = f"consent given after {on:%d %b %Y}"
        elif on is not None and volunteer_rules.age_problem(volunteer.date_of_birth, on, age_range):
            too_old = (volunteer.age_on(on) >= volunteer_rules.LEGAL_AGE
                       or on > volunteer_rules.latest_attempt_date(volunteer.date_of_birth))
            reason = (f"too old on {on:%d %b %Y} (the code of practice needs 18 months under 18)" if too_old
                      else f"outside this authority's ages ({age_range[0]} to {age_range[1]}) on {on:%d %b %Y}")
        if reason is None:
            available.append(volunteer)
        else:
            missing.append({"code_name": volunteer.code_name, "reason": reason})
    return available, missing


def operations_this_week(today: date | None = None, limit: int = 10) -> list[Operation]:
    """The authority's operations running today, then those starting within a week (the home page's panel): one
    indexed query over the week, not the pick-list's two lists of thirty."""
    today = today or today_london()
    own = Operation.authority_id == current_authority_id() if current_authority_id() else sa.true()
    return db.session.scalars(
        sa.select(Operation).options(sa.orm.noload(Operation.shared_with))
        .where(Operation.starts_on <= today + timedelta(days=7), Operation.ends_on >= today,
               Operation.starts_on >= today - timedelta(days=366), own)
        .order_by(sa.case((Operation.starts_on <= today, 0), else_=1), Operation.starts_on.desc(), Operation.id)
        .limit(limit)).all()


def current_operations(today: date | None = None) -> list[Operation]:
    """Operations running today first, then the most recent ones, for the 'operation' pick-list."""
    today = today or today_london()
    # Two index scans rather than one sort over every operation ever held.
    # Only the authority's own operations: a neighbour can read a Met operation shared with it, not log into it.
    own = Operation.authority_id == current_authority_id() if current_authority_id() else sa.true()
    running = db.session.scalars(
        sa.select(Operation).where(Operation.starts_on <= today, Operation.ends_on >= today,
                                   Operation.starts_on >= today - timedelta(days=366), own)
        .order_by(Operation.starts_on.desc()).limit(30)).all()
    recent = db.session.scalars(
        sa.select(Operation).where(Operation.starts_on <= today + timedelta(days=7), own)
        .order_by(Operation.starts_on.desc()).limit(30)).all()
    seen = {op.id for op in running}
    return (running + [op for op in recent if op.id not in seen])[:30]
