"""How a failure ended, and what may count against the business.

- Stages follow brief 2.3 step 4 (advice or warning, retest, simple caution, prosecution) and 5.3 (no naming while a
  prosecution or caution decision is pending).
- The time limit: s.141A is summary only (brief 1.1), so an information must be laid within six months of the offence
  (Magistrates' Courts Act 1980 s.127; the brief gives "summary only", the section number is ours).
- What counts: a sale the court acquitted ("not guilty: due diligence", brief 1.1's s.141A(4) defence) is not held
  against the business; nor is a fresh failure still undecided inside the time limit (it may yet be prosecuted, and
  naming could prejudice it, brief 5.2). A failure left undecided past the limit counts: it can no longer be tried,
  and the sale happened.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from ..timeutil import add_months

TIME_LIMIT_MONTHS = 6


class Stage(StrEnum):
    UNDECIDED = "undecided"
    ADVICE = "advice"
    WARNING = "warning"
    CAUTION = "caution"
    PROSECUTION_PENDING = "prosecution-pending"
    CONVICTED = "convicted"
    ACQUITTED = "acquitted"
    NO_FURTHER_ACTION = "no-further-action"
    COURT_OUTCOME_NOT_RECORDED = "court-outcome-not-recorded"  # older prosecutions recorded before court outcomes


STAGE_LABELS = {
    Stage.UNDECIDED: "Undecided", Stage.ADVICE: "Advice given", Stage.WARNING: "Warning letter",
    Stage.CAUTION: "Simple caution", Stage.PROSECUTION_PENDING: "Prosecution pending", Stage.CONVICTED: "Convicted",
    Stage.ACQUITTED: "Acquitted", Stage.NO_FURTHER_ACTION: "No further action",
    Stage.COURT_OUTCOME_NOT_RECORDED: "Prosecuted: court outcome not recorded",
}


class CourtOutcome(StrEnum):
    CONVICTED = "convicted"
    ACQUITTED = "acquitted"
    WITHDRAWN = "withdrawn"  # discontinued or withdrawn before verdict


COURT_OUTCOME_LABELS = {CourtOutcome.CONVICTED: "Convicted (guilty plea or verdict)",
                        CourtOutcome.ACQUITTED: "Acquitted (not guilty, e.g. due diligence accepted)",
                        CourtOutcome.WITHDRAWN: "Withdrawn or discontinued"}


@dataclass(frozen=True)
class Action:
    """The parts of a follow-up action the stage depends on."""
    action_type: str  # retail.models.purchases.ActionType values
    status: str  # pending / completed / cancelled
    court_outcome: str | None = None


# Later stages outrank earlier ones: a warning followed by a prosecution is a prosecution.
_RANK = [Stage.UNDECIDED, Stage.NO_FURTHER_ACTION, Stage.ADVICE, Stage.WARNING, Stage.CAUTION,
         Stage.COURT_OUTCOME_NOT_RECORDED, Stage.PROSECUTION_PENDING, Stage.ACQUITTED, Stage.CONVICTED]


def _stage_of(action: Action) -> Stage:
    kind, status = action.action_type, action.status
    if status == "cancelled":
        return Stage.UNDECIDED
    if kind == "prosecution":
        if status == "pending":
            return Stage.PROSECUTION_PENDING
        return {CourtOutcome.CONVICTED: Stage.CONVICTED, CourtOutcome.ACQUITTED: Stage.ACQUITTED,
                CourtOutcome.WITHDRAWN: Stage.NO_FURTHER_ACTION}.get(action.court_outcome,
                                                                       Stage.COURT_OUTCOME_NOT_RECORDED)
    if kind == "simple-caution":
        # A caution offered but not yet accepted is still a decision pending (brief 5.3 step 3).
        return Stage.CAUTION if status == "completed" else Stage.UNDECIDED
    return {"warning-letter": Stage.WARNING, "advice-letter": Stage.ADVICE, "none": Stage.NO_FURTHER_ACTION}.get(
        kind, Stage.UNDECIDED)


def stage(actions) -> Stage:
    """The enforcement stage a failure has reached, from its follow-up actions (retests do not decide anything)."""
    stages = [_stage_of(a) for a in actions]
    return max(stages, key=_RANK.index, default=Stage.UNDECIDED)


def time_limit(offence_on: date) -> date:
    """The last day to lay an information for a summary offence committed on `offence_on`."""
    return add_months(offence_on, TIME_LIMIT_MONTHS)


def undecided_count_up_to(today: date) -> date:
    """The latest offence date whose time limit has passed by `today`: an undecided failure on or before it counts
    (the same rule as `counts_against`, as a date a query can compare with)."""
    day = add_months(today, -TIME_LIMIT_MONTHS)
    while time_limit(day) >= today:
        day -= timedelta(days=1)
    while time_limit(day + timedelta(days=1)) < today:
        day += timedelta(days=1)
    return day


# Stages that never count against the business, whatever the date.
NEVER_COUNTED = (Stage.ACQUITTED, Stage.COURT_OUTCOME_NOT_RECORDED)


def counts_against(stage_now: Stage, offence_on: date, today: date) -> bool:
    """Whether a failed sale counts in the business's score and naming evidence."""
    if stage_now in (Stage.ACQUITTED, Stage.COURT_OUTCOME_NOT_RECORDED):
        return False
    if stage_now == Stage.UNDECIDED and today <= time_limit(offence_on):
        return False
    return True


def why_not_counted(stage_now: Stage, offence_on: date, today: date) -> str | None:
    if stage_now == Stage.ACQUITTED:
        return "Acquitted: not held against the business."
    if stage_now == Stage.COURT_OUTCOME_NOT_RECORDED:
        return "Prosecuted, but the court's outcome is not recorded: record it before this counts."
    if stage_now == Stage.UNDECIDED and today <= time_limit(offence_on):
        return f"No enforcement decision yet (time limit {time_limit(offence_on):%d %b %Y}): not counted until decided."
    return None


# Primary Authority: formal action against a partnered business is notified to the Primary Authority first
# (Regulatory Enforcement and Sanctions Act 2008 Part 2; the brief lists the partnership on the business record, §7).
FORMAL_ACTIONS = ("simple-caution", "prosecution")
