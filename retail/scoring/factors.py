"""The factor queries: each one set-based SELECT over all businesses (or some) yielding one row per record behind
the points — test purchases, training, the Responsible Retailers Agreement, monitored listings."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..boroughs import OUTSIDE_LONDON
from ..extensions import db
from ..models.listings import Listing, ListingKind
from ..models.purchases import OUTCOME_LABELS, ActionType, Channel, FollowUpAction, PurchaseKind, Stage, TestPurchase
from ..models.register import Business, OnlineStore, Premises, PremisesStatus, RraSignature, premises_sells
from ..models.training import RefusalKind, TrainingAttendance, TrainingRefusal
from ..models.visits import SALE_POINTS, AdviceVisit, CheckResult
from .rules import Rules, months_before
from .statements import (CAP, PASS_OUTCOMES, SINCE, TODAY, bind_params, cached_statement, concluded_failure,
                         counts_against, scope_of, scope_to_ids, seller_failure)


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


def _failures_stmt(scoped):
    query = sa.select(
        TestPurchase.business_id, TestPurchase.id, TestPurchase.purchase_date, TestPurchase.kind,
        TestPurchase.channel, TestPurchase.checkout_failed, TestPurchase.dispatch_failed, TestPurchase.courier_failed,
        TestPurchase.outcome, TestPurchase.premises_id, TestPurchase.online_store_id,
    ).where(concluded_failure(), counts_against(), TestPurchase.purchase_date >= SINCE,
            TestPurchase.purchase_date <= TODAY)
    return scope_to_ids(query, TestPurchase.business_id, scoped)


def _retest_stmt(scoped):
    query = (sa.select(FollowUpAction.business_id, TestPurchase.id, TestPurchase.purchase_date,
                       TestPurchase.premises_id, TestPurchase.online_store_id)
             .join(TestPurchase, TestPurchase.id == FollowUpAction.retest_purchase_id)
             .where(FollowUpAction.action_type == ActionType.RETEST, concluded_failure(), counts_against(),
                    seller_failure(),
                    TestPurchase.purchase_date >= SINCE, TestPurchase.purchase_date <= TODAY))
    return scope_to_ids(query, FollowUpAction.business_id, scoped)


def _passes_stmt(scoped):
    query = (sa.select(TestPurchase.business_id, TestPurchase.id, TestPurchase.purchase_date,
                       TestPurchase.premises_id, TestPurchase.online_store_id)
             .where(TestPurchase.stage == Stage.CONCLUDED, TestPurchase.failed.is_(False),
                    TestPurchase.outcome.in_(PASS_OUTCOMES), TestPurchase.purchase_date >= SINCE,
                    TestPurchase.purchase_date <= TODAY))
    return scope_to_ids(query, TestPurchase.business_id, scoped)


def _purchase_factors(session, rules: Rules, today: date, business_ids) -> list[Factor]:
    scoped = scope_of(business_ids)
    since = months_before(today, rules["lookback_months"])
    full = months_before(today, rules["full_weight_months"])
    params = bind_params(business_ids, since=since, today=today)
    out: list[Factor] = []
    last_fail: dict[int, date] = {}  # latest seller failure in the window (older ones precede every counted pass)
    for row in session.connection().execute(cached_statement("failures", scoped, _failures_stmt), params):
        recent = row.purchase_date >= full
        outcome = OUTCOME_LABELS[row.outcome].lower() if row.outcome else "failed"
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
            continue  # the courier's failure is the courier's (OWA 2019 s.39/s.42), never the seller's
        if not recent:
            text += ", 12–24 months ago: reduced weight"
        points = rules[key]
        if points:
            out.append(Factor(row.business_id, kind, points, row.purchase_date, "test_purchase", row.id, text,
                              row.premises_id, row.online_store_id))
    # Retests that failed after the advice given following an earlier failure.
    if rules["failed_retest"]:
        for row in session.connection().execute(cached_statement("retests", scoped, _retest_stmt), params):
            out.append(Factor(row.business_id, "failed_retest", rules["failed_retest"], row.purchase_date,
                              "test_purchase", row.id, "Retest failed after advice following an earlier failure",
                              row.premises_id, row.online_store_id))
    # Passes since the business's last seller failure, most recent first, up to the cap.
    if rules["pass_since_failure"] and rules["pass_credit_max"]:
        passes: dict[int, list] = defaultdict(list)
        for row in session.connection().execute(cached_statement("passes", scoped, _passes_stmt), params):
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
    return scope_to_ids(query, TrainingRefusal.business_id, scoped)


MISSING_ON = sa.bindparam("missing_on", type_=sa.Boolean)
LAPSED_ON = sa.bindparam("lapsed_on", type_=sa.Boolean)


def _latest_of(a, b):
    """The later of two dates either of which may be NULL (SQLite has no GREATEST)."""
    return sa.case((a.is_(None), b), (b.is_(None), a), (a > b, a), else_=b)


def _training_gaps_stmt(scoped):
    """Trading shops that sell knives without a current certificate, the first `cap` per business in shop id order:
    `latest` is the last expiry (NULL: never trained). A certificate counts for its shop, or for every shop of its
    business when recorded without one. One statement: a chain's rescore no longer reads all its shops into Python."""
    cert = TrainingAttendance
    valid = (cert.passed.is_(True), cert.certificate_expires.is_not(None))
    expires = sa.func.max(cert.certificate_expires).label("expires")
    per_shop = scope_to_ids(sa.select(cert.premises_id, expires).where(*valid, cert.premises_id.is_not(None)),
                            cert.business_id, scoped).group_by(cert.premises_id).subquery()
    per_business = scope_to_ids(sa.select(cert.business_id, expires).where(*valid, cert.premises_id.is_(None)),
                                cert.business_id, scoped).group_by(cert.business_id).subquery()
    latest = _latest_of(per_shop.c.expires, per_business.c.expires)
    sells = sa.exists().where(premises_sells.c.premises_id == Premises.id)
    gaps = (sa.select(Premises.business_id, Premises.id, Premises.name, latest.label("latest"),
                      sa.func.row_number().over(partition_by=Premises.business_id, order_by=Premises.id).label("rank"))
            .outerjoin(per_shop, per_shop.c.premises_id == Premises.id)
            .outerjoin(per_business, per_business.c.business_id == Premises.business_id)
            .where(Premises.status == PremisesStatus.TRADING, sells,
                   sa.or_(sa.and_(latest.is_(None), MISSING_ON), sa.and_(latest < TODAY, LAPSED_ON))))
    gaps = scope_to_ids(gaps, Premises.business_id, scoped).subquery()
    return (sa.select(gaps.c.business_id, gaps.c.id, gaps.c.name, gaps.c.latest)
            .where(gaps.c.rank <= CAP).order_by(gaps.c.id))


