"""The retailer portal: what a retailer sees about their own business, built from sections other areas can add.

A section provider takes the signed-in retailer and returns {"id", "title", "template", "order", ...context} or None.
Register one with `@portal_section`. Sections sharing an "id" replace each other (the last registered wins), so an
area can take over a section this module provides as a fallback (e.g. "purchases").

Every lookup here is scoped to the user's business: a record of another business is "not found" (404).
"""
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from flask import abort, current_app
from sqlalchemy.orm import selectinload

from . import training as tr
from .extensions import db
from .models.register import RraSignature
from .models.training import (
    InvitationResponse,
    TrainingAttendance,
    TrainingInvitation,
    TrainingSession,
)
from .settings import get_setting
from .timeline import business_timeline
from .timeutil import today_london

from .purchases import retailer_results

PORTAL_SECTIONS: list[Callable] = []


def portal_section(func: Callable) -> Callable:
    PORTAL_SECTIONS.append(func)
    return func


def portal_sections(user) -> list[dict]:
    by_id: dict[str, dict] = {}
    anonymous = []
    for provider in PORTAL_SECTIONS:
        section = provider(user)
        if not section:
            continue
        if section.get("id"):
            by_id[section["id"]] = section
        else:
            anonymous.append(section)
    return sorted([*by_id.values(), *anonymous], key=lambda s: s.get("order", 50))


# --- own-business lookups (404 for anything else) -------------------------------------------------------------

def own_record(user, model, record_id: int):
    record = db.session.get(model, record_id)
    if record is None or user.business_id is None or record.business_id != user.business_id:
        abort(404)
    return record


def premises_rra(business_id: int) -> dict[int, dict]:
    """For each shop of the business: the agreement covering it (active first) with its review date."""
    rank = {"active": 3, "suspended": 2, "withdrawn": 1}
    signatures = db.session.scalars(
        sa.select(RraSignature).options(selectinload(RraSignature.premises))
        .where(RraSignature.business_id == business_id)).all()
    out: dict[int, dict] = {}
    for signature in signatures:
        for premises in signature.premises:
            current = out.get(premises.id)
            if current is None or rank[signature.status.value] > rank[current["status"]]:
                out[premises.id] = {"status": signature.status.value, "review_due": signature.review_due,
                                    "signed_on": signature.signed_on, "scheme": signature.scheme_label}
    return out


def open_invitations(business_id: int) -> list[TrainingInvitation]:
    return db.session.scalars(
        sa.select(TrainingInvitation).options(selectinload(TrainingInvitation.premises),
                                              selectinload(TrainingInvitation.session)
                                              .selectinload(TrainingSession.course))
        .where(TrainingInvitation.business_id == business_id,
               TrainingInvitation.response.in_([InvitationResponse.PENDING, InvitationResponse.NO_RESPONSE]))
        .order_by(TrainingInvitation.deadline)).all()


# --- the sections this module provides ---------------------------------------------------------------------------

@portal_section
def shops_section(user) -> dict | None:
    business = user.business
    if business is None:
        return None
    return {"id": "shops", "order": 10, "title": "Your shops and the Responsible Retailers Agreement",
            "template": "portal/_shops.html", "business": business, "rra": premises_rra(business.id)}


@portal_section
def training_section(user) -> dict | None:
    if user.business_id is None:
        return None
    today = today_london()
    status = tr.training_status(user.business_id, today)
    premises = {p.id: p for p in user.business.premises}
    expiring = db.session.scalars(tr.expiring_certificates_query(today, business_id=user.business_id)).all()
    certificates = db.session.scalars(
        sa.select(TrainingAttendance).where(TrainingAttendance.business_id == user.business_id,
                                            TrainingAttendance.passed.is_(True),
                                            TrainingAttendance.certificate_expires >= today - timedelta(days=365))
        .order_by(TrainingAttendance.certificate_expires.desc())).all()
    return {"id": "training", "order": 20, "title": "Staff training", "template": "portal/_training.html",
            "status": status, "premises": premises, "expiring": expiring, "certificates": certificates,
            "today": today}


@portal_section
def invitations_section(user) -> dict | None:
    if user.business_id is None:
        return None
    open_ = open_invitations(user.business_id)
    answered = db.session.scalars(
        sa.select(TrainingInvitation).options(selectinload(TrainingInvitation.session))
        .where(TrainingInvitation.business_id == user.business_id,
               TrainingInvitation.response.in_([InvitationResponse.ACCEPTED, InvitationResponse.DECLINED]))
        .order_by(TrainingInvitation.id.desc()).limit(20)).all()
    return {"id": "invitations", "order": 5 if open_ else 30, "title": "Training invitations",
            "template": "portal/_invitations.html", "open": open_, "answered": answered}


@portal_section
def purchases_section(user) -> dict | None:
    """Fallback: test purchase results from retail.purchases, when that area is installed."""
    if user.business_id is None:
        return None
    results = retailer_results(user.business_id)
    letter_endpoint = "purchases.my_letter" if "purchases.my_letter" in current_app.view_functions else None
    return {"id": "purchases", "order": 40, "title": "Test purchase results", "template": "portal/_purchases.html",
            "results": results, "letter_endpoint": letter_endpoint}


@portal_section
def timeline_section(user) -> dict | None:
    if user.business is None:
        return None
    return {"id": "timeline", "order": 90, "title": "History", "template": "portal/_timeline.html",
            "events": business_timeline(user.business, user, limit=50)}


def authority() -> dict:
    return {"name": get_setting("authority_name"), "phone": get_setting("letterhead_phone"),
            "email": get_setting("letterhead_email")}
