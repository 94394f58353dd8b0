"""The audit log: every create/update/delete of an audited record is written with who, when and what changed.

It hooks SQLAlchemy's flush, so no code path (form, CSV import, CLI) can change an audited record without a trace.
Rows are written with Core inserts inside the same transaction: if the change rolls back, so does its audit entry.
"""
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import PASSIVE_NO_INITIALIZE, get_history

from .extensions import db
from .models.audit import AuditEntry
from .timeutil import utcnow

_cli_actor: list[str] = []


def _jsonable(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def current_actor() -> tuple[int | None, str]:
    """(user id, label) of whoever is making the change: the signed-in user, or the CLI/system actor."""
    if has_request_context():
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            return current_user.id, current_user.email
        return None, "anonymous"
    if _cli_actor:
        return None, _cli_actor[-1]
    return None, "system"


@contextmanager
def acting_as(label: str):
    """Attribute changes made outside a request (CLI, scheduler) to a named actor, e.g. 'cli:import-register'."""
    _cli_actor.append(label)
    try:
        yield
    finally:
        _cli_actor.pop()


def set_reason(reason: str | None) -> None:
    """A short 'why' stored with the audit entries of the current request (amendments, decisions)."""
    if has_request_context():
        g.audit_reason = reason
    else:
        db.session.info["audit_reason"] = reason


def _reason(session: Session) -> str | None:
    if has_request_context() and getattr(g, "audit_reason", None):
        return g.audit_reason
    return session.info.get("audit_reason")


def _columns(obj):
    mapper = inspect(obj).mapper
    exclude = getattr(obj, "__audit_exclude__", frozenset())
    return [attr for attr in mapper.column_attrs if attr.key not in exclude]


def _changes_for(obj, action: str) -> dict:
    changes = {}
    for attr in _columns(obj):
        if action == "create":  # a new record's values; no history to read
            value = getattr(obj, attr.key)
            if value not in (None, "", [], {}):
                changes[attr.key] = [None, _jsonable(value)]
            continue
        # get_history, not inspect(obj).attrs[key].history: `attrs` builds a dict of every attribute on each
        # access, which was a tenth of a 50,000-row import (issue 14).
        hist = get_history(obj, attr.key, passive=PASSIVE_NO_INITIALIZE)
        if action == "delete":
            value = hist.unchanged[0] if hist.unchanged else (hist.deleted[0] if hist.deleted else None)
            changes[attr.key] = [_jsonable(value), None]
        elif hist.has_changes():
            before = hist.deleted[0] if hist.deleted else None
            after = hist.added[0] if hist.added else None
            if _jsonable(before) != _jsonable(after):
                changes[attr.key] = [_jsonable(before), _jsonable(after)]
    for key, field in getattr(obj, "__audit_collections__", {}).items():
        hist = get_history(obj, key, passive=PASSIVE_NO_INITIALIZE)
        if hist.added or hist.deleted or action != "update":
            after = sorted(getattr(item, field) for item in (hist.unchanged or ()) + tuple(hist.added or ()))
            before = sorted(getattr(item, field) for item in (hist.unchanged or ()) + tuple(hist.deleted or ()))
            if before != after or (action == "create" and after):
                changes[key.removesuffix("_rows")] = [before if action != "create" else None, after]
    return changes


# What the append-only log shows in place of a personal value: the change is recorded, the value is held apart.
PERSONAL_MARK = "(personal, held apart)"


def personal_fields_by_type() -> dict[str, frozenset]:
    """Every audited model's declared personal fields, by record type (the class name the log uses)."""
    return {mapper.class_.__name__: mapper.class_.__audit_personal__ for mapper in db.Model.registry.mappers
            if getattr(mapper.class_, "__audited__", False) and getattr(mapper.class_, "__audit_personal__", None)}


def split_personal(fields, changes: dict) -> tuple[dict, dict]:
    """(changes for the append-only log with personal values masked, the personal values to hold apart)."""
    if not fields:
        return changes, {}
    public, personal = {}, {}
    for key, (before, after) in changes.items():
        if key in fields:
            personal[key] = [before, after]
            public[key] = [None if before in (None, "") else PERSONAL_MARK,
                           None if after in (None, "") else PERSONAL_MARK]
        else:
            public[key] = [before, after]
    return public, personal


def record_event(record_type: str, record_id: int, description: str, changes: dict | None = None) -> None:
    """Write an explicit event (e.g. 'letter sent', 'status changed') to the audit log."""
    user_id, actor = current_actor()
    db.session.add(AuditEntry(
        at=utcnow(), user_id=user_id, actor=actor, action="event", record_type=record_type,
        record_id=record_id, changes=changes or {}, reason=description,
    ))


@event.listens_for(Session, "before_flush")
def _collect(session: Session, flush_context, instances) -> None:
    # Deleted objects lose their state during the flush, so capture them now.
    pending = session.info.setdefault("audit_deleted", [])
    for obj in session.deleted:
        if getattr(obj, "__audited__", False):
            # A deleted record's personal values are not copied anywhere: it is going, and so should they.
            changes, _personal = split_personal(obj.__audit_personal__, _changes_for(obj, "delete"))
            pending.append((type(obj).__name__, obj.id, changes))
    # Created/updated objects are captured after the flush, when new ones have their ids.


@event.listens_for(Session, "after_flush")
def _write(session: Session, flush_context) -> None:
    rows = []
    user_id, actor = current_actor()
    reason = _reason(session)
    now = utcnow()
    personal = []  # (index in rows, owner, values)
    for obj in session.new:
        if getattr(obj, "__audited__", False):
            changes, held = split_personal(obj.__audit_personal__, _changes_for(obj, "create"))
            if held:
                personal.append((len(rows), getattr(obj, "authority_id", None), held))
            rows.append(("create", type(obj).__name__, obj.id, changes))
    for obj in session.dirty:
        if getattr(obj, "__audited__", False) and session.is_modified(obj, include_collections=True):
            changes, held = split_personal(obj.__audit_personal__, _changes_for(obj, "update"))
            if changes:
                if held:
                    personal.append((len(rows), getattr(obj, "authority_id", None), held))
                rows.append(("update", type(obj).__name__, obj.id, changes))
    for record_type, record_id, changes in session.info.pop("audit_deleted", []):
        rows.append(("delete", record_type, record_id, changes))
    if rows:
        insert = sa.insert(AuditEntry.__table__)
        if personal:
            insert = insert.returning(AuditEntry.__table__.c.id, sort_by_parameter_order=True)
        result = session.connection().execute(
            insert,
            [dict(at=now, user_id=user_id, actor=actor, action=action, record_type=record_type,
                  record_id=record_id, changes=changes, reason=reason)
             for action, record_type, record_id, changes in rows],
        )
        if personal:
            from .models.retention import AuditPersonal

            ids = result.scalars().all()
            session.connection().execute(sa.insert(AuditPersonal.__table__), [
                dict(audit_entry_id=ids[i], authority_id=owner, record_type=rows[i][1], record_id=rows[i][2],
                     changes=held) for i, owner, held in personal])


def history(record_type: str, record_id: int) -> list[AuditEntry]:
    """The audit entries of one record, newest first."""
    return db.session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.record_type == record_type, AuditEntry.record_id == record_id)
        .order_by(AuditEntry.id.desc())
    ).all()
