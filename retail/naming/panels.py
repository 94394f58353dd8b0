"""What naming adds to other pages, registered on import: the portal section, the home panel, the timeline."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models.compliance import RETAILER_STATUSES, ComplianceScore, NamingCase
from ..timeutil import today_london
from .queries import retailer_cases, waiting_for
from .rules import PROPOSERS


def portal_section(user) -> dict | None:
    if getattr(user, "business_id", None) is None:
        return None
    cases = retailer_cases(user.business_id)
    if not cases:
        return None
    return {"id": "naming", "order": 1, "title": "Notice of intended naming",
            "template": "naming/_portal_section.html", "cases": cases, "today": today_london()}


def _register_portal_section() -> None:
    from .. import portal

    if portal_section not in portal.PORTAL_SECTIONS:
        portal.PORTAL_SECTIONS.append(portal_section)


_register_portal_section()  # nightly_expire is run by the scheduler, which lists it in its NIGHTLY_JOBS


def _home_panel(user) -> dict | None:
    if user.role not in PROPOSERS:
        return None
    waiting = waiting_for(user)
    candidates = db.session.scalar(sa.select(sa.func.count()).select_from(ComplianceScore).where(
        ComplianceScore.current.is_(True), ComplianceScore.candidate.is_(True)))
    if not candidates and not any(waiting.values()):
        return None
    return {"title": "Naming", "template": "naming/_home_panel.html", "waiting": waiting, "candidates": candidates}


def _register_home_panel() -> None:
    from ..home import PANEL_PROVIDERS

    if _home_panel not in PANEL_PROVIDERS:
        PANEL_PROVIDERS.append(_home_panel)


_register_home_panel()


def _timeline(business, viewer) -> list:
    """Naming steps on the business timeline; a retailer sees only what follows the notice sent to them."""
    from flask import url_for

    from ..timeline import TimelineEvent

    staff = viewer is None or getattr(viewer, "is_staff", False)
    cases = db.session.scalars(sa.select(NamingCase).options(selectinload(NamingCase.steps))
                               .where(NamingCase.business_id == business.id)).all()
    events = []
    tones = {"published": "danger", "no action": "success", "removed early": "success", "expired": "secondary"}
    for case in cases:
        if not staff and case.status not in RETAILER_STATUSES:
            continue
        url = url_for("naming.case_view", case_id=case.id) if staff else url_for("naming.my_case", case_id=case.id)
        for step in case.steps:
            if not staff and step.action in ("opened", "proposed", "statement revised", "approved for notice",
                                             "reply rejected"):
                continue
            events.append(TimelineEvent(when=step.at, kind="naming", title=f"Naming: {step.action}",
                                        detail=step.reason if staff else "", url=url,
                                        tone=tones.get(step.action, "warning")))
    return events


def _register_timeline() -> None:
    from ..timeline import TIMELINE_PROVIDERS

    if _timeline not in TIMELINE_PROVIDERS:
        TIMELINE_PROVIDERS.append(_timeline)


_register_timeline()
