"""Advice visits: an officer's visit to a shop, what was checked, the advice left and when to come back."""
from datetime import date
from enum import StrEnum
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Audited, OwnedByAuthority, Timestamps, Versioned, enum_column


class CheckResult(StrEnum):
    IN_PLACE = "in-place"
    ADVICE = "advice"  # not good enough: advice given on this point
    NOT_CHECKED = "not-checked"


CHECK_RESULT_LABELS = {CheckResult.IN_PLACE: "In place", CheckResult.ADVICE: "Advice given",
                       CheckResult.NOT_CHECKED: "Not checked"}

# The points checked on a visit (column name: label). The due-diligence evidence courts look for (brief 1.1):
# Challenge 25 policy, till prompts, training records, refusals logs and display controls.
CHECKS = {
    "display_check": "Knife display and security",
    "challenge25_policy_check": "Challenge 25 policy",
    "signage_check": "Challenge 25 and age-restriction signage",
    "refusals_log_check": "Refusals log",
    "till_prompts_check": "Till prompts",
    "training_check": "Staff trained",
}
# The points a sale to an under-age volunteer puts in question: advice on any of them, then a sale, is "advice
# ignored" (brief 1.1, sentencing: failing to make changes after advice).
SALE_POINTS = ("challenge25_policy_check", "till_prompts_check", "training_check")


class RraOnVisit(StrEnum):
    ALREADY_SIGNED = "already-signed"
    SIGNED = "signed"  # signed on this visit
    OFFERED = "offered"  # offered; the business will think about it
    DECLINED = "declined"
    NOT_OFFERED = "not-offered"


RRA_ON_VISIT_LABELS = {
    RraOnVisit.ALREADY_SIGNED: "Already signed",
    RraOnVisit.SIGNED: "Signed on this visit",
    RraOnVisit.OFFERED: "Offered, not yet signed",
    RraOnVisit.DECLINED: "Offered and declined",
    RraOnVisit.NOT_OFFERED: "Not offered",
}


def _check_column(name: str):
    # One enum name per column: the name becomes the CHECK constraint's, which must be unique on PostgreSQL.
    return mapped_column(enum_column(CheckResult, name=name), nullable=False,
                         default=CheckResult.NOT_CHECKED)


class AdviceVisit(OwnedByAuthority, Audited, Versioned, Timestamps, db.Model):
    __tablename__ = "advice_visit"
    __table_args__ = (sa.Index("ix_advice_visit_premises_on", "premises_id", "visited_on"),
                      sa.Index("ix_advice_visit_business", "business_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(sa.ForeignKey("business.id"), nullable=False)
    premises_id: Mapped[int] = mapped_column(sa.ForeignKey("premises.id"), nullable=False)
    visited_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    officer_name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    officer_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    person_seen: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    person_role: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    display_check: Mapped[CheckResult] = _check_column("display_check")
    challenge25_policy_check: Mapped[CheckResult] = _check_column("challenge25_policy_check")
    signage_check: Mapped[CheckResult] = _check_column("signage_check")
    refusals_log_check: Mapped[CheckResult] = _check_column("refusals_log_check")
    till_prompts_check: Mapped[CheckResult] = _check_column("till_prompts_check")
    training_check: Mapped[CheckResult] = _check_column("training_check")
    staff_trained_on: Mapped[Optional[date]] = mapped_column(sa.Date)
    rra: Mapped[RraOnVisit] = mapped_column(enum_column(RraOnVisit, name="visit_rra"), nullable=False,
                                            default=RraOnVisit.NOT_OFFERED)
    # What the business is told (portal, printed record); the notes are the officer's own (staff only).
    advice_given: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    photo_refs: Mapped[str] = mapped_column(sa.String(500), nullable=False, default="")
    next_visit_due: Mapped[Optional[date]] = mapped_column(sa.Date)
    officer_notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    business = relationship("Business")
    premises = relationship("Premises")

    @property
    def checks(self) -> list[tuple[str, str, CheckResult]]:
        return [(name, label, getattr(self, name)) for name, label in CHECKS.items()]

    @property
    def advice_points(self) -> list[str]:
        return [label for name, label, result in self.checks if result == CheckResult.ADVICE]

    @property
    def rra_label(self) -> str:
        return RRA_ON_VISIT_LABELS[self.rra]
