"""The retention schedule each authority sets (defaults from brief 5.2 and 5.3) and the job that applies it.

- Volunteers (children): erased `retention_volunteer_months` after their last operation or attempt, unless an
  attempt of theirs is still within the enforcement period or has a follow-up still pending (a prosecution may need
  the parent's statement identifying the child). Erased means the volunteer, their consents and the personal values
  their audit entries held apart are deleted; attempts keep their result but lose the link to the child.
- Test purchase records: kept whole for `retention_enforcement_months` after the attempt (the naming eligibility
  window, brief 5.3); they are the business's record, so the job never deletes them.
- Naming entries: unpublished at expiry (the naming module's own rule), their personal data erased
  `retention_naming_months` after the case closed.
- The listing monitor's evidence (pages as fetched, screenshots): removed `retention_evidence_months` after each
  page's last fetch, except the page a monitored listing's verdict rests on and the evidence of a store under
  enforcement (monitor_evidence.py). One deployment-wide period, not the authority's: see EVIDENCE_PERIOD.
"""
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from ..audit import acting_as, record_event, set_reason
from ..extensions import db
from ..models.authority import Authority, AuthorityKind
from ..models.compliance import NamingCase
from ..models.purchases import (ActionStatus, FollowUpAction, Operation, TestPurchase, Volunteer,
                                VolunteerConsent)
from ..models.retention import AuditPersonal, RetentionRun
from ..settings import all_settings, deployment_settings, save_deployment_settings, save_settings
from ..timeutil import add_months, today_london
from . import monitor_evidence, naming_data


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    default: int
    low: int
    high: int
    why: str


PERIODS = (
    Period("retention_volunteer_months", "Volunteer records removed after their last operation (months)", 12, 1,
           36, "A child's details are kept only while they may take part again; the ICO removes named individuals "
               "after 12 months (brief 5.2)."),
    Period("retention_enforcement_months", "Test purchase records kept whole for enforcement (months)", 24, 6, 120,
           "The naming eligibility window of 12–24 months (brief 5.3); a child's link to an attempt is kept this "
           "long, or while a follow-up is pending."),
    Period("retention_naming_months", "Naming cases' personal data removed after the case closed (months)", 24, 12,
           72, "The ICO removes company entries after 2 years (brief 5.2)."),
)
# The monitor's stores, listings and evidence are shared London-wide (retail/scoping.py): a page kept for one
# borough's officers is the same page for every other, so no single authority may shorten or lengthen its life.
# The period is a deployment setting, set by London Trading Standards (the partnership that coordinates the
# boroughs' work; see may_set_deployment_periods) and shown read-only to every other admin.
EVIDENCE_PERIOD = Period(
    "retention_evidence_months", "Listing monitor evidence (pages and screenshots) removed after their last fetch "
    "(months), London-wide", 24, 12, 72,
    "The pages an online test purchase rests on (brief 2.4: listing URL, screenshots); the naming window looks back "
    "12–24 months (brief 5.3) and the ICO removes company entries after 2 years (brief 5.2). The page each monitored "
    "listing's verdict rests on, and the evidence of a store with a test purchase in the enforcement period, a "
    "follow-up pending or a naming case, are kept whatever this says.")
DEPLOYMENT_PERIODS = (EVIDENCE_PERIOD,)
DEFAULTS = {p.key: str(p.default) for p in PERIODS + DEPLOYMENT_PERIODS}
EVIDENCE_REPORT_KEY = "monitor_evidence"  # the deployment-wide entry of a run's report (the others are authorities)


def _months(periods: tuple[Period, ...], values: dict) -> dict[str, int]:
    result = {}
    for p in periods:
        try:
            result[p.key] = min(p.high, max(p.low, int(values.get(p.key) or p.default)))
        except ValueError:
            result[p.key] = p.default
    return result


def schedule(authority_id: int | None = None) -> dict[str, int]:
    """The authority's periods in months (its own setting, else the deployment's, else the default)."""
    return _months(PERIODS, all_settings(authority_id))


def evidence_months() -> int:
    """The deployment's period for the monitor's evidence (an authority's own value, if one were saved, is ignored)."""
    return _months(DEPLOYMENT_PERIODS, deployment_settings())[EVIDENCE_PERIOD.key]


def may_set_deployment_periods(authority: Authority | None) -> bool:
    return authority is not None and authority.kind == AuthorityKind.PARTNERSHIP


def schedule_values(authority: Authority) -> dict[str, str]:
    """The periods an admin of `authority` sees on the schedule page: its own and the deployment's."""
    values = {k: str(v) for k, v in schedule(authority.id).items()}
    values[EVIDENCE_PERIOD.key] = str(evidence_months())
    return values


