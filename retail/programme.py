"""The risk-based programme: shops in a borough ranked by who to visit or test next, each with its reasons.

Targeting is intelligence-led (brief 2.1): previous failures, advice given, no agreement, lapsed training, the listing
monitor's findings, never visited, time since the last contact. The rules below are the whole ranking; each reason
shows its points, so an officer can see why.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from .extensions import db
from .audit import record_event
from .models.purchases import Channel, Operation, OperationTarget, TestPurchase
from .models.listings import StoreMonitor
from .models.register import (OnlineStore, Premises, PremisesStatus, RraSignature, RraStatus,
                              rra_signature_premises)
from .models.training import TrainingAttendance
from .models.visits import AdviceVisit
from .scoping import london_wide
from .timeutil import today_london
from .validation import InvalidValue

# The ranking rules (points), shown on the page.
RULES = {
    "failure": (30, "Each failed test purchase here in the last 24 months"),
    "advice": (25, "Advice given at the last visit: test or revisit to check it was followed"),
    "no_rra": (10, "Not covered by an active Responsible Retailers Agreement"),
    "never_visited": (20, "Never visited"),
    "visit_overdue": (10, "Next visit due date has passed"),
    "training_lapsed": (10, "Staff trained here, but every certificate has expired"),
    "monitor": (10, "The business's online shop sells knives with a weak or no age check, or prohibited items "
                    "(listing monitor)"),
    "per_month": (1, "Each month since the last contact (visit or test), up to 24"),
}


@dataclass
class Ranked:
    premises: Premises
    points: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, key: str, times: int = 1, text: str | None = None) -> None:
        if times <= 0:
            return
        self.points += RULES[key][0] * times
        self.reasons.append(text or RULES[key][1])


@london_wide
def ranked_shops(borough: str, today: date | None = None, limit: int = 100) -> list[Ranked]:
    """Every shop's visits and tests count, whichever authority made them: the ranking is a London-wide fact."""
    shops = db.session.scalars(sa.select(Premises).where(Premises.borough == borough,
                                                         Premises.status == PremisesStatus.TRADING)).all()
    return _rank(shops, today or today_london())[:limit]


@london_wide
def rank_premises(premises_ids: list[int], today: date | None = None) -> list[Ranked]:
    """The given trading shops ranked by the same rules (the shops ticked for an operation's target list)."""
    shops = db.session.scalars(sa.select(Premises).where(Premises.id.in_(premises_ids),
                                                         Premises.status == PremisesStatus.TRADING)).all()
    return _rank(shops, today or today_london())


def _rank(shops: list[Premises], today: date) -> list[Ranked]:
    since = date(today.year - 2, today.month, min(today.day, 28))
    ids = [p.id for p in shops]
    if not ids:
        return []
    failures = dict(db.session.execute(
        sa.select(TestPurchase.premises_id, sa.func.count()).where(
            TestPurchase.premises_id.in_(ids), TestPurchase.failed.is_(True),
            TestPurchase.channel == Channel.IN_STORE, TestPurchase.purchase_date >= since)
        .group_by(TestPurchase.premises_id)).all())
    last_test = dict(db.session.execute(
        sa.select(TestPurchase.premises_id, sa.func.max(TestPurchase.purchase_date))
        .where(TestPurchase.premises_id.in_(ids)).group_by(TestPurchase.premises_id)).all())
    latest = sa.select(AdviceVisit, sa.func.row_number().over(
        partition_by=AdviceVisit.premises_id, order_by=(AdviceVisit.visited_on.desc(), AdviceVisit.id.desc()))
        .label("n")).where(AdviceVisit.premises_id.in_(ids)).subquery()
    visits = {v.premises_id: v for v in db.session.scalars(
        sa.select(sa.orm.aliased(AdviceVisit, latest)).where(latest.c.n == 1))}
    last_certificate = dict(db.session.execute(
        sa.select(TrainingAttendance.premises_id, sa.func.max(TrainingAttendance.certificate_expires))
        .where(TrainingAttendance.premises_id.in_(ids), TrainingAttendance.certificate_expires.is_not(None))
        .group_by(TrainingAttendance.premises_id)).all())
    business_ids = {p.business_id for p in shops}
    monitor_findings = set(db.session.scalars(
        sa.select(OnlineStore.business_id).join(StoreMonitor, StoreMonitor.online_store_id == OnlineStore.id)
        .where(OnlineStore.business_id.in_(business_ids),
               sa.or_(StoreMonitor.risky_listings > 0, StoreMonitor.prohibited_count > 0))))
    covered = set(db.session.scalars(
        sa.select(rra_signature_premises.c.premises_id)
        .join(RraSignature, RraSignature.id == rra_signature_premises.c.signature_id)
        .where(RraSignature.status == RraStatus.ACTIVE, rra_signature_premises.c.premises_id.in_(ids))))
    out = []
    for shop in shops:
        row = Ranked(shop)
        n = failures.get(shop.id, 0)
        row.add("failure", n, f"{n} failed test purchase{'s' if n > 1 else ''} in the last 24 months")
        visit = visits.get(shop.id)
        if visit is None:
            row.add("never_visited")
        else:
            if visit.advice_points:
                row.add("advice", text=f"Advice on {', '.join(visit.advice_points).lower()} at the visit of "
                                       f"{visit.visited_on:%d %b %Y}")
            if visit.next_visit_due and visit.next_visit_due < today:
                row.add("visit_overdue", text=f"Next visit was due {visit.next_visit_due:%d %b %Y}")
        if shop.id not in covered:
            row.add("no_rra")
        expired = last_certificate.get(shop.id)
        if expired is not None and expired < today:
            row.add("training_lapsed", text=f"Staff trained here, but the last certificate expired "
                                            f"{expired:%d %b %Y}")
        if shop.business_id in monitor_findings:
            row.add("monitor")
        contacts = [d for d in (last_test.get(shop.id), visit.visited_on if visit else None) if d]
        if contacts:
            months = min(24, (today.year - max(contacts).year) * 12 + today.month - max(contacts).month)
            row.add("per_month", months, f"{months} month{'s' if months != 1 else ''} since the last contact")
        out.append(row)
    out.sort(key=lambda r: (-r.points, r.premises.name))
    return out


