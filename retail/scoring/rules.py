"""The scoring rules: their specs and defaults, versions stored and read, the months window and the bands."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..extensions import db
from ..timeutil import add_months
from ..models.compliance import ScoringRules
from ..validation import InvalidValue


@dataclass(frozen=True)
class RuleSpec:
    key: str
    label: str
    group: str
    default: int
    minimum: int = -100
    maximum: int = 1000


RULE_SPECS: list[RuleSpec] = [
    # Points per record (negative points reduce the score)
    RuleSpec("underage_sale", "Underage sale in store, last 12 months", "Points", 20),
    RuleSpec("underage_sale_older", "Underage sale in store, 12–24 months ago", "Points", 10),
    RuleSpec("online_seller_failure", "Online underage sale, seller's checkout or dispatch failed, last 12 months",
             "Points", 20),
    RuleSpec("online_seller_failure_older", "Online underage sale by the seller, 12–24 months ago", "Points", 10),
    RuleSpec("challenge25_failure", "Challenge 25 policy failure (tester 18–24), last 12 months", "Points", 5),
    RuleSpec("challenge25_failure_older", "Challenge 25 policy failure, 12–24 months ago", "Points", 2),
    RuleSpec("failed_retest", "Retest failed after advice (on top of the sale)", "Points", 10),
    RuleSpec("advice_ignored", "Sale in store after advice at a visit on Challenge 25, till prompts or training "
             "(on top of the sale)", "Points", 10),
    RuleSpec("training_declined", "Training invitation declined", "Points", 10),
    RuleSpec("training_no_show", "No-show at booked training", "Points", 10),
    RuleSpec("training_missing", "Shop selling knives with no trained staff on record", "Points", 5),
    RuleSpec("training_lapsed", "Shop selling knives whose training certificates have all expired", "Points", 5),
    RuleSpec("rra_withdrawn", "Responsible Retailers Agreement withdrawn", "Points", 10),
    RuleSpec("rra_suspended", "Responsible Retailers Agreement suspended", "Points", 5),
    RuleSpec("rra_never", "Responsible Retailers Agreement never signed (businesses with a London shop)", "Points", 5),
    RuleSpec("listing_no_age_check", "Monitored bladed listing with no age check", "Points", 5),
    RuleSpec("listing_weak_age_check", "Monitored bladed listing with a weak age check", "Points", 2),
    RuleSpec("prohibited_item", "Listing offering a prohibited item", "Points", 15),
    RuleSpec("pass_since_failure", "Each test purchase passed since the last failure", "Points", -5),
    RuleSpec("training_completed", "Training completed (a current certificate)", "Points", -5),
    # Windows and caps
    RuleSpec("full_weight_months", "Months a sale counts at full weight", "Windows", 12, 1, 120),
    RuleSpec("lookback_months", "Months a sale or refusal counts at all", "Windows", 24, 1, 120),
    RuleSpec("listing_max_factors", "Most listings counted per business (each of age checks and prohibited items)",
             "Windows", 5, 0, 1000),
    RuleSpec("training_max_factors", "Most shops counted for missing or lapsed training per business", "Windows", 5,
             0, 1000),
    RuleSpec("pass_credit_max", "Most passes credited", "Windows", 3, 0, 100),
    # Bands: total and worst single factor (food hygiene style)
    RuleSpec("good_max_total", "Good: highest total", "Bands", 15, 0, 10000),
    RuleSpec("good_max_worst", "Good: highest single factor", "Bands", 10, 0, 10000),
    RuleSpec("improvement_max_total", "Improvement needed: highest total", "Bands", 40, 0, 10000),
    RuleSpec("improvement_max_worst", "Improvement needed: highest single factor", "Bands", 20, 0, 10000),
    # Naming candidates
    RuleSpec("candidate_min_sales", "Candidate: at least this many underage sales (seller failures)", "Naming", 2,
             2, 100),
    RuleSpec("candidate_window_months", "Candidate: within this many months", "Naming", 24, 1, 120),
    RuleSpec("candidate_min_refusals", "Candidate: at least this many training refusals after the first sale",
             "Naming", 1, 1, 100),
    RuleSpec("representation_days", "Days the business has to make representations", "Naming", 21, 14, 90),
    # Issue 9 part 1: the business may appeal a decision to publish; nothing is published before this has run.
    RuleSpec("appeal_days", "Days the business has to appeal a decision to publish", "Naming", 21, 14, 90),
    RuleSpec("publish_months", "Months a published entry stays on the register", "Naming", 12, 1, 36),
]
# The strategy's rule is a floor (brief 5.3, issue 9): repeated sales *and* a refused training offer. Rules may be
# raised, never lowered below it; older stored versions below it are read at the floor.
RULE_FLOORS = {"candidate_min_sales": 2, "candidate_min_refusals": 1}
FLOOR_MESSAGES = {
    "candidate_min_sales": "at least 2 underage sales in the period",
    "candidate_min_refusals": "at least 1 refused training offer after the first sale",
}
DEFAULT_RULES = {spec.key: spec.default for spec in RULE_SPECS}
RULE_GROUPS = ["Points", "Windows", "Bands", "Naming"]

FACTOR_LABELS = {
    "underage_sale": "Underage sale (in store)",
    "online_seller_failure": "Online underage sale (seller)",
    "courier_failure": "Online sale: courier failed (older scores; no longer held against the seller)",
    "challenge25_failure": "Challenge 25 policy failure",
    "failed_retest": "Retest failed after advice",
    "advice_ignored": "Advice ignored (sold after an advice visit)",
    "training_declined": "Training declined",
    "training_no_show": "Training no-show",
    "training_missing": "No trained staff",
    "training_lapsed": "Training lapsed",
    "rra_withdrawn": "Agreement withdrawn",
    "rra_suspended": "Agreement suspended",
    "rra_never": "Agreement never signed",
    "listing_no_age_check": "Listing without an age check",
    "listing_weak_age_check": "Listing with a weak age check",
    "prohibited_item": "Prohibited item listed",
    "pass_since_failure": "Test purchase passed",
    "training_completed": "Training completed",
}


GOOD, IMPROVEMENT, SERIOUS = "good", "improvement-needed", "serious-concern"
BAND_LABELS = {GOOD: "Good", IMPROVEMENT: "Improvement needed", SERIOUS: "Serious concern"}
BAND_TONES = {GOOD: "success", IMPROVEMENT: "warning", SERIOUS: "danger"}


def _whole(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@dataclass
class Rules:
    version: int
    values: dict

    def __post_init__(self):
        # A refused form is shown again with what was typed ("2.5", "ten"): those read as the default here.
        self._ints = {key: _whole(self.values.get(key, default), default) for key, default in DEFAULT_RULES.items()}
        for key, floor in RULE_FLOORS.items():
            self._ints[key] = max(self._ints[key], floor)

    def __getitem__(self, key: str) -> int:
        return self._ints[key]


def current_rules(session: Session | None = None) -> Rules:
    """The newest rules version; the defaults are stored as version 1 the first time anything is scored."""
    session = session or db.session
    row = session.execute(sa.select(ScoringRules.version, ScoringRules.values)
                          .order_by(ScoringRules.version.desc()).limit(1)).first()
    if row is None:
        session.add(ScoringRules(version=1, values=dict(DEFAULT_RULES), created_by="system", note="Defaults"))
        session.flush()
        return Rules(1, dict(DEFAULT_RULES))
    return Rules(row.version, {**DEFAULT_RULES, **row.values})


def save_rules(values: dict, actor: str, note: str = "") -> ScoringRules:
    """Store a new rules version (the old ones stay, so every stored score still says which rules it used)."""
    clean = {}
    for spec in RULE_SPECS:
        raw = values.get(spec.key, DEFAULT_RULES[spec.key])
        try:
            number = int(raw)
        except (TypeError, ValueError) as exc:
            raise InvalidValue(f"{spec.label}: enter a whole number.") from exc
        if spec.key in RULE_FLOORS and number < RULE_FLOORS[spec.key]:
            raise InvalidValue(f"{spec.label}: cannot be lower than {RULE_FLOORS[spec.key]}. The strategy's rule is "
                               f"a floor: {FLOOR_MESSAGES[spec.key]}. You may raise it, never lower it.")
        if not spec.minimum <= number <= spec.maximum:
            raise InvalidValue(f"{spec.label}: must be between {spec.minimum} and {spec.maximum}.")
        clean[spec.key] = number
    if clean["good_max_total"] > clean["improvement_max_total"] or clean["good_max_worst"] > clean[
            "improvement_max_worst"]:
        raise InvalidValue("The 'good' limits must not be higher than the 'improvement needed' limits.")
    latest = current_rules()
    if clean == {**DEFAULT_RULES, **latest.values}:
        raise InvalidValue("Nothing changed.")
    row = ScoringRules(version=latest.version + 1, values=clean, created_by=actor, note=note)
    db.session.add(row)
    db.session.flush()
    return row


def rules_history() -> list[ScoringRules]:
    return db.session.scalars(sa.select(ScoringRules).order_by(ScoringRules.version.desc())).all()


def months_before(day: date, months: int) -> date:
    return add_months(day, -months)


def band_for(total: int, worst: int, rules: Rules) -> str:
    if total <= rules["good_max_total"] and worst <= rules["good_max_worst"]:
        return GOOD
    if total <= rules["improvement_max_total"] and worst <= rules["improvement_max_worst"]:
        return IMPROVEMENT
    return SERIOUS
