"""Figures from the register shared London-wide: premises by borough with their failure rates, RRA adoption and
training coverage, the RRA adoption review, and the online stores the monitor watches."""
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from ..boroughs import BY_CODE, LONDON_BOROUGHS, borough_name
from ..extensions import db
from ..models.listings import StoreMonitor
from ..models.purchases import TestPurchase
from ..models.register import Premises, PremisesStatus, RraSignature, RraStatus, premises_sells, rra_signature_premises
from ..models.training import TrainingAttendance, TrainingSession
from ..scoping import unscoped
from ..timeutil import LONDON
from .purchases import _purchase_counts
from .tables import LONDON_CODES, Column, Filters, Rate, Table

# ---------------------------------------------------------------------------------------------------------------
# Boroughs: failure rates, RRA adoption and training coverage

def _knife_selling():
    return sa.exists().where(premises_sells.c.premises_id == Premises.id)


def _rra_covered(as_of: date):
    """Premises named on a signature that was in force on `as_of`.

    A signature counts if it was signed by then and is active now, or has been suspended/withdrawn only after
    `as_of` (its last status change is later). For today this is exactly "active".
    """
    return sa.exists().where(
        rra_signature_premises.c.premises_id == Premises.id,
        RraSignature.id == rra_signature_premises.c.signature_id,
        RraSignature.signed_on <= as_of,
        sa.or_(RraSignature.status == RraStatus.ACTIVE, RraSignature.status_changed_on > as_of))


def _london_wide(query) -> list:
    """Run a register query London-wide: training completion is shared, but the sessions that issued the
    certificates are owned by the authorities that ran them, so a borough's own scope would miss its neighbours'."""
    with unscoped():
        return db.session.execute(query).all()


def _trained(as_of: date):
    """Premises with at least one certificate current on `as_of` (issued by then, expiring on or after it)."""
    end_of_day = datetime.combine(as_of + timedelta(days=1), time(0), LONDON).astimezone(UTC)
    return sa.exists().where(
        TrainingAttendance.premises_id == Premises.id,
        TrainingAttendance.certificate_expires >= as_of,
        TrainingSession.id == TrainingAttendance.session_id,
        TrainingSession.starts_at < end_of_day)


def borough_measures(filters: Filters, all_boroughs: bool = False) -> Table:
    """One row per borough (the chosen one, or all 33 London boroughs); `all_boroughs` ignores the filter (map)."""
    table = Table("boroughs", "Failure rates, RRA adoption and training coverage by borough", [
        Column("Borough"),
        Column("Underage, in store: failure rate", "rate"),
        Column("Challenge 25, in store: failure rate", "rate"),
        Column("Knife-selling trading premises", "number"),
        Column("RRA adoption", "rate", "covered", "premises"),
        Column("Training coverage", "rate", "with a current certificate", "premises"),
    ])
    codes = (filters.borough,) if filters.borough and not all_boroughs else LONDON_CODES
    premises_where = [Premises.borough.in_(codes), Premises.status == PremisesStatus.TRADING, _knife_selling()]
    trained = _trained(filters.as_of)
    columns = [Premises.borough, sa.func.count().label("premises"),
               sa.func.sum(sa.case((_rra_covered(filters.as_of), 1), else_=0)).label("rra")]
    columns.append(sa.func.sum(sa.case((trained, 1), else_=0)).label("trained"))
    coverage = {r.borough: r for r in _london_wide(
        sa.select(*columns).where(*premises_where).group_by(Premises.borough))}
    counts = _purchase_counts(replace(filters, borough=None), Premises.borough, TestPurchase.kind,
                              join=(Premises, Premises.id == TestPurchase.premises_id),
                              where=(Premises.borough.in_(codes), TestPurchase.channel == "in-store"),
                              by_date=False)
    failures = {key: (c[2], c[1]) for key, c in counts.items()}
    order = sorted(codes, key=borough_name)
    sums = [0, 0, 0, 0, 0, 0, 0]
    for code in order:
        cov = coverage.get(code)
        n = cov.premises if cov else 0
        rra = (cov.rra or 0) if cov else 0
        tr = (getattr(cov, "trained", 0) or 0) if cov else 0
        under = failures.get((code, "underage"), (0, 0))
        c25 = failures.get((code, "challenge25"), (0, 0))
        table.rows.append([borough_name(code), Rate(*under), Rate(*c25), n, Rate(rra, n), Rate(tr, n)])
        for i, v in enumerate((under[0], under[1], c25[0], c25[1], n, rra, tr)):
            sums[i] += v
    if len(order) > 1:
        table.footer = ["All London", Rate(sums[0], sums[1]), Rate(sums[2], sums[3]), sums[4], Rate(sums[5], sums[4]),
                        Rate(sums[6], sums[4])]
    table.notes.append(f"RRA adoption and training coverage are as of {filters.as_of:%d %b %Y}, over knife-selling "
                       "premises trading in today's register.")
    return table


def borough_table(filters: Filters) -> tuple[Table, Table | None]:
    """(the table to show, the all-London table for the map or None outside London).

    With a London borough chosen, the table has that borough's row and the all-London totals to compare with.
    """
    if filters.borough and filters.borough not in BY_CODE:
        return borough_measures(filters), None
    all_london = borough_measures(filters, all_boroughs=True)
    if not filters.borough:
        return all_london, all_london
    chosen = replace(all_london, rows=[r for r in all_london.rows if r[0] == filters.borough_label],
                     footer=["All London", *all_london.footer[1:]], notes=list(all_london.notes))
    return chosen, all_london


