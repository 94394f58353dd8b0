"""The compliance score: versioned rules, factor queries aggregated in SQL, bands with a worst-factor cap, history.

Every cross-area query (test purchases, follow-up actions, training, the agreement, the listing monitor) lives in
this module. Each factor is one set-based SELECT over all businesses (or one business) that yields one row per
record behind the points; the rows are summed per business in one pass and written with bulk inserts.
"""
from __future__ import annotations

import logging
from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, UTC

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db
from .boroughs import OUTSIDE_LONDON
from .models.compliance import ComplianceScore, ScoreFactor, ScoringRules
from .models.listings import Listing, ListingKind
from .models.purchases import (ActionStatus, ActionType, Channel, FollowUpAction, Outcome, PurchaseKind, Stage,
                               TestPurchase)
from .models.register import Business, OnlineStore, Premises, PremisesStatus, RraSignature, premises_sells
from .models.training import RefusalKind, TrainingAttendance, TrainingRefusal
from .scoping import london_wide, unscoped_session
from .timeutil import today_london, utcnow

log = logging.getLogger(__name__)

PASS_OUTCOMES = tuple(o for o in Outcome if o.value.startswith("PASS"))


# --- rules ----------------------------------------------------------------------------------------------------------

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
    RuleSpec("courier_failure", "Online sale where only the courier failed (weighs less against the seller)",
             "Points", 3),
    RuleSpec("challenge25_failure", "Challenge 25 policy failure (tester 18–24), last 12 months", "Points", 5),
    RuleSpec("challenge25_failure_older", "Challenge 25 policy failure, 12–24 months ago", "Points", 2),
    RuleSpec("failed_retest", "Retest failed after advice (on top of the sale)", "Points", 10),
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
             1, 100),
    RuleSpec("candidate_window_months", "Candidate: within this many months", "Naming", 24, 1, 120),
    RuleSpec("candidate_min_refusals", "Candidate: at least this many training refusals after the first sale",
             "Naming", 1, 0, 100),
    RuleSpec("representation_days", "Days the business has to make representations", "Naming", 21, 14, 90),
    RuleSpec("publish_months", "Months a published entry stays on the register", "Naming", 12, 1, 36),
]
DEFAULT_RULES = {spec.key: spec.default for spec in RULE_SPECS}
RULE_GROUPS = ["Points", "Windows", "Bands", "Naming"]

