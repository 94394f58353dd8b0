"""Accredited trader training: courses, sessions, invitations (visit then letter), attendance, and refusals.

A refusal (an invitation declined, or a no-show after accepting) is a row of its own in `training_refusal`, so the
compliance score can count them in SQL by business, premises and date without reading invitations or attendance.
"""
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow
from .base import Audited, OwnedByAuthority, Timestamps, Versioned, enum_column
from .register import Business, Premises


class TrainingCourse(Audited, Versioned, Timestamps, db.Model):
    __tablename__ = "training_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    provider: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    # Croydon's course lasts two and a half hours with an exam at the end.
    duration_minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=150)
    has_exam: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    pass_mark: Mapped[int | None] = mapped_column(sa.Integer, default=70)  # percent; None when no exam
    validity_months: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=12)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)

    sessions: Mapped[list["TrainingSession"]] = relationship(back_populates="course",
                                                             order_by="TrainingSession.starts_at.desc()")

    @property
    def duration_label(self) -> str:
        hours, minutes = divmod(self.duration_minutes, 60)
        if minutes == 0:
            return f"{hours} hour{'s' if hours != 1 else ''}"
        if minutes == 30:
            return f"{hours}½ hours" if hours else "30 minutes"
        return f"{hours} h {minutes} min" if hours else f"{minutes} minutes"


class TrainingSession(OwnedByAuthority, Audited, Versioned, Timestamps, db.Model):
    __tablename__ = "training_session"
    __table_args__ = (sa.Index("ix_training_session_starts_at", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("training_course.id"), nullable=False, index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    venue: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    trainer: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    capacity: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=20)
    cancelled: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    course: Mapped[TrainingCourse] = relationship(back_populates="sessions")
    attendances: Mapped[list["TrainingAttendance"]] = relationship(
        back_populates="session", order_by="TrainingAttendance.person_name")


class InvitationResponse(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    NO_RESPONSE = "no-response"  # the deadline passed without an answer (not a refusal)


RESPONSE_LABELS = {
    InvitationResponse.PENDING: "Awaiting reply",
    InvitationResponse.ACCEPTED: "Accepted",
    InvitationResponse.DECLINED: "Declined",
    InvitationResponse.NO_RESPONSE: "No response by the deadline",
}


class TrainingInvitation(Audited, Versioned, Timestamps, db.Model):
    """A personal invitation: an officer's visit first, then a letter confirming the place (both recorded)."""

    __tablename__ = "training_invitation"
    __table_args__ = (
        sa.Index("ix_training_invitation_business", "business_id", "response"),
        sa.Index("ix_training_invitation_response_deadline", "response", "deadline"),
        sa.Index("ix_training_invitation_letter", "letter_sent_on", "visited_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(sa.ForeignKey("business.id"), nullable=False)
    premises_id: Mapped[int | None] = mapped_column(sa.ForeignKey("premises.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("training_session.id"), index=True)
    visited_on: Mapped[date | None] = mapped_column(sa.Date)
    visit_officer: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    letter_sent_on: Mapped[date | None] = mapped_column(sa.Date)
    letter_sent_by: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    deadline: Mapped[date] = mapped_column(sa.Date, nullable=False)
    places: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    response: Mapped[InvitationResponse] = mapped_column(
        enum_column(InvitationResponse, name="invitation_response"), nullable=False,
        default=InvitationResponse.PENDING)
    responded_on: Mapped[date | None] = mapped_column(sa.Date)
    responded_by: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    decline_reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    business: Mapped[Business] = relationship()
    premises: Mapped[Premises | None] = relationship()
    session: Mapped[TrainingSession | None] = relationship()

    @property
    def response_label(self) -> str:
        return RESPONSE_LABELS[self.response]

    @property
    def is_open(self) -> bool:
        return self.response == InvitationResponse.PENDING


class AttendanceStatus(StrEnum):
    BOOKED = "booked"
    ATTENDED = "attended"
    NO_SHOW = "no-show"


class TrainingAttendance(Audited, Versioned, Timestamps, db.Model):
    """One person's place on a session and its result; a pass issues a certificate valid for the course's term."""

    __tablename__ = "training_attendance"
    __table_args__ = (
        sa.Index("ix_training_attendance_premises_expiry", "premises_id", "certificate_expires"),
        sa.Index("ix_training_attendance_business_expiry", "business_id", "certificate_expires"),
        sa.Index("ix_training_attendance_expiry", "certificate_expires"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("training_session.id"), nullable=False, index=True)
    invitation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("training_invitation.id"), index=True)
    business_id: Mapped[int] = mapped_column(sa.ForeignKey("business.id"), nullable=False)
    premises_id: Mapped[int | None] = mapped_column(sa.ForeignKey("premises.id"))
    person_name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    person_role: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    status: Mapped[AttendanceStatus] = mapped_column(enum_column(AttendanceStatus, name="attendance_status"),
                                                     nullable=False, default=AttendanceStatus.BOOKED)
    exam_score: Mapped[int | None] = mapped_column(sa.Integer)
    passed: Mapped[bool | None] = mapped_column(sa.Boolean)
    certificate_number: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    certificate_expires: Mapped[date | None] = mapped_column(sa.Date)

    session: Mapped[TrainingSession] = relationship(back_populates="attendances")
    invitation: Mapped[TrainingInvitation | None] = relationship()
    business: Mapped[Business] = relationship()
    premises: Mapped[Premises | None] = relationship()


class RefusalKind(StrEnum):
    DECLINED = "declined"
    NO_SHOW = "no-show"


class TrainingRefusal(Audited, db.Model):
    """A business refusing training: an invitation declined, or a no-show after accepting. Counted by the score.

    One row per invitation (however many of its staff failed to come); a no-show booked without an invitation
    gets one row per attendance.
    """

    __tablename__ = "training_refusal"
    __table_args__ = (
        sa.Index("ix_training_refusal_business_on", "business_id", "refused_on"),
        sa.Index("ix_training_refusal_premises_on", "premises_id", "refused_on"),
        sa.UniqueConstraint("invitation_id", name="uq_training_refusal_invitation_id"),
        sa.UniqueConstraint("attendance_id", name="uq_training_refusal_attendance_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(sa.ForeignKey("business.id"), nullable=False)
    premises_id: Mapped[int | None] = mapped_column(sa.ForeignKey("premises.id"))
    refused_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    kind: Mapped[RefusalKind] = mapped_column(enum_column(RefusalKind, name="refusal_kind"), nullable=False)
    invitation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("training_invitation.id"))
    attendance_id: Mapped[int | None] = mapped_column(sa.ForeignKey("training_attendance.id"))
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    recorded_by: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    invitation: Mapped[TrainingInvitation | None] = relationship()