def save_schedule(authority: Authority, form) -> tuple[dict[str, str], dict[str, str]]:
    """Save the authority's periods (and, for London Trading Standards, the deployment's) from a submitted form, or
    nothing if any is out of bounds. Returns (what was submitted, problems by field)."""
    own = {p.key: str(form.get(p.key, "")).strip() for p in PERIODS}
    deployment = {p.key: str(form.get(p.key, "")).strip() for p in DEPLOYMENT_PERIODS} \
        if may_set_deployment_periods(authority) else {}
    problems = validate_schedule(own)
    if deployment:
        problems.update(validate_schedule(deployment, DEPLOYMENT_PERIODS))
    if not problems:
        save_settings(own, authority_id=authority.id)
        if deployment:
            save_deployment_settings(deployment)
    return {**own, **deployment}, problems


def validate_schedule(data: dict, periods: tuple[Period, ...] = PERIODS) -> dict[str, str]:
    """Problems by field: each period must be a whole number of months within its bounds."""
    problems = {}
    for p in periods:
        raw = str(data.get(p.key, "")).strip()
        # isascii: "²" is a digit to str.isdigit but not a number to int()
        if not (raw.isascii() and raw.isdigit()) or not p.low <= int(raw) <= p.high:
            problems[p.key] = f"Enter a whole number of months from {p.low} to {p.high}."
    return problems


def within_period(day: date, months: int, as_of: date) -> bool:
    """Whether something dated `day` is still within a period of `months` on `as_of` (every period's one rule)."""
    return add_months(day, months) > as_of


def period_start(as_of: date, months: int) -> date:
    """The earliest day still within a period of `months` on `as_of`, by the same rule (for a query's `>=`):
    add_months clamps to the month's end, so the day is found by that rule, not by subtracting months."""
    day = add_months(as_of, -months)  # never within: add_months(day, months) <= as_of
    while not within_period(day, months, as_of):
        day += timedelta(days=1)
    return day


# --- volunteers -------------------------------------------------------------------------------------------------

def _volunteer_facts(authority_id: int) -> list[tuple]:
    """(volunteer, last activity date, last attempt date, pending follow-ups) for one authority, in four queries."""
    volunteers = db.session.scalars(sa.select(Volunteer).where(Volunteer.authority_id == authority_id)).all()
    last_op = dict(db.session.execute(
        sa.select(VolunteerConsent.volunteer_id, sa.func.max(Operation.ends_on))
        .join(Operation, Operation.id == VolunteerConsent.operation_id)
        .where(VolunteerConsent.authority_id == authority_id).group_by(VolunteerConsent.volunteer_id)).all())
    last_tp = dict(db.session.execute(
        sa.select(TestPurchase.volunteer_id, sa.func.max(TestPurchase.purchase_date))
        .where(TestPurchase.volunteer_id.is_not(None), TestPurchase.authority_id == authority_id)
        .group_by(TestPurchase.volunteer_id)).all())
    pending = dict(db.session.execute(
        sa.select(TestPurchase.volunteer_id, sa.func.count())
        .join(FollowUpAction, FollowUpAction.test_purchase_id == TestPurchase.id)
        .where(TestPurchase.volunteer_id.is_not(None), TestPurchase.authority_id == authority_id,
               FollowUpAction.status == ActionStatus.PENDING).group_by(TestPurchase.volunteer_id)).all())
    facts = []
    for v in volunteers:
        dates = [d for d in (last_op.get(v.id), last_tp.get(v.id), v.created_at.date()) if d is not None]
        facts.append((v, max(dates), last_tp.get(v.id), pending.get(v.id, 0)))
    return facts


def erase_volunteer(volunteer: Volunteer) -> None:
    """Remove a volunteer and every personal value about them; attempts keep their result without the child."""
    ids = [volunteer.id]
    consent_ids = [c.id for c in volunteer.consents]
    for tp in db.session.scalars(sa.select(TestPurchase).where(TestPurchase.volunteer_id == volunteer.id)):
        tp.volunteer_id = None
    for consent in list(volunteer.consents):
        db.session.delete(consent)
    db.session.delete(volunteer)
    db.session.flush()
    db.session.execute(sa.delete(AuditPersonal).where(sa.or_(
        sa.and_(AuditPersonal.record_type == "Volunteer", AuditPersonal.record_id.in_(ids)),
        sa.and_(AuditPersonal.record_type == "VolunteerConsent", AuditPersonal.record_id.in_(consent_ids or [0])))))


def _apply_volunteers(authority_id: int, periods: dict, as_of: date, dry_run: bool) -> dict:
    erased, held = [], []
    for v, last, last_attempt, pending in _volunteer_facts(authority_id):
        if add_months(last, periods["retention_volunteer_months"]) > as_of:
            continue
        in_enforcement = (last_attempt is not None
                          and within_period(last_attempt, periods["retention_enforcement_months"], as_of))
        if in_enforcement or pending:
            held.append(v.id)
            continue
        erased.append(v.id)
        if not dry_run:
            erase_volunteer(v)
    return {"volunteers_erased": len(erased), "volunteer_ids_erased": erased,
            "volunteers_held_for_enforcement": len(held)}


