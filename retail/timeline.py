"""The business timeline: every area adds its events (test purchases, letters, training, RRA) through a provider."""
from dataclasses import dataclass
from datetime import date, datetime
from collections.abc import Callable

import sqlalchemy as sa

from .extensions import db
from .models.register import RraSignature, RraStatusEvent


@dataclass
class TimelineEvent:
    when: date | datetime
    kind: str  # short machine word: "rra", "test-purchase", "letter", "training", "action", ...
    title: str
    detail: str = ""
    url: str | None = None
    tone: str = "secondary"  # bootstrap colour: success / danger / warning / secondary
    # Shown instead of the date when the viewer may only know a period ("during March 2026"); `when` still sorts.
    when_label: str = ""

    @property
    def sort_key(self):
        value = self.when
        if isinstance(value, datetime):
            return (value.date(), value.timestamp())
        return (value, 0)


# Providers take (business, viewer) and return a list of TimelineEvent. Each area registers its own.
TIMELINE_PROVIDERS: list[Callable] = []


def timeline_provider(func: Callable) -> Callable:
    TIMELINE_PROVIDERS.append(func)
    return func


def business_timeline(business, viewer=None, limit: int = 200) -> list[TimelineEvent]:
    events: list[TimelineEvent] = []
    for provider in TIMELINE_PROVIDERS:
        events.extend(provider(business, viewer))
    events.sort(key=lambda e: e.sort_key, reverse=True)
    return events[:limit]


@timeline_provider
def rra_events(business, viewer) -> list[TimelineEvent]:
    from flask import url_for

    rows = db.session.execute(
        sa.select(RraStatusEvent, RraSignature)
        .join(RraSignature, RraStatusEvent.signature_id == RraSignature.id)
        .where(RraSignature.business_id == business.id)
    ).all()
    tones = {"active": "success", "suspended": "warning", "withdrawn": "danger"}
    out = []
    for event, signature in rows:
        title = {"active": "Responsible Retailers Agreement signed" if event.reason == "Signed"
                 else "Agreement reinstated", "suspended": "Agreement suspended",
                 "withdrawn": "Agreement withdrawn"}[event.status.value]
        out.append(TimelineEvent(
            when=event.on, kind="rra", title=title,
            detail=f"{signature.scheme_label}" + (f": {event.reason}" if event.reason not in ("Signed", "") else ""),
            url=url_for("register.rra_view", signature_id=signature.id) if viewer is None or viewer.is_staff
            else None, tone=tones[event.status.value]))
    return out