# --- an operation's target list (issue 11 part 2) ------------------------------------------------------------------

MAX_TARGETS = 200  # an operation's list, not the borough's register


class TargetError(InvalidValue):
    """Shops that cannot go on this operation's list (ended operation, outside its boroughs...)."""


def target_operations(today: date | None = None) -> list[Operation]:
    """Operations the user's authority runs that have not ended: the lists a shop can be added to."""
    today = today or today_london()
    return db.session.scalars(sa.select(Operation).where(Operation.ends_on >= today)
                              .order_by(Operation.starts_on, Operation.id)).all()


def add_targets(operation: Operation, premises_ids: list[int], user,
                today: date | None = None) -> list[OperationTarget]:
    """Put the ticked shops on the operation's target list with their points and reasons as they stand today.
    Shops already on it are left as they are; nothing is added if any shop cannot go on it."""
    today = today or today_london()
    if operation.ends_on < today:
        raise TargetError(f"{operation.name} ended on {operation.ends_on:%d %b %Y}: choose a current operation.")
    wanted = list(dict.fromkeys(int(i) for i in premises_ids))
    if not wanted:
        raise TargetError("Tick at least one shop.")
    ranked = {row.premises.id: row for row in rank_premises(wanted, today)}
    missing = [i for i in wanted if i not in ranked]
    if missing:
        raise TargetError("Only trading shops in the register can be targets.")
    outside = sorted({row.premises.name for row in ranked.values()
                      if operation.boroughs and row.premises.borough not in operation.boroughs})
    if outside:
        raise TargetError(f"Outside the operation's boroughs (its authorisation does not cover them): "
                          f"{', '.join(outside)}.")
    have = {t.premises_id for t in operation.targets}
    if len(have | set(wanted)) > MAX_TARGETS:
        raise TargetError(f"An operation's list holds at most {MAX_TARGETS} shops.")
    added = []
    for premises_id in wanted:
        if premises_id in have:
            continue
        row = ranked[premises_id]
        target = OperationTarget(premises_id=premises_id, points=row.points, reasons=list(row.reasons),
                                 added_by_id=user.id)
        operation.targets.append(target)
        added.append(target)
    record_event("Operation", operation.id, f"{len(added)} shop(s) added to the target list from the programme")
    db.session.flush()
    return added


def target_progress(operation: Operation) -> dict[int, int]:
    """For each target shop, how many attempts the operation has logged there (0: still to test)."""
    ids = [t.premises_id for t in operation.targets]
    if not ids:
        return {}
    return dict(db.session.execute(
        sa.select(TestPurchase.premises_id, sa.func.count()).where(
            TestPurchase.operation_id == operation.id, TestPurchase.premises_id.in_(ids))
        .group_by(TestPurchase.premises_id)).all())


def plan_week(premises_ids: list[int], starts_on: date, per_day: int = 4) -> list[tuple[date, list[Premises]]]:
    """The chosen shops as a week of visits: grouped by postcode so each day's route stays in one area, Monday to
    Friday from `starts_on`, `per_day` shops a day."""
    from datetime import timedelta

    shops = sorted(db.session.scalars(sa.select(Premises).where(Premises.id.in_(premises_ids))).all(),
                   key=lambda p: (p.postcode_key, p.name))
    days, day = [], starts_on
    for start in range(0, len(shops), per_day):
        while day.weekday() >= 5:
            day += timedelta(days=1)
        days.append((day, shops[start:start + per_day]))
        day += timedelta(days=1)
    return days
