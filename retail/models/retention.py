"""Children's data protection and retention: personal fields held apart from the append-only audit log, the log of
who viewed a volunteer's personal details, and the retention job's runs with what they removed."""
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow


class AuditPersonal(db.Model):
    """The personal values (a date of birth, welfare notes...) of one audit entry. The audit entry itself only says
    that the field changed, so erasing these rows erases the personal data while the log keeps that a change
    happened (issue 9 part 6)."""

    __tablename__ = "audit_personal"
    __table_args__ = (sa.Index("ix_audit_personal_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_entry_id: Mapped[Optional[int]] = mapped_column(sa.Integer, index=True)  # no FK: erasable on its own
    # Owner of the record the values belong to (NULL for unowned records); the row-level security rule reads it.
    authority_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("authority.id"), index=True)
    record_type: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    record_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    changes: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)  # {field: [before, after]}


class PersonalDataView(db.Model):
    """One view of a volunteer's personal details (date of birth, welfare notes, areas to avoid, consent and photo
    references) by one user: the access log a supervisor reads."""

    __tablename__ = "personal_data_view"
    __table_args__ = (sa.Index("ix_personal_data_view_authority_at", "authority_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    authority_id: Mapped[int] = mapped_column(sa.ForeignKey("authority.id"), nullable=False)
    user_id: Mapped[Optional[int]] = mapped_column(sa.Integer)  # no FK: the log outlives accounts
    actor: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    volunteer_id: Mapped[int] = mapped_column(sa.Integer, nullable=False, index=True)  # no FK: outlives erasure
    code_name: Mapped[str] = mapped_column(sa.String(40), nullable=False, default="")
    page: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")


class RetentionRun(db.Model):
    """One run of the retention schedule (nightly or by hand), with what it removed per authority."""

    __tablename__ = "retention_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    as_of: Mapped[date] = mapped_column(sa.Date, nullable=False)
    dry_run: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    actor: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="system")
    # {authority_id: {"volunteers_erased": n, "volunteers_held": n, "naming_expired": n, "naming_erased": n, ...}}
    report: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)


__all__ = ["AuditPersonal", "PersonalDataView", "RetentionRun"]