MAP_MEASURES = {
    "failure": ("Underage failure rate (in store)", 1, "failure"),
    "rra": ("RRA adoption", 4, "coverage"),
    "training": ("Training coverage", 5, "coverage"),
}


def map_values(table: Table, measure: str) -> dict:
    """Borough code -> (percent or None, "15% (3 of 20)") for the tile map, from an all-boroughs table."""
    return _values_by_code(table, MAP_MEASURES[measure][1])


def _values_by_code(table: Table, index: int) -> dict:
    by_name = {b.name: b.code for b in LONDON_BOROUGHS}
    out = {}
    for row in table.rows:
        code = by_name.get(row[0])
        if code:
            cell: Rate = row[index]
            out[code] = (cell.percent, str(cell))
    return out


# ---------------------------------------------------------------------------------------------------------------
# The RRA adoption review (City Hall): per London borough, trading shops whose business has signed up

def _business_signed_up(as_of: date):
    """The premises' business had a signature in force on `as_of` (today: an active one), whichever premises it
    names: a business that signs up commits all its shops."""
    return sa.exists().where(
        RraSignature.business_id == Premises.business_id,
        RraSignature.signed_on <= as_of,
        sa.or_(RraSignature.status == RraStatus.ACTIVE, RraSignature.status_changed_on > as_of))


def rra_review_tables(filters: Filters) -> tuple[Table, Table]:
    """(the table to show, the all-London table for the map), from one grouped query.

    Per London borough: trading shops, those whose business has an RRA signature in force, the share, and training
    coverage. With a borough chosen, the table has its row and the London totals to compare with; outside London,
    no rows.
    """
    everywhere = Table("rra_review", "RRA adoption by London borough", [
        Column("Borough"),
        Column("Trading shops", "number"),
        Column("Shops whose business has signed the RRA", "number"),
        Column("RRA adoption", "rate", "signed up", "shops"),
        Column("Training coverage", "rate", "with a current certificate", "shops"),
    ], empty="The RRA adoption review covers the London boroughs only.")
    as_of = filters.as_of
    counts = {r.borough: r for r in _london_wide(
        sa.select(Premises.borough, sa.func.count().label("shops"),
                  sa.func.sum(sa.case((_business_signed_up(as_of), 1), else_=0)).label("signed"),
                  sa.func.sum(sa.case((_trained(as_of), 1), else_=0)).label("trained"))
        .where(Premises.borough.in_(LONDON_CODES), Premises.status == PremisesStatus.TRADING)
        .group_by(Premises.borough))}
    sums = [0, 0, 0]
    for code in sorted(LONDON_CODES, key=borough_name):
        row = counts.get(code)
        shops, signed, trained = (row.shops, row.signed or 0, row.trained or 0) if row else (0, 0, 0)
        everywhere.rows.append([borough_name(code), shops, signed, Rate(signed, shops), Rate(trained, shops)])
        sums = [sums[0] + shops, sums[1] + signed, sums[2] + trained]
    everywhere.footer = ["All London", sums[0], sums[1], Rate(sums[1], sums[0]), Rate(sums[2], sums[0])]
    everywhere.notes.append(
        f"As of {as_of:%d %b %Y}: shops trading in today's register. A shop counts as signed up when its business had "
        "an agreement in force (the London RRA, a borough charter or another scheme), whichever of its shops the "
        "agreement names. Training coverage: shops with at least one current certificate.")
    if not filters.borough:
        return everywhere, everywhere
    chosen = replace(everywhere, rows=[r for r in everywhere.rows if r[0] == filters.borough_label],
                     notes=list(everywhere.notes))
    if not chosen.rows:  # outside London
        chosen.footer = None
    return chosen, everywhere


def rra_review(filters: Filters) -> Table:
    return rra_review_tables(filters)[0]


def rra_review_map_values(table: Table) -> dict:
    """Borough code -> (percent or None, "40% (2 of 5)") of RRA adoption, for the tile map."""
    return _values_by_code(table, 3)


# ---------------------------------------------------------------------------------------------------------------
# Online

AGE_ROWS = (("strong", "Strong age check"), ("weak", "Weak (self-declaration)"), ("none", "No age check"),
            (None, "Not checked yet"))


def online_monitoring(filters: Filters) -> Table:
    table = Table("online_stores", "Online stores monitored, by age check",
                  [Column("Age check at checkout"), Column("Stores", "number"),
                   Column("Share of monitored stores", "rate", "stores", "monitored")])
    counts = dict(db.session.execute(
        sa.select(StoreMonitor.age_check, sa.func.count()).where(StoreMonitor.enabled.is_(True))
        .group_by(StoreMonitor.age_check)).all())
    total = sum(counts.values())
    if not total:
        return table
    known = {level for level, _ in AGE_ROWS if level}
    counts[None] = counts.get(None, 0) + sum(v for k, v in counts.items() if k is not None and k not in known)
    for level, label in AGE_ROWS:
        table.rows.append([label, counts.get(level, 0), Rate(counts.get(level, 0), total)])
    table.footer = ["All monitored stores", total, Rate(total, total)]
    table.notes.append("The monitor's current verdict for each store (the weakest age check among its bladed "
                       "listings); not limited by the date range.")
    return table