def _trained_stmt(scoped):
    cert = TrainingAttendance
    ranked = (sa.select(cert.business_id, cert.id, cert.premises_id, cert.certificate_expires,
                        sa.func.row_number().over(partition_by=cert.business_id,
                                                  order_by=(cert.certificate_expires.desc(), cert.id.desc()))
                        .label("rank"))
              .where(cert.passed.is_(True), cert.certificate_expires >= TODAY))
    ranked = scope_to_ids(ranked, cert.business_id, scoped).subquery()
    return sa.select(ranked).where(ranked.c.rank == 1)


def _training_factors(session, rules: Rules, today: date, business_ids) -> list[Factor]:
    scoped = scope_of(business_ids)
    since = months_before(today, rules["lookback_months"])
    params = bind_params(business_ids, since=since, today=today)
    out: list[Factor] = []
    for row in session.connection().execute(cached_statement("refusals", scoped, _refusals_stmt), params):
        declined = row.kind == RefusalKind.DECLINED
        key = "training_declined" if declined else "training_no_show"
        if not rules[key]:
            continue
        record_type, record_id = ("invitation", row.invitation_id) if row.invitation_id else ("training_refusal",
                                                                                              row.id)
        text = "Declined an invitation to knife-sales training" if declined else "Did not attend booked training"
        out.append(Factor(row.business_id, key, rules[key], row.refused_on, record_type, record_id, text,
                          row.premises_id))
    # Shops that sell knives without a current certificate: lapsed (had one) or missing (never had one), at most
    # `training_max_factors` per business.
    cap = rules["training_max_factors"]
    if cap and (rules["training_missing"] or rules["training_lapsed"]):
        params = bind_params(business_ids, today=today, cap=cap, missing_on=bool(rules["training_missing"]),
                             lapsed_on=bool(rules["training_lapsed"]))
        for business_id, premises_id, name, latest in session.connection().execute(
                cached_statement("training_gaps", scoped, _training_gaps_stmt), params):
            if latest is not None:
                key = "training_lapsed"
                text = f"{name}: every training certificate expired on or before {latest:%d %b %Y}"
            else:
                key, text = "training_missing", f"{name}: sells knives, no trained staff on record"
            out.append(Factor(business_id, key, rules[key], latest, "premises", premises_id, text, premises_id))
    # Training completed: the most recent current certificate earns the credit once per business.
    if rules["training_completed"]:
        for row in session.connection().execute(cached_statement("trained", scoped, _trained_stmt),
                                                bind_params(business_ids, today=today)):
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
    best = scope_to_ids(best, RraSignature.business_id, scoped).subquery()
    return sa.select(best).where(best.c.rank == 1, best.c.status != "active")


def _never_stmt(scoped):
    # The agreement is a London scheme: only a business trading from a London shop can be expected to sign it.
    in_london = sa.exists().where(Premises.business_id == Business.id, Premises.borough != OUTSIDE_LONDON,
                                  Premises.status == PremisesStatus.TRADING)
    never = sa.select(Business.id).where(~sa.exists().where(RraSignature.business_id == Business.id), in_london)
    return scope_to_ids(never, Business.id, scoped)


