"""The append-only audit log and the double-submit guard."""
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """One create/update/delete of one record, with field-level before/after. Never updated or deleted."""

    __tablename__ = "audit_entry"
    __table_args__ = (sa.Index("ix_audit_entry_record", "record_type", "record_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    user_id: Mapped[Optional[int]] = mapped_column(sa.Integer)  # no FK: the log outlives anything
    actor: Mapped[str] = mapped_column(sa.String(254), nullable=False)  # email, or "cli:…"/"system"
    action: Mapped[str] = mapped_column(sa.String(16), nullable=False)  # create / update / delete / event
    record_type: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    record_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    changes: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)  # {field: [before, after]}
    reason: Mapped[Optional[str]] = mapped_column(sa.Text)


class FormSubmission(db.Model):
    """A form's one-time token, so a double tap or a resent POST creates one record, not two."""

    __tablename__ = "form_submission"

    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[Optional[int]] = mapped_column(sa.Integer)
    record_type: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    record_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
