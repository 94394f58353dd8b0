"""Compliance scores (versioned rules, stored history, factor rows); naming cases with their steps and attachments."""
from datetime import date, datetime
from enum import StrEnum
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow
from .base import Audited, OwnedByAuthority, Timestamps, Versioned, enum_column


class ScoringRules(db.Model):
    """One version of the scoring weights, windows and thresholds. Never edited: a change adds a new version, with
    who saved it and why, so this table is its own audit trail (and the defaults appearing as version 1 on first
    use leave no noise in the audit log)."""

    __tablename__ = "scoring_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, unique=True)
    values: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    note: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")


class ComplianceScore(db.Model):
    """A business's score as computed at one moment. Rows are never deleted: the newest `current` row is the score,
    older rows are its trend. A recompute that changes nothing adds no row."""

    __tablename__ = "compliance_score"
    __table_args__ = (
        sa.Index("ix_compliance_score_business", "business_id", "current"),
        sa.Index("ix_compliance_score_current_band", "current", "band"),
        sa.Index("ix_compliance_score_current_candidate", "current", "candidate"),
        # The candidates page lists those held back by a pending caution or prosecution (a few hundred of 224,000)
        sa.Index("ix_compliance_score_current_pending", "current", "enforcement_pending"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(sa.ForeignKey("business.id"), nullable=False)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    computed_for: Mapped[date] = mapped_column(sa.Date, nullable=False)  # the "today" the windows were counted from
    rules_version: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    total: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    worst_points: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    worst_kind: Mapped[str] = mapped_column(sa.String(40), nullable=False, default="")
    band: Mapped[str] = mapped_column(sa.String(24), nullable=False)
    candidate: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    enforcement_pending: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    current: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(40), nullable=False, default="")
    batch: Mapped[str] = mapped_column(sa.String(32), nullable=False, default="")  # rows of one recompute

    business = relationship("Business")
    factors: Mapped[list["ScoreFactor"]] = relationship(back_populates="score", order_by="ScoreFactor.id")


class ScoreFactor(db.Model):
    """One line of a score's breakdown: the points one record contributed, and which record it was."""

    __tablename__ = "score_factor"
    __table_args__ = (sa.Index("ix_score_factor_score", "score_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(sa.ForeignKey("compliance_score.id", ondelete="CASCADE"), nullable=False)
    business_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    premises_id: Mapped[Optional[int]] = mapped_column(sa.Integer)
    online_store_id: Mapped[Optional[int]] = mapped_column(sa.Integer)
    kind: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    points: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    on: Mapped[Optional[date]] = mapped_column(sa.Date)
    record_type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    record_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    description: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="")

    score: Mapped[ComplianceScore] = relationship(back_populates="factors")

    @property
    def record(self) -> str:
        return f"{self.record_type}:{self.record_id}"


class CaseStatus(StrEnum):
    CANDIDATE = "candidate"
    PROPOSED = "proposed"
    APPROVED = "approved-for-notice"
    NOTICE_SENT = "notice-sent"
    REPRESENTATIONS = "representations-received"
    DECIDED_PUBLISH = "decided-publish"
    APPEALED = "appealed"
    NO_ACTION = "no-action"
    PUBLISHED = "published"
    REMOVED = "removed"


CASE_STATUS_LABELS = {
    CaseStatus.CANDIDATE: "Candidate (case opened)",
    CaseStatus.PROPOSED: "Proposed",
    CaseStatus.APPROVED: "Approved for notice",
    CaseStatus.NOTICE_SENT: "Notice sent",
    CaseStatus.REPRESENTATIONS: "Representations received",
    CaseStatus.DECIDED_PUBLISH: "Decided: publish",
    CaseStatus.APPEALED: "Appeal lodged",
    CaseStatus.NO_ACTION: "Decided: no action",
    CaseStatus.PUBLISHED: "Published",
    CaseStatus.REMOVED: "Removed",
}
OPEN_STATUSES = (CaseStatus.CANDIDATE, CaseStatus.PROPOSED, CaseStatus.APPROVED, CaseStatus.NOTICE_SENT,
                 CaseStatus.REPRESENTATIONS, CaseStatus.DECIDED_PUBLISH, CaseStatus.APPEALED,
                 CaseStatus.PUBLISHED)
# Stages the retailer may see (the proposal and internal approval are not shared before the notice).
RETAILER_STATUSES = (CaseStatus.NOTICE_SENT, CaseStatus.REPRESENTATIONS, CaseStatus.DECIDED_PUBLISH,
                     CaseStatus.APPEALED, CaseStatus.NO_ACTION, CaseStatus.PUBLISHED, CaseStatus.REMOVED)


class ReplyStatus(StrEnum):
    NONE = "none"
    PENDING = "pending"  # waiting for a supervisor's check for offensive content
    APPROVED = "approved"
    REJECTED = "rejected"


class NamingCase(OwnedByAuthority, Audited, Versioned, Timestamps, db.Model):
    """A proposal to name a business publicly, from proposal to removal. Only `statement` is ever published."""

    __tablename__ = "naming_case"
    __audit_exclude__ = frozenset({"created_at", "updated_at", "version"})
    # a person's email (retention: brief 5.2)
    __audit_personal__ = frozenset({"representations_by", "appeal_lodged_by"})
    __table_args__ = (
        sa.Index("ix_naming_case_business", "business_id", "status"),
        sa.Index("ix_naming_case_published", "status", "published_on", "expires_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(sa.ForeignKey("business.id"), nullable=False)
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus, name="naming_case_status"), nullable=False,
                                               default=CaseStatus.CANDIDATE)
    opened_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    # The evidence the candidate rule found when the case was opened: [{kind, date, record, description}]
    evidence: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    statement: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")  # public statement of facts only
    # The names as the supervisor approved them with the notice: a later edit of the register cannot change what the
    # public is shown outside the two-person approval (issue 9 part 3, issue 14). Empty until approved.
    published_name: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    published_legal_name: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    # The shops and websites the entry names, frozen with the names when the notice is approved (issue 9 part 3).
    published_places: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    proposed_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    proposed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    approved_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    notice_sent_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    notice_sent_on: Mapped[Optional[date]] = mapped_column(sa.Date)
    representations_due: Mapped[Optional[date]] = mapped_column(sa.Date)
    representations_text: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    representations_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    representations_by: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    decided_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    decision_reasons: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    # The appeal after a decision to publish (issue 9 part 1): nothing is published until appeal_due has passed
    # with no appeal, or a supervisor not involved in the case has refused the appeal.
    appeal_due: Mapped[Optional[date]] = mapped_column(sa.Date)
    appeal_text: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    appeal_lodged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    appeal_lodged_by: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    appeal_decided_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    appeal_decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    appeal_outcome: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="")  # allowed / refused
    appeal_reasons: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    published_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    published_on: Mapped[Optional[date]] = mapped_column(sa.Date)
    expires_on: Mapped[Optional[date]] = mapped_column(sa.Date)
    removed_on: Mapped[Optional[date]] = mapped_column(sa.Date)
    removed_reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    # Withdrawal of a published entry (an error, a quashed conviction...): asked for by one supervisor with a reason,
    # confirmed by another; withdrawn_on is what open-data re-users follow (issue 9 part 1).
    withdrawal_requested_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    withdrawal_requested_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    withdrawal_reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    withdrawn_on: Mapped[Optional[date]] = mapped_column(sa.Date)
    # Correction of a published entry (a wrong date, a misspelt name): one supervisor proposes the corrected statement
    # and name with a reason, another confirms; the entry changes at once and carries corrected_on (issue 9 part 1).
    correction_statement: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    correction_name: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    correction_reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    correction_requested_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    correction_requested_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    corrected_on: Mapped[Optional[date]] = mapped_column(sa.Date)
    reply_text: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    reply_status: Mapped[ReplyStatus] = mapped_column(enum_column(ReplyStatus, name="naming_reply_status"),
                                                      nullable=False, default=ReplyStatus.NONE)
    reply_submitted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    reply_checked_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    reply_checked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    reply_rejection_reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    business = relationship("Business")
    proposed_by = relationship("User", foreign_keys=[proposed_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    appeal_decided_by = relationship("User", foreign_keys=[appeal_decided_by_id])
    withdrawal_requested_by = relationship("User", foreign_keys=[withdrawal_requested_by_id])
    correction_requested_by = relationship("User", foreign_keys=[correction_requested_by_id])
    steps: Mapped[list["NamingStep"]] = relationship(back_populates="case", order_by="NamingStep.id",
                                                     cascade="all, delete-orphan")
    attachments: Mapped[list["NamingAttachment"]] = relationship(back_populates="case",
                                                                 order_by="NamingAttachment.id")

    @property
    def status_label(self) -> str:
        return CASE_STATUS_LABELS[self.status]

    @property
    def public_reply(self) -> str | None:
        return self.reply_text if self.reply_status == ReplyStatus.APPROVED and self.reply_text else None


class NamingStep(db.Model):
    """Who moved a case from one stage to the next, when and why (the case's own record; the audit log has more)."""

    __tablename__ = "naming_step"
    __table_args__ = (sa.Index("ix_naming_step_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("naming_case.id", ondelete="CASCADE"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    action: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    from_status: Mapped[str] = mapped_column(sa.String(32), nullable=False, default="")
    to_status: Mapped[str] = mapped_column(sa.String(32), nullable=False, default="")
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    case: Mapped[NamingCase] = relationship(back_populates="steps")


class NamingAttachment(db.Model):
    """A file sent with representations, kept in the database so backups and access rules cover it."""

    __tablename__ = "naming_attachment"
    __table_args__ = (sa.Index("ix_naming_attachment_case", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("naming_case.id", ondelete="CASCADE"), nullable=False)
    filename: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="application/octet-stream")
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    uploaded_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    uploaded_by: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")

    case: Mapped[NamingCase] = relationship(back_populates="attachments")
