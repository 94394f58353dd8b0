"""Advice visits: recording one (every problem found in one pass), the business timeline and the retailer's view.

The first step of the officer's journey (users.md): a visit to a shop, what was checked, the advice left with the
business and when to come back. The advice is the business's to read (portal, printed record); the officer's notes
are not. Advice followed by a sale on the same point counts as "advice ignored" in the score (retail.scoring).
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import url_for

from .extensions import db
from .models.register import Premises, PremisesStatus
from .models.visits import CHECKS, AdviceVisit, CheckResult, RraOnVisit
from .purchases.errors import PurchaseError, PurchaseErrors
from .register import check_version
from .timeline import TimelineEvent, timeline_provider
from .timeutil import add_months, today_london

VISIT_FIELDS = ("visited_on", "person_seen", "person_role", *CHECKS, "staff_trained_on", "rra", "advice_given",
                "photo_refs", "next_visit_due", "officer_notes")
# With no date given, come back sooner where advice was needed (brief 2.1: advice before a test, targeting on
# evidence); a shop with everything in place waits a year.
NEXT_VISIT_MONTHS_AFTER_ADVICE = 3
NEXT_VISIT_MONTHS_ALL_IN_PLACE = 12


class VisitProblem(PurchaseError):
    """A rule the visit entry breaks, shown next to `field`."""


def _choice(enum, value, field: str, what: str):
    """One of the form's own answers; anything else (a tampered or garbled post) is refused next to the field."""
    try:
        return enum(value)
    except ValueError:
        raise VisitProblem(f"Choose one of the answers for {what}.", field) from None


def _clean(data: dict) -> dict:
    out = {}
    for name in VISIT_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if isinstance(value, str):
            value = value.strip()
        if name in CHECKS:
            value = _choice(CheckResult, value or CheckResult.NOT_CHECKED, name, f"what you found: {CHECKS[name]}")
        elif name == "rra":
            value = _choice(RraOnVisit, value or RraOnVisit.NOT_OFFERED, name, "what happened about the agreement")
        elif value is None and name not in ("visited_on", "staff_trained_on", "next_visit_due"):
            value = ""
        out[name] = value
    return out


def check_visit(data: dict, premises: Premises | None, today: date | None = None) -> None:
    """Every broken rule at once, so an officer on a phone fixes them all in one round trip."""
    today = today or today_london()
    errors: list[VisitProblem] = []
    if premises is None:
        errors.append(VisitProblem("Choose the shop you visited.", "premises_query"))
    elif premises.status == PremisesStatus.CLOSED:
        errors.append(VisitProblem("This shop is recorded as closed: reopen it in the register first.",
                                   "premises_query"))
    visited = data.get("visited_on")
    if visited is None:
        errors.append(VisitProblem("Enter the date of the visit.", "visited_on"))
    elif visited > today:
        errors.append(VisitProblem("The visit date cannot be in the future.", "visited_on"))
    if not data.get("person_seen"):
        errors.append(VisitProblem("Enter who you saw (a name, or 'manager on duty').", "person_seen"))
    trained = data.get("staff_trained_on")
    if trained and visited and trained > visited:
        errors.append(VisitProblem("Staff cannot have been trained after the visit.", "staff_trained_on"))
    due = data.get("next_visit_due")
    if due and visited and due <= visited:
        errors.append(VisitProblem("The next visit must be after this one.", "next_visit_due"))
    advised = [label for name, label in CHECKS.items() if data.get(name) == CheckResult.ADVICE]
    if advised and not data.get("advice_given"):
        errors.append(VisitProblem("Write the advice you gave on: " + ", ".join(advised).lower() + ".",
                                   "advice_given"))
    if errors:
        raise PurchaseErrors(errors) if len(errors) > 1 else errors[0]


def _default_next_visit(visit: AdviceVisit) -> date:
    months = NEXT_VISIT_MONTHS_AFTER_ADVICE if visit.advice_points else NEXT_VISIT_MONTHS_ALL_IN_PLACE
    return add_months(visit.visited_on, months)


def record_visit(premises: Premises | None, data: dict, officer=None) -> AdviceVisit:
    clean = _clean(data)
    check_visit(clean, premises)
    visit = AdviceVisit(business_id=premises.business_id, premises_id=premises.id,
                        officer_id=getattr(officer, "id", None),
                        officer_name=(getattr(officer, "name", "") or getattr(officer, "email", "") or "")[:120])
    for name, value in clean.items():
        setattr(visit, name, value)
    if visit.next_visit_due is None:
        visit.next_visit_due = _default_next_visit(visit)
    db.session.add(visit)
    db.session.flush()
    return visit


def update_visit(visit: AdviceVisit, data: dict, version=None) -> AdviceVisit:
    """Correct a visit record; the audit log keeps what it said before."""
    check_version(visit, version)
    clean = _clean(data)
    check_visit(clean, visit.premises)
    for name, value in clean.items():
        setattr(visit, name, value)
    if visit.next_visit_due is None:
        visit.next_visit_due = _default_next_visit(visit)
    db.session.flush()
    return visit


# The list's order, newest first, for keyset paging
LIST_ORDER = ((AdviceVisit.visited_on, True), (AdviceVisit.id, True))


def visits_query(premises_id: int | None = None, business_id: int | None = None):
    query = sa.select(AdviceVisit).order_by(AdviceVisit.visited_on.desc(), AdviceVisit.id.desc())
    if premises_id:
        query = query.where(AdviceVisit.premises_id == premises_id)
    if business_id:
        query = query.where(AdviceVisit.business_id == business_id)
    return query


def latest_visit(premises_id: int) -> AdviceVisit | None:
    return db.session.scalar(visits_query(premises_id=premises_id).limit(1))


# --- the business timeline and record pages ------------------------------------------------------------------------

@timeline_provider
def visit_events(business, viewer) -> list[TimelineEvent]:
    staff = viewer is None or viewer.is_staff
    out = []
    for visit in db.session.scalars(visits_query(business_id=business.id).limit(100)):
        points = visit.advice_points
        # The business reads the advice it was given, never the officer's notes.
        detail = (f"{visit.premises.name}: advice on " + ", ".join(points).lower()) if points \
            else f"{visit.premises.name}: everything checked was in place"
        url = url_for("visits.view", visit_id=visit.id) if staff else url_for("visits.record", visit_id=visit.id)
        out.append(TimelineEvent(visit.visited_on, "visit", "Advice visit", detail, url,
                                 "warning" if points else "success"))
    return out


def premises_section(premises, viewer) -> dict | None:
    if viewer is not None and not viewer.is_staff:
        return None
    visits = db.session.scalars(visits_query(premises_id=premises.id).limit(10)).all()
    return {"title": "Advice visits", "template": "visits/_premises_section.html", "premises": premises,
            "visits": visits}


def portal_section(user) -> dict | None:
    if user.business_id is None:
        return None
    visits = db.session.scalars(visits_query(business_id=user.business_id).limit(20)).all()
    if not visits:
        return None
    return {"id": "visits", "order": 35, "title": "Advice from our visits", "template": "visits/_portal_section.html",
            "visits": visits}


def _register_sections() -> None:
    from . import portal, register

    if premises_section not in register.PREMISES_SECTIONS:
        register.PREMISES_SECTIONS.append(premises_section)
    if portal_section not in portal.PORTAL_SECTIONS:
        portal.PORTAL_SECTIONS.append(portal_section)


_register_sections()
