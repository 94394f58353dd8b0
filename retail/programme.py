"""The risk-based programme: shops in a borough ranked by who to visit or test next, each with its reasons.

Targeting is intelligence-led (brief 2.1): previous failures, advice given, no agreement, never visited, time since
the last contact. The rules below are the whole ranking; each reason shows its points, so an officer can see why.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from .extensions import db
from .models.purchases import Channel, TestPurchase
from .models.register import Premises, PremisesStatus, RraSignature, RraStatus, rra_signature_premises
from .models.visits import AdviceVisit
from .scoping import london_wide
from .timeutil import today_london

# The ranking rules (points), shown on the page.
RULES = {
    "failure": (30, "Each failed test purchase here in the last 24 months"),
    "advice": (25, "Advice given at the last visit: test or revisit to check it was followed"),
    "no_rra": (10, "Not covered by an active Responsible Retailers Agreement"),
    "never_visited": (20, "Never visited"),
    "visit_overdue": (10, "Next visit due date has passed"),
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
    today = today or today_london()
    since = date(today.year - 2, today.month, min(today.day, 28))
    shops = db.session.scalars(sa.select(Premises).where(Premises.borough == borough,
                                                         Premises.status == PremisesStatus.TRADING)).all()
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
        contacts = [d for d in (last_test.get(shop.id), visit.visited_on if visit else None) if d]
        if contacts:
            months = min(24, (today.year - max(contacts).year) * 12 + today.month - max(contacts).month)
            row.add("per_month", months, f"{months} month{'s' if months != 1 else ''} since the last contact")
        out.append(row)
    out.sort(key=lambda r: (-r.points, r.premises.name))
    return out[:limit]


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