FACTOR_LABELS = {
    "underage_sale": "Underage sale (in store)",
    "online_seller_failure": "Online underage sale (seller)",
    "courier_failure": "Online sale: courier failed",
    "challenge25_failure": "Challenge 25 policy failure",
    "failed_retest": "Retest failed after advice",
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


@dataclass
class Rules:
    version: int
    values: dict

    def __post_init__(self):
        self._ints = {key: int(self.values.get(key, default)) for key, default in DEFAULT_RULES.items()}

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
    from .validation import InvalidValue

    clean = {}
    for spec in RULE_SPECS:
        raw = values.get(spec.key, DEFAULT_RULES[spec.key])
        try:
            number = int(raw)
        except (TypeError, ValueError) as exc:
            raise InvalidValue(f"{spec.label}: enter a whole number.") from exc
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
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def band_for(total: int, worst: int, rules: Rules) -> str:
    if total <= rules["good_max_total"] and worst <= rules["good_max_worst"]:
        return GOOD
    if total <= rules["improvement_max_total"] and worst <= rules["improvement_max_worst"]:
        return IMPROVEMENT
    return SERIOUS


# --- factor queries -------------------------------------------------------------------------------------------------

@dataclass(slots=True)
class Factor:
    business_id: int
    kind: str
    points: int
    on: date | None
    record_type: str
    record_id: int
    description: str
    premises_id: int | None = None
    online_store_id: int | None = None

    @property
    def record(self) -> str:
        return f"{self.record_type}:{self.record_id}"


def _restrict(query, column, business_ids):
    if business_ids is None:
        return query
    return query.where(column.in_(list(business_ids)))


# Statements are built once per (query, scope) and reused with bound parameters: building and cache-keying a
# statement costs more than running it for one business, and the incremental rescore must stay fast.
_STATEMENTS: dict = {}
IDS = sa.bindparam("ids", expanding=True)
SINCE = sa.bindparam("since", type_=sa.Date)
TODAY = sa.bindparam("today", type_=sa.Date)
CAP = sa.bindparam("cap", type_=sa.Integer)


def _cached(name: str, scoped: bool, build):
    key = (name, scoped)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = build(scoped)
    return stmt


def _scope(query, column, scoped: bool):
    return query.where(column.in_(IDS)) if scoped else query


def _params(business_ids, **values) -> dict:
    if business_ids is not None:
        values["ids"] = list(business_ids)
    return values


def _seller_failure():
    """A failure the seller answers for: in store, or online at the seller's checkout or dispatch."""
    return sa.or_(TestPurchase.channel == Channel.IN_STORE, TestPurchase.checkout_failed.is_(True),
                  TestPurchase.dispatch_failed.is_(True))


def _concluded_failure():
    return sa.and_(TestPurchase.stage == Stage.CONCLUDED, TestPurchase.failed.is_(True))


def underage_sales_query(business_ids, since: date):
    """Underage sales the seller answers for (in store, or online at checkout/dispatch): what the naming rule counts.
    Challenge 25 tests and courier-only failures are never in here."""
    query = sa.select(TestPurchase.business_id, TestPurchase.id, TestPurchase.purchase_date).where(
        _concluded_failure(), TestPurchase.kind == PurchaseKind.UNDERAGE, _seller_failure(),
        TestPurchase.purchase_date >= since)
    return _restrict(query, TestPurchase.business_id, business_ids)


def _failures_stmt(scoped):
    query = sa.select(
        TestPurchase.business_id, TestPurchase.id, TestPurchase.purchase_date, TestPurchase.kind,
        TestPurchase.channel, TestPurchase.checkout_failed, TestPurchase.dispatch_failed, TestPurchase.courier_failed,
        TestPurchase.outcome, TestPurchase.premises_id, TestPurchase.online_store_id,
    ).where(_concluded_failure(), TestPurchase.purchase_date >= SINCE, TestPurchase.purchase_date <= TODAY)
    return _scope(query, TestPurchase.business_id, scoped)


def _retest_stmt(scoped):
    query = (sa.select(FollowUpAction.business_id, TestPurchase.id, TestPurchase.purchase_date,
                       TestPurchase.premises_id, TestPurchase.online_store_id)
             .join(TestPurchase, TestPurchase.id == FollowUpAction.retest_purchase_id)
             .where(FollowUpAction.action_type == ActionType.RETEST, _concluded_failure(), _seller_failure(),
                    TestPurchase.purchase_date >= SINCE, TestPurchase.purchase_date <= TODAY))
    return _scope(query, FollowUpAction.business_id, scoped)


def _passes_stmt(scoped):
    query = (sa.select(TestPurchase.business_id, TestPurchase.id, TestPurchase.purchase_date,
                       TestPurchase.premises_id, TestPurchase.online_store_id)
             .where(TestPurchase.stage == Stage.CONCLUDED, TestPurchase.failed.is_(False),
                    TestPurchase.outcome.in_(PASS_OUTCOMES), TestPurchase.purchase_date >= SINCE,
                    TestPurchase.purchase_date <= TODAY))
    return _scope(query, TestPurchase.business_id, scoped)


def _purchase_factors(session, rules: Rules, today: date, business_ids) -> list[Factor]:
    scoped = business_ids is not None
    since = months_before(today, rules["lookback_months"])
    full = months_before(today, rules["full_weight_months"])
    params = _params(business_ids, since=since, today=today)
    out: list[Factor] = []
    last_fail: dict[int, date] = {}  # latest seller failure in the window (older ones precede every counted pass)
    for row in session.connection().execute(_cached("failures", scoped, _failures_stmt), params):
        recent = row.purchase_date >= full
        outcome = row.outcome.value.replace("_", " ").lower() if row.outcome else "failed"
        seller = row.channel == Channel.IN_STORE or row.checkout_failed or row.dispatch_failed
        if seller and row.purchase_date > last_fail.get(row.business_id, date.min):
            last_fail[row.business_id] = row.purchase_date
        if row.kind == PurchaseKind.CHALLENGE25:
            if not seller:
                continue
            kind, key = "challenge25_failure", "challenge25_failure" if recent else "challenge25_failure_older"
            text = f"Challenge 25 test failed ({outcome}); a policy failure, not an underage sale"
        elif row.channel == Channel.IN_STORE:
            kind, key = "underage_sale", "underage_sale" if recent else "underage_sale_older"
            text = f"Knife sold to an under-18 volunteer in store ({outcome})"
        elif seller:
            parties = [p for p, flag in (("checkout", row.checkout_failed), ("dispatch", row.dispatch_failed)) if flag]
            kind = "online_seller_failure"
            key = kind if recent else "online_seller_failure_older"
            text = f"Online sale to an under-18 volunteer: seller's {' and '.join(parties)} failed ({outcome})"
        else:
            kind = key = "courier_failure"
            text = f"Online order delivered to an under-18 volunteer: the courier failed ({outcome})"
        if not recent and kind != "courier_failure":
            text += ", 12–24 months ago: reduced weight"
        points = rules[key]
        if points:
            out.append(Factor(row.business_id, kind, points, row.purchase_date, "test_purchase", row.id, text,
                              row.premises_id, row.online_store_id))
    # Retests that failed after the advice given following an earlier failure.
    if rules["failed_retest"]:
        for row in session.connection().execute(_cached("retests", scoped, _retest_stmt), params):
            out.append(Factor(row.business_id, "failed_retest", rules["failed_retest"], row.purchase_date,
                              "test_purchase", row.id, "Retest failed after advice following an earlier failure",
                              row.premises_id, row.online_store_id))
    # Passes since the business's last seller failure, most recent first, up to the cap.
    if rules["pass_since_failure"] and rules["pass_credit_max"]:
        passes: dict[int, list] = defaultdict(list)
        for row in session.connection().execute(_cached("passes", scoped, _passes_stmt), params):
            if row.purchase_date > last_fail.get(row.business_id, date.min):
                passes[row.business_id].append(row)
        cap = rules["pass_credit_max"]
        for row in (r for rows in passes.values()
                    for r in sorted(rows, key=lambda r: (r.purchase_date, r.id), reverse=True)[:cap]):
            out.append(Factor(row.business_id, "pass_since_failure", rules["pass_since_failure"], row.purchase_date,
                              "test_purchase", row.id, "Test purchase refused (passed) since the last failure",
                              row.premises_id, row.online_store_id))
    return out


def _refusals_stmt(scoped):
    query = sa.select(TrainingRefusal.business_id, TrainingRefusal.id, TrainingRefusal.refused_on,
                      TrainingRefusal.kind, TrainingRefusal.invitation_id, TrainingRefusal.premises_id).where(
        TrainingRefusal.refused_on >= SINCE, TrainingRefusal.refused_on <= TODAY)
    return _scope(query, TrainingRefusal.business_id, scoped)


def _selling_premises_stmt(scoped):
    """Trading shops that sell knives, in id order (training is owed for each of them)."""
    sells = sa.exists().where(premises_sells.c.premises_id == Premises.id)
    query = (sa.select(Premises.business_id, Premises.id, Premises.name)
             .where(Premises.status == PremisesStatus.TRADING, sells).order_by(Premises.id))
    return _scope(query, Premises.business_id, scoped)


def _certificates_stmt(scoped):
    """Per shop (or per business, for certificates recorded without a shop): the latest certificate expiry."""
    cert = TrainingAttendance
    query = (sa.select(cert.business_id, cert.premises_id, sa.func.max(cert.certificate_expires).label("expires"))
             .where(cert.passed.is_(True), cert.certificate_expires.is_not(None))
             .group_by(cert.business_id, cert.premises_id))
    return _scope(query, cert.business_id, scoped)


def _trained_stmt(scoped):
    cert = TrainingAttendance
    ranked = (sa.select(cert.business_id, cert.id, cert.premises_id, cert.certificate_expires,
                        sa.func.row_number().over(partition_by=cert.business_id,
                                                  order_by=(cert.certificate_expires.desc(), cert.id.desc()))
                        .label("rank"))
              .where(cert.passed.is_(True), cert.certificate_expires >= TODAY))
    ranked = _scope(ranked, cert.business_id, scoped).subquery()
    return sa.select(ranked).where(ranked.c.rank == 1)


def _training_factors(session, rules: Rules, today: date, business_ids) -> list[Factor]:
    scoped = business_ids is not None
    since = months_before(today, rules["lookback_months"])
    params = _params(business_ids, since=since, today=today)
    out: list[Factor] = []
    for row in session.connection().execute(_cached("refusals", scoped, _refusals_stmt), params):
        declined = row.kind == RefusalKind.DECLINED
        key = "training_declined" if declined else "training_no_show"
        if not rules[key]:
            continue
        record_type, record_id = ("invitation", row.invitation_id) if row.invitation_id else ("training_refusal",
                                                                                              row.id)
        text = "Declined an invitation to knife-sales training" if declined else "Did not attend booked training"
        out.append(Factor(row.business_id, key, rules[key], row.refused_on, record_type, record_id, text,
                          row.premises_id))
    # Shops that sell knives without a current certificate: lapsed (had one) or missing (never had one). Two
    # grouped scans joined in memory: a correlated lookup per shop costs minutes at national scale.
    cap = rules["training_max_factors"]
    if cap and (rules["training_missing"] or rules["training_lapsed"]):
        by_premises: dict[int, date] = {}
        by_business: dict[int, date] = {}
        for business_id, premises_id, expires in session.connection().execute(
                _cached("certificates", scoped, _certificates_stmt), _params(business_ids)):
            if premises_id is None:
                by_business[business_id] = max(expires, by_business.get(business_id, expires))
            else:
                by_premises[premises_id] = max(expires, by_premises.get(premises_id, expires))
        counted: dict[int, int] = {}
        for business_id, premises_id, name in session.connection().execute(
                _cached("selling_premises", scoped, _selling_premises_stmt), _params(business_ids)):
            latest = max(by_premises.get(premises_id, date.min), by_business.get(business_id, date.min))
            if latest >= today or counted.get(business_id, 0) >= cap:
                continue
            if latest != date.min:
                key = "training_lapsed"
                text = f"{name}: every training certificate expired on or before {latest:%d %b %Y}"
            else:
                key, text = "training_missing", f"{name}: sells knives, no trained staff on record"
            if rules[key]:
                counted[business_id] = counted.get(business_id, 0) + 1
                out.append(Factor(business_id, key, rules[key], None if latest == date.min else latest, "premises",
                                  premises_id, text, premises_id))
    # Training completed: the most recent current certificate earns the credit once per business.
    if rules["training_completed"]:
        for row in session.connection().execute(_cached("trained", scoped, _trained_stmt),
                                                _params(business_ids, today=today)):
            out.append(Factor(row.business_id, "training_completed", rules["training_completed"], None,
                              "attendance", row.id,
                              f"Staff trained: certificate valid until {row.certificate_expires:%d %b %Y}",
                              row.premises_id))
    return out


def _rra_stmt(scoped):
    rank = sa.case((RraSignature.status == "active", 3), (RraSignature.status == "suspended", 2), else_=1)
    best = (sa.select(RraSignature.business_id, RraSignature.id, RraSignature.status, RraSignature.status_changed_on,
                      RraSignature.signed_on,
                      sa.func.row_number().over(partition_by=RraSignature.business_id,
                                                order_by=(rank.desc(), RraSignature.id.desc())).label("rank")))
    best = _scope(best, RraSignature.business_id, scoped).subquery()
    return sa.select(best).where(best.c.rank == 1, best.c.status != "active")


def _never_stmt(scoped):
    # The agreement is a London scheme: only a business trading from a London shop can be expected to sign it.
    in_london = sa.exists().where(Premises.business_id == Business.id, Premises.borough != OUTSIDE_LONDON,
                                  Premises.status == PremisesStatus.TRADING)
    never = sa.select(Business.id).where(~sa.exists().where(RraSignature.business_id == Business.id), in_london)
    return _scope(never, Business.id, scoped)


def _rra_factors(session, rules: Rules, today: date, business_ids) -> list[Factor]:
    scoped = business_ids is not None
    params = _params(business_ids)
    out: list[Factor] = []
    for row in session.connection().execute(_cached("rra", scoped, _rra_stmt), params):
        status = getattr(row.status, "value", row.status)
        key = "rra_withdrawn" if status == "withdrawn" else "rra_suspended"
        if rules[key]:
            out.append(Factor(row.business_id, key, rules[key], row.status_changed_on or row.signed_on,
                              "signature", row.id, f"Responsible Retailers Agreement {status}"))
    if rules["rra_never"]:
        for (business_id,) in session.connection().execute(_cached("rra_never", scoped, _never_stmt),
                                                           params):
            out.append(Factor(business_id, "rra_never", rules["rra_never"], None, "business", business_id,
                              "Has never signed the Responsible Retailers Agreement"))
    return out


def _listing_base():
    return (sa.select(OnlineStore.business_id, Listing.id, Listing.online_store_id, Listing.title, Listing.url,
                      Listing.age_check, Listing.verdict_at)
            .join(OnlineStore, OnlineStore.id == Listing.online_store_id))


def _ages_stmt(scoped):
    age_rank = sa.case((Listing.age_check == "none", 0), else_=1)
    ages = _listing_base().add_columns(sa.func.row_number().over(
        partition_by=OnlineStore.business_id, order_by=(age_rank, Listing.id)).label("rank")).where(
        Listing.kind == ListingKind.PRODUCT, Listing.bladed.is_(True), Listing.age_check.in_(("none", "weak")))
    ages = _scope(ages, OnlineStore.business_id, scoped).subquery()
    return sa.select(ages).where(ages.c.rank <= CAP)


def _prohibited_stmt(scoped):
    prohibited = sa.cast(Listing.prohibited, sa.Text)
    found = _listing_base().add_columns(sa.func.row_number().over(
        partition_by=OnlineStore.business_id, order_by=Listing.id).label("rank")).where(
        prohibited.is_not(None), prohibited.not_in(("[]", "null", "")))
    found = _scope(found, OnlineStore.business_id, scoped).subquery()
    return sa.select(found).where(found.c.rank <= CAP)


def _listing_factors(session, rules: Rules, today: date, business_ids) -> list[Factor]:
    if not rules["listing_max_factors"]:
        return []
    scoped = business_ids is not None
    params = _params(business_ids, cap=rules["listing_max_factors"])
    out: list[Factor] = []
    for row in session.connection().execute(_cached("ages", scoped, _ages_stmt), params):
        key = "listing_no_age_check" if row.age_check == "none" else "listing_weak_age_check"
        if rules[key]:
            label = "no age check" if row.age_check == "none" else "a weak age check (self-declaration)"
            out.append(Factor(row.business_id, key, rules[key], row.verdict_at.date() if row.verdict_at else None,
                              "listing", row.id, f"Bladed listing with {label}: {(row.title or row.url)[:200]}",
                              online_store_id=row.online_store_id))
    if rules["prohibited_item"]:
        for row in session.connection().execute(_cached("prohibited", scoped, _prohibited_stmt), params):
            out.append(Factor(row.business_id, "prohibited_item", rules["prohibited_item"],
                              row.verdict_at.date() if row.verdict_at else None, "listing", row.id,
                              f"Prohibited item offered: {(row.title or row.url)[:200]}",
                              online_store_id=row.online_store_id))
    return out


FACTOR_SOURCES = [_purchase_factors, _training_factors, _rra_factors, _listing_factors]


def collect_factors(rules: Rules, today: date, business_ids=None, session: Session | None = None) -> list[Factor]:
    session = session or db.session
    factors: list[Factor] = []
    for source in FACTOR_SOURCES:
        factors.extend(source(session, rules, today, business_ids))
    return factors


def _pending_stmt(scoped):
    query = sa.select(FollowUpAction.business_id).where(
        FollowUpAction.action_type.in_((ActionType.SIMPLE_CAUTION, ActionType.PROSECUTION)),
        FollowUpAction.status == ActionStatus.PENDING).distinct()
    return _scope(query, FollowUpAction.business_id, scoped)


def enforcement_pending_ids(business_ids=None, session: Session | None = None) -> set[int]:
    """Businesses with a simple caution or prosecution decision still pending: never named while this lasts."""
    session = session or db.session
    scoped = business_ids is not None
    return set(session.scalars(_cached("pending", scoped, _pending_stmt), _params(business_ids)))


def _candidate_stmt(scoped):
    sales = sa.select(TestPurchase.business_id, TestPurchase.purchase_date).where(
        _concluded_failure(), TestPurchase.kind == PurchaseKind.UNDERAGE, _seller_failure(),
        TestPurchase.purchase_date >= SINCE, TestPurchase.purchase_date <= TODAY)
    sales = _scope(sales, TestPurchase.business_id, scoped).subquery()
    per_business = (sa.select(sales.c.business_id, sa.func.count().label("sales"),
                              sa.func.min(sales.c.purchase_date).label("first_sale"))
                    .group_by(sales.c.business_id)
                    .having(sa.func.count() >= sa.bindparam("min_sales", type_=sa.Integer))).subquery()
    refusals = (sa.select(sa.func.count()).where(TrainingRefusal.business_id == per_business.c.business_id,
                                                  TrainingRefusal.refused_on > per_business.c.first_sale,
                                                  TrainingRefusal.refused_on <= TODAY).scalar_subquery())
    query = sa.select(per_business.c.business_id, per_business.c.sales, per_business.c.first_sale,
                      refusals.label("refusals")).subquery()
    return sa.select(query).where(query.c.refusals >= sa.bindparam("min_refusals", type_=sa.Integer))


def candidate_query(rules: Rules, today: date, business_ids=None):
    """(statement, params) giving (business_id, sales, first_sale, refusals) for businesses meeting the sales and
    refusal parts of the rule: at least N underage seller sales within the window, and M training refusals after
    the first of them."""
    params = _params(business_ids, since=months_before(today, rules["candidate_window_months"]), today=today,
                     min_sales=rules["candidate_min_sales"], min_refusals=rules["candidate_min_refusals"])
    return _cached("candidates", business_ids is not None, _candidate_stmt), params


def candidate_ids(rules: Rules, today: date, business_ids=None, session: Session | None = None) -> tuple[set, set]:
    """(candidates, held): businesses meeting the rule, and those that would but enforcement is pending."""
    session = session or db.session
    stmt, params = candidate_query(rules, today, business_ids)
    meeting = {row[0] for row in session.execute(stmt, params)}
    pending = enforcement_pending_ids(meeting, session) if meeting else set()
    return meeting - pending, meeting & pending


# --- computing and storing scores -----------------------------------------------------------------------------------

@dataclass
class BusinessScore:
    business_id: int
    total: int = 0
    worst_points: int = 0
    worst_kind: str = ""
    band: str = GOOD
    candidate: bool = False
    enforcement_pending: bool = False
    factors: list[Factor] = field(default_factory=list)
    fingerprint: str = ""
    score_id: int | None = None


_KIND_IDS = {kind: i for i, kind in enumerate(FACTOR_LABELS)}
_RECORD_IDS = {kind: i for i, kind in enumerate(("test_purchase", "invitation", "training_refusal", "attendance",
                                                 "premises", "signature", "business", "listing"))}


def _factor_key(f: Factor):
    return (-f.points, f.on or date.min, f.record_type, f.record_id)


def summarise(business_id: int, factors: list[Factor], rules: Rules, candidate: bool, held: bool) -> BusinessScore:
    per_kind: dict[str, int] = {}
    for f in factors:
        per_kind[f.kind] = per_kind.get(f.kind, 0) + f.points
    total = max(0, sum(per_kind.values()))
    worst_kind, worst = "", 0
    for kind, points in per_kind.items():
        if points > worst or (points == worst and points > 0 and kind > worst_kind):
            worst_kind, worst = kind, points
    if len(factors) > 1:
        factors = sorted(factors, key=_factor_key)
    # What the stored score depends on; an identical fingerprint means nothing changed and no row is added. Only
    # integers go in, so Python's hash is the same in every process (str hashes are salted per process).
    digest = str(hash((rules.version, candidate, held, tuple(
        (_KIND_IDS.get(f.kind, -1), f.points, f.on.toordinal() if f.on else 0, _RECORD_IDS.get(f.record_type, -1),
         f.record_id, f.premises_id or 0, f.online_store_id or 0) for f in factors))))
    return BusinessScore(business_id, total, worst, worst_kind, band_for(total, worst, rules), candidate, held,
                         factors, digest)


def compute_scores(business_ids=None, today: date | None = None, session: Session | None = None,
                   rules: Rules | None = None) -> dict[int, BusinessScore]:
    """Score every business (or the given ones) without storing anything."""
    session = session or db.session
    today = today or today_london()
    rules = rules or current_rules(session)
    if business_ids is None:
        ids = list(session.scalars(sa.select(Business.id)))
    else:
        ids = list(session.scalars(_cached("businesses", True, lambda scoped: sa.select(Business.id).where(
            Business.id.in_(IDS))), _params(business_ids)))
    by_business: dict[int, list[Factor]] = defaultdict(list)
    for f in collect_factors(rules, today, business_ids, session):
        by_business[f.business_id].append(f)
    candidates, held = candidate_ids(rules, today, business_ids, session)
    scores = {bid: summarise(bid, by_business.get(bid, []), rules, bid in candidates, bid in held) for bid in ids}
    for score in scores.values():
        score.rules_version = rules.version
    return scores


_SCORE_COLUMNS = ("business_id", "computed_at", "computed_for", "rules_version", "total", "worst_points", "worst_kind",
                  "band", "candidate", "enforcement_pending", "current", "fingerprint", "batch")
_FACTOR_COLUMNS = ("score_id", "business_id", "premises_id", "online_store_id", "kind", "points", "on", "record_type",
                   "record_id", "description")


def _driver_insert(connection, table, columns, rows: list[tuple], chunk: int = 20000) -> None:
    """executemany straight to the driver: SQLAlchemy's per-row parameter processing costs more than the insert
    itself at national scale. Callers pass values already in the form the backend stores (see _storage)."""
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    quote = connection.dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
           f"VALUES ({', '.join(mark for _ in columns)})")
    for start in range(0, len(rows), chunk):
        connection.exec_driver_sql(sql, rows[start:start + chunk])


