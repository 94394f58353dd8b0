"""The staff daily digest: what each officer's home page would show them (retests due, monitor findings, notices
and letters to send), as counts in an email queued once a day. Counts only: never a name from a panel, so no
volunteer's code name and no business detail leaves the app by email."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from ..access import STAFF
from ..extensions import db
from ..home import staff_panels
from ..models.accounts import User
from ..scoping import acting_for, scope_for
from ..settings import all_settings
from ..timeutil import today_london
from . import week_letters
from .outbox import queue


def _label(key: str) -> str:
    return key.removesuffix("_count").replace("_", " ")


def digest_text(user) -> str:
    """The digest for `user`, read under their own scope (their authority's records only)."""
    lines = []
    with acting_for(scope_for(user)):
        letters = len(week_letters())
        for panel in staff_panels(user):
            numbers = [f"{_label(key)}: {value}" for key, value in panel.items()
                       if isinstance(value, int) and not isinstance(value, bool) and key != "order"]
            if numbers:
                lines.append(f"- {panel['title']}: " + ", ".join(numbers))
        settings = all_settings(user.authority_id)
    base = current_app.config.get("RETAIL_PUBLIC_URL") or settings["contact_url"]
    return (f"Good morning {user.name or user.email},\n\nYour home page today ({today_london():%d %B %Y}):\n"
            f"- Letters waiting to be sent: {letters}\n" + "\n".join(lines) +
            f"\n\nOpen the tracker for the details: {base}\n")


def queue_staff_digests() -> int:
    """One digest per active member of staff per day (queued once, however often this runs)."""
    users = db.session.scalars(sa.select(User).where(User.active.is_(True), User.role.in_([r.value for r in STAFF]))
                               .execution_options(unscoped=True)).all()
    today = today_london()
    queued = 0
    for user in users:
        if not user.email:
            continue
        if queue(f"digest:{user.id}:{today.isoformat()}", user.email, f"Your day in the tracker: {today:%d %B %Y}",
                 digest_text(user), authority_id=user.authority_id, user_id=user.id):
            queued += 1
    return queued