# --- naming -----------------------------------------------------------------------------------------------------

def _apply_naming(authority_id: int, periods: dict, as_of: date, dry_run: bool) -> dict:
    from ..models.compliance import CaseStatus

    published = db.session.scalars(sa.select(NamingCase).where(
        NamingCase.authority_id == authority_id, NamingCase.status == CaseStatus.PUBLISHED,
        NamingCase.expires_on <= as_of)).all()
    expired = [c.id for c in published]
    if published and not dry_run:
        from .. import naming

        # The naming module owns unpublishing; it works London-wide, which is fine: expiry is expiry everywhere.
        naming.expire_published(as_of)
    erased = []
    closed = db.session.scalars(sa.select(NamingCase).where(
        NamingCase.authority_id == authority_id, NamingCase.status.in_(naming_data.CLOSED))).all()
    for case in closed:
        ended = naming_data.closed_on(case)
        if ended is None or add_months(ended, periods["retention_naming_months"]) > as_of:
            continue
        if not naming_data.has_personal_data(case) and not db.session.scalar(sa.select(sa.func.count()).where(
                AuditPersonal.record_type == "NamingCase", AuditPersonal.record_id == case.id)):
            continue
        erased.append(case.id)
        if not dry_run:
            naming_data.erase_personal_data(case)
    return {"naming_unpublished": len(expired), "naming_case_ids_unpublished": expired,
            "naming_personal_data_erased": len(erased), "naming_case_ids_erased": erased}


# --- the job ----------------------------------------------------------------------------------------------------

def apply_retention(as_of: date | None = None, dry_run: bool = False, actor: str = "system") -> RetentionRun:
    """Apply every authority's schedule as if on `as_of`; record and return the run with what it removed (or, in
    a dry run, would remove). Runs unscoped: it is the system's own job, for every authority."""
    as_of = as_of or today_london()
    report = {}
    enforcement = {}
    with acting_as(actor):
        set_reason("Retention schedule" + (" (dry run)" if dry_run else ""))
        for authority_id, name in db.session.execute(sa.select(Authority.id, Authority.name)
                                                     .order_by(Authority.id)).all():
            periods = schedule(authority_id)
            enforcement[authority_id] = periods["retention_enforcement_months"]
            entry = {"authority": name, "schedule": periods}
            entry.update(_apply_volunteers(authority_id, periods, as_of, dry_run))
            entry.update(_apply_naming(authority_id, periods, as_of, dry_run))
            report[str(authority_id)] = entry
        months = evidence_months()
        report[EVIDENCE_REPORT_KEY] = monitor_evidence.apply(
            months, period_start(as_of, months),
            {a: period_start(as_of, m) for a, m in enforcement.items()},
            lambda day, authority_id: within_period(day, enforcement[authority_id], as_of), dry_run)
        run = RetentionRun(as_of=as_of, dry_run=dry_run, actor=actor, report=report)
        db.session.add(run)
        db.session.flush()
        if not dry_run:
            record_event("RetentionRun", run.id,
                         f"Retention applied as of {as_of:%d %b %Y}: {removed_count(run)} removed")
        set_reason(None)
    return run


def authority_reports(run: RetentionRun) -> dict[str, dict]:
    """The run's entries for each authority (its report also has the deployment-wide evidence entry)."""
    return {key: entry for key, entry in run.report.items() if key != EVIDENCE_REPORT_KEY}


def removed_count(run: RetentionRun) -> int:
    evidence = run.report.get(EVIDENCE_REPORT_KEY) or {}
    return (sum(e["volunteers_erased"] + e["naming_personal_data_erased"] for e in authority_reports(run).values())
            + evidence.get("evidence_pages_removed", 0))


def last_run(dry_run: bool | None = False) -> RetentionRun | None:
    query = sa.select(RetentionRun).order_by(RetentionRun.id.desc()).limit(1)
    if dry_run is not None:
        query = query.where(RetentionRun.dry_run.is_(dry_run))
    return db.session.scalar(query)


# Tables an erasure deletes from or blanks: compacted after a run so no old row version keeps the values.
# (listing_evidence: not personal data, but its pages are large and the point of removing them is the space.)
ERASED_TABLES = ("volunteer", "volunteer_consent", "audit_personal", "naming_case", "test_purchase",
                 "listing_evidence")


def compact_storage() -> None:
    """After a committed erasure: SQLite (secure_delete already zeroed the freed space) moves the write-ahead log
    into the file and truncates it; PostgreSQL vacuums the erased tables so dead row versions are reclaimed."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    elif engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ERASED_TABLES:
                conn.exec_driver_sql(f"VACUUM {table}")


def nightly_retention() -> None:
    """Scheduler job: apply the schedule as of today and keep the report for the admin page."""
    with acting_as("scheduler:retention"):
        run = apply_retention(actor="scheduler:retention")
        db.session.commit()
    if removed_count(run):
        compact_storage()