def _storage(connection):
    """(date, datetime) converters to what SQLAlchemy would store: ISO text on SQLite, native values elsewhere."""
    if connection.dialect.name != "sqlite":
        return (lambda d: d), (lambda dt: dt)
    return ((lambda d: d.isoformat() if d is not None else None),
            (lambda dt: dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")))


def store_scores(scores: dict[int, BusinessScore], rules_version: int, today: date,
                 session: Session | None = None, chunk: int = 5000) -> int:
    """Add a score row (and its factors) for each business whose score changed; mark it current. Returns rows added.
    Nothing is deleted: earlier rows stay as the business's trend."""
    import uuid

    session = session or db.session
    connection = session.connection()
    ids = list(scores)
    existing: dict[int, tuple[int, str]] = {}
    table = ComplianceScore.__table__
    query = sa.select(table.c.business_id, table.c.id, table.c.fingerprint).where(
        table.c.current.is_(True)).order_by(table.c.id)
    if len(ids) <= 1000:  # a few businesses: use the index; many: one scan of the current rows
        query = query.where(table.c.business_id.in_(ids))
    wanted = set(ids)
    for business_id, score_id, fingerprint in connection.execute(query):
        if business_id in wanted:
            existing[business_id] = (score_id, fingerprint)
    changed = []
    for s in scores.values():
        previous = existing.get(s.business_id)
        if previous is not None and previous[1] == s.fingerprint:
            s.score_id = previous[0]
        else:
            changed.append(s)
    if not changed:
        return 0
    stale = [existing[s.business_id][0] for s in changed if s.business_id in existing]
    for start in range(0, len(stale), chunk):
        connection.execute(table.update().where(table.c.id.in_(stale[start:start + chunk])).values(current=False))
    as_date, as_datetime = _storage(connection)
    now, day = as_datetime(utcnow()), as_date(today)
    batch = uuid.uuid4().hex
    before = connection.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
    _driver_insert(connection, table, _SCORE_COLUMNS, [
        (s.business_id, now, day, rules_version, s.total, s.worst_points, s.worst_kind, s.band, s.candidate,
         s.enforcement_pending, True, s.fingerprint, batch) for s in changed])
    new_ids = dict(connection.execute(sa.select(table.c.business_id, table.c.id)
                                      .where(table.c.id > before, table.c.batch == batch)).all())
    factor_rows = []
    for s in changed:
        s.score_id = score_id = new_ids[s.business_id]
        factor_rows.extend((score_id, s.business_id, f.premises_id, f.online_store_id, f.kind, f.points,
                            as_date(f.on), f.record_type, f.record_id, f.description[:300]) for f in s.factors)
    _driver_insert(connection, ScoreFactor.__table__, _FACTOR_COLUMNS, factor_rows)
    return len(changed)


def rescore_all(today: date | None = None, session: Session | None = None) -> dict:
    """The nightly full recompute: every business, set-based queries, bulk writes. Commits."""
    session = session or db.session
    today = today or today_london()
    rules = current_rules(session)
    scores = compute_scores(None, today, session, rules)
    added = store_scores(scores, rules.version, today, session)
    session.commit()
    return {"businesses": len(scores), "changed": added, "rules_version": rules.version,
            "candidates": sum(1 for s in scores.values() if s.candidate)}


def rescore_businesses(business_ids, today: date | None = None, session: Session | None = None,
                       commit: bool = True) -> dict[int, BusinessScore]:
    session = session or db.session
    today = today or today_london()
    rules = current_rules(session)
    scores = compute_scores(list(business_ids), today, session, rules)
    store_scores(scores, rules.version, today, session)
    if commit:
        session.commit()
    return scores


def rescore_business(business_id: int, today: date | None = None, session: Session | None = None,
                     commit: bool = True) -> BusinessScore | None:
    """Recompute one business now (what the change hook calls after a relevant record is saved)."""
    return rescore_businesses([business_id], today, session, commit).get(business_id)


# --- reading scores -------------------------------------------------------------------------------------------------

def current_score(business_id: int) -> ComplianceScore | None:
    return db.session.scalar(sa.select(ComplianceScore).where(ComplianceScore.business_id == business_id,
                                                              ComplianceScore.current.is_(True))
                             .order_by(ComplianceScore.id.desc()).limit(1))


def score_history(business_id: int, limit: int = 24) -> list[ComplianceScore]:
    """Oldest first, for the trend."""
    rows = db.session.scalars(sa.select(ComplianceScore).where(ComplianceScore.business_id == business_id)
                              .order_by(ComplianceScore.id.desc()).limit(limit)).all()
    return list(reversed(rows))


def score_factors(score_id: int) -> list[ScoreFactor]:
    return db.session.scalars(sa.select(ScoreFactor).where(ScoreFactor.score_id == score_id)
                              .order_by(ScoreFactor.points.desc(), ScoreFactor.id)).all()


def record_url(record_type: str, record_id: int) -> str | None:
    """The page of the record behind a factor (None when its area has no page for it)."""
    from flask import url_for
    from werkzeug.routing import BuildError

    options = {
        "test_purchase": [("purchases.view", "purchase_id")],
        "invitation": [("training.invitation_view", "invitation_id")],
        "listing": [("monitor.listing_view", "listing_id")],
        "signature": [("register.rra_view", "signature_id")],
        "premises": [("register.premises_view", "premises_id")],
        "business": [("register.business_view", "business_id")],
        "attendance": [],
        "training_refusal": [],
    }
    for endpoint, arg in options.get(record_type, []):
        try:
            return url_for(endpoint, **{arg: record_id})
        except BuildError:
            continue
    return None


def score_json(scores: dict[int, BusinessScore]) -> list[dict]:
    names = dict(db.session.execute(sa.select(Business.id, sa.func.coalesce(
        sa.func.nullif(Business.trading_name, ""), Business.legal_name)).where(Business.id.in_(list(scores)))).all()) \
        if len(scores) < 30000 else dict(db.session.execute(sa.select(Business.id, sa.func.coalesce(
            sa.func.nullif(Business.trading_name, ""), Business.legal_name))).all())
    return [{"business_id": s.business_id, "name": names.get(s.business_id, ""), "score": s.total, "band": s.band,
             "candidate": s.candidate,
             "factors": [{"kind": f.kind, "points": f.points, "date": f.on.isoformat() if f.on else None,
                          "record": f.record, "description": f.description} for f in s.factors]}
            for s in sorted(scores.values(), key=lambda s: s.business_id)]


# --- rescoring when a relevant record changes ------------------------------------------------------------------------

WATCHED = {"TestPurchase", "FollowUpAction", "TrainingInvitation", "TrainingRefusal", "TrainingAttendance",
           "RraSignature", "Premises", "Listing", "StoreMonitor"}
BULK_THRESHOLD = 500  # more businesses than this changed in one commit: one full recompute instead


def _changed_ids(obj) -> tuple[set[int], set[int]]:
    """(business ids, online store ids) an object's change touches, including the values before the change."""
    from sqlalchemy import inspect

    businesses, stores = set(), set()
    state = inspect(obj)
    for attr, target in (("business_id", businesses), ("online_store_id", stores)):
        if attr in state.attrs:
            hist = state.attrs[attr].history
            for value in (*(hist.added or ()), *(hist.unchanged or ()), *(hist.deleted or ())):
                if value is not None:
                    target.add(value)
    return businesses, stores


@event.listens_for(Session, "after_flush")
def _collect_changes(session: Session, flush_context) -> None:
    if session.info.get("scoring_paused"):
        return
    businesses = session.info.setdefault("rescore_businesses", set())
    stores = session.info.setdefault("rescore_stores", set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if type(obj).__name__ in WATCHED:
            b, s = _changed_ids(obj)
            businesses |= b
            stores |= s


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session: Session, previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop("rescore_businesses", None)
        session.info.pop("rescore_stores", None)


@event.listens_for(Session, "after_commit")
def _rescore_after_commit(session: Session) -> None:
    businesses = session.info.pop("rescore_businesses", set())
    stores = session.info.pop("rescore_stores", set())
    if (not businesses and not stores) or session.info.get("scoring_paused"):
        return
    try:
        engine = db.engine
    except RuntimeError:  # outside an app context: the nightly recompute will catch up
        return
    # A fresh session on its own connection: the committed session cannot run SQL in this hook, and the scores are
    # written in their own transaction so a scoring problem never undoes the officer's change.
    # Scores are London-wide: they count every authority's records, whoever's commit triggered them.
    fresh = unscoped_session(Session(bind=engine))
    fresh.info["scoring_paused"] = True
    try:
        if stores:
            businesses |= set(fresh.scalars(sa.select(OnlineStore.business_id).where(OnlineStore.id.in_(stores))))
        if len(businesses) > BULK_THRESHOLD:
            rescore_all(session=fresh)
        else:
            rescore_businesses(businesses, session=fresh)
    except Exception:  # noqa: BLE001 - never break the change that triggered the rescore
        fresh.rollback()
        log.exception("rescore after commit failed for businesses %s", sorted(businesses)[:20])
    finally:
        fresh.close()


class scoring_paused:
    """Context manager: changes made inside do not trigger rescoring (bulk loads that rescore once at the end)."""

    def __init__(self, session: Session | None = None):
        self.session = session or db.session

    def __enter__(self):
        self.session.info["scoring_paused"] = True
        return self

    def __exit__(self, *exc):
        self.session.info.pop("scoring_paused", None)
        self.session.info.pop("rescore_businesses", None)
        self.session.info.pop("rescore_stores", None)
        return False


def nightly_rescore() -> dict:
    """Scheduler job: the full recompute (windows move on with the date even when no record changed)."""
    from .audit import acting_as

    with acting_as("scheduler:nightly-rescore"):
        return rescore_all()


def _register_nightly_job() -> None:
    try:
        from .scrapers import scheduler
    except Exception:  # noqa: BLE001 - the monitor area is optional here; a broken import must not break scoring
        logging.getLogger(__name__).warning("scheduler not available: nightly job not registered", exc_info=True)
        return
    jobs = getattr(scheduler, "NIGHTLY_JOBS", None)
    if isinstance(jobs, list) and nightly_rescore not in jobs:
        jobs.append(nightly_rescore)


_register_nightly_job()


# --- evidence for naming (cross-area reads used by retail.naming) ----------------------------------------------------

@london_wide
def candidate_evidence(business_id: int, today: date | None = None, rules: Rules | None = None) -> dict:
    """What the candidate rule sees for one business: the sales, the refusals after the first, pending enforcement."""
    today = today or today_london()
    rules = rules or current_rules()
    result = {"sales": [], "refusals": [], "pending": [], "meets_rule": False, "held": False}
    since = months_before(today, rules["candidate_window_months"])
    sales = db.session.execute(
        sa.select(TestPurchase.id, TestPurchase.purchase_date, TestPurchase.channel, TestPurchase.outcome,
                  TestPurchase.premises_id, TestPurchase.online_store_id)
        .where(TestPurchase.id.in_(sa.select(underage_sales_query([business_id], since).subquery().c.id)),
               TestPurchase.purchase_date <= today)
        .order_by(TestPurchase.purchase_date)).all()
    result["sales"] = [{"record": f"test_purchase:{row.id}", "record_type": "test_purchase", "record_id": row.id,
                        "date": row.purchase_date, "channel": row.channel.value,
                        "description": f"{'In store' if row.channel == Channel.IN_STORE else 'Online'}: "
                                       f"{row.outcome.value.replace('_', ' ').lower() if row.outcome else 'failed'}"}
                       for row in sales]
    if sales:
        first = sales[0].purchase_date
        refusals = db.session.execute(
            sa.select(TrainingRefusal.id, TrainingRefusal.refused_on, TrainingRefusal.kind,
                      TrainingRefusal.invitation_id)
            .where(TrainingRefusal.business_id == business_id, TrainingRefusal.refused_on > first,
                   TrainingRefusal.refused_on <= today).order_by(TrainingRefusal.refused_on)).all()
        result["refusals"] = [{
            "record": f"invitation:{r.invitation_id}" if r.invitation_id else f"training_refusal:{r.id}",
            "record_type": "invitation" if r.invitation_id else "training_refusal",
            "record_id": r.invitation_id or r.id, "date": r.refused_on,
            "description": "Training invitation declined" if r.kind == RefusalKind.DECLINED
            else "Did not attend booked training"} for r in refusals]
    pending = db.session.execute(
        sa.select(FollowUpAction.id, FollowUpAction.action_type, FollowUpAction.decided_on)
        .where(FollowUpAction.business_id == business_id,
               FollowUpAction.action_type.in_((ActionType.SIMPLE_CAUTION, ActionType.PROSECUTION)),
               FollowUpAction.status == ActionStatus.PENDING)).all()
    result["pending"] = [{"record": f"follow_up_action:{p.id}", "type": p.action_type.value, "date": p.decided_on}
                         for p in pending]
    meets = (len(result["sales"]) >= rules["candidate_min_sales"]
             and len(result["refusals"]) >= rules["candidate_min_refusals"])
    result["meets_rule"] = meets and not pending
    result["held"] = meets and bool(pending)
    return result


@london_wide
def early_removal_evidence(business_id: int, since: date, today: date | None = None) -> dict:
    """For early removal of a published entry: a passed test purchase (a retest) and completed training, both after
    publication. Returns {"retest": id|None, "training": id|None}."""
    today = today or today_london()
    found = {"retest": None, "training": None}
    if TestPurchase is not None:
        found["retest"] = db.session.scalar(
            sa.select(TestPurchase.id).where(TestPurchase.business_id == business_id,
                                             TestPurchase.stage == Stage.CONCLUDED, TestPurchase.failed.is_(False),
                                             TestPurchase.outcome.in_(PASS_OUTCOMES),
                                             TestPurchase.purchase_date >= since, TestPurchase.purchase_date <= today)
            .order_by(TestPurchase.purchase_date.desc()).limit(1))
    if TrainingAttendance is not None:
        from .models.training import TrainingSession

        found["training"] = db.session.scalar(
            sa.select(TrainingAttendance.id).join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
            .where(TrainingAttendance.business_id == business_id, TrainingAttendance.passed.is_(True),
                   TrainingAttendance.certificate_expires >= today,
                   TrainingSession.starts_at >= datetime.combine(since, time(0), tzinfo=UTC))
            .order_by(TrainingAttendance.id.desc()).limit(1))
    return found


@london_wide
def enforcement_pending(business_id: int) -> bool:
    return business_id in enforcement_pending_ids([business_id])