def _rra_factors(session, rules: Rules, today: date, business_ids) -> list[Factor]:
    scoped = scope_of(business_ids)
    params = bind_params(business_ids)
    out: list[Factor] = []
    for row in session.connection().execute(cached_statement("rra", scoped, _rra_stmt), params):
        status = getattr(row.status, "value", row.status)
        key = "rra_withdrawn" if status == "withdrawn" else "rra_suspended"
        if rules[key]:
            out.append(Factor(row.business_id, key, rules[key], row.status_changed_on or row.signed_on,
                              "signature", row.id, f"Responsible Retailers Agreement {status}"))
    if rules["rra_never"]:
        for (business_id,) in session.connection().execute(cached_statement("rra_never", scoped, _never_stmt),
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
    ages = scope_to_ids(ages, OnlineStore.business_id, scoped).subquery()
    return sa.select(ages).where(ages.c.rank <= CAP)


def _prohibited_stmt(scoped):
    prohibited = sa.cast(Listing.prohibited, sa.Text)
    found = _listing_base().add_columns(sa.func.row_number().over(
        partition_by=OnlineStore.business_id, order_by=Listing.id).label("rank")).where(
        prohibited.is_not(None), prohibited.not_in(("[]", "null", "")))
    found = scope_to_ids(found, OnlineStore.business_id, scoped).subquery()
    return sa.select(found).where(found.c.rank <= CAP)


def _listing_factors(session, rules: Rules, today: date, business_ids) -> list[Factor]:
    if not rules["listing_max_factors"]:
        return []
    scoped = scope_of(business_ids)
    params = bind_params(business_ids, cap=rules["listing_max_factors"])
    out: list[Factor] = []
    for row in session.connection().execute(cached_statement("ages", scoped, _ages_stmt), params):
        key = "listing_no_age_check" if row.age_check == "none" else "listing_weak_age_check"
        if rules[key]:
            label = "no age check" if row.age_check == "none" else "a weak age check (self-declaration)"
            out.append(Factor(row.business_id, key, rules[key], row.verdict_at.date() if row.verdict_at else None,
                              "listing", row.id, f"Bladed listing with {label}: {(row.title or row.url)[:200]}",
                              online_store_id=row.online_store_id))
    if rules["prohibited_item"]:
        for row in session.connection().execute(cached_statement("prohibited", scoped, _prohibited_stmt), params):
            out.append(Factor(row.business_id, "prohibited_item", rules["prohibited_item"],
                              row.verdict_at.date() if row.verdict_at else None, "listing", row.id,
                              f"Prohibited item offered: {(row.title or row.url)[:200]}",
                              online_store_id=row.online_store_id))
    return out


def _advice_ignored_stmt(scoped):
    """In-store sales at a shop that had been advised, on an earlier visit, on a point the sale puts in question
    (Challenge 25 policy, till prompts, staff training): the latest such visit per sale."""
    advised = sa.or_(*(getattr(AdviceVisit, name) == CheckResult.ADVICE for name in SALE_POINTS))
    visit = (sa.select(AdviceVisit.visited_on)
             .where(AdviceVisit.premises_id == TestPurchase.premises_id,
                    AdviceVisit.visited_on < TestPurchase.purchase_date, AdviceVisit.visited_on >= SINCE, advised)
             .order_by(AdviceVisit.visited_on.desc()).limit(1).correlate(TestPurchase).scalar_subquery())
    query = (sa.select(TestPurchase.business_id, TestPurchase.id, TestPurchase.purchase_date,
                       TestPurchase.premises_id, visit.label("advised_on"))
             .where(concluded_failure(), counts_against(), TestPurchase.channel == Channel.IN_STORE,
                    TestPurchase.purchase_date >= SINCE, TestPurchase.purchase_date <= TODAY))
    query = scope_to_ids(query, TestPurchase.business_id, scoped).subquery()
    return sa.select(query).where(query.c.advised_on.is_not(None))


def _visit_factors(session, rules: Rules, today: date, business_ids) -> list[Factor]:
    """Advice ignored (brief 1.1, sentencing: failing to make changes after advice): a sale after advice on the
    same point, once per sale, on top of the sale itself."""
    if not rules["advice_ignored"]:
        return []
    scoped = scope_of(business_ids)
    params = bind_params(business_ids, since=months_before(today, rules["lookback_months"]), today=today)
    return [Factor(row.business_id, "advice_ignored", rules["advice_ignored"], row.purchase_date, "test_purchase",
                   row.id, f"Sold after advice on {row.advised_on:%d %b %Y} on Challenge 25, till prompts or "
                   "staff training", row.premises_id)
            for row in session.connection().execute(cached_statement("advice_ignored", scoped,
                                                                     _advice_ignored_stmt), params)]


FACTOR_SOURCES = [_purchase_factors, _training_factors, _rra_factors, _listing_factors, _visit_factors]


def collect_factors(rules: Rules, today: date, business_ids=None, session: Session | None = None) -> list[Factor]:
    session = session or db.session
    factors: list[Factor] = []
    for source in FACTOR_SOURCES:
        factors.extend(source(session, rules, today, business_ids))
    return factors
