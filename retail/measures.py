"""The measures dashboard's figures: every cross-area query in one place, aggregated in SQL, returned as tables.

Rules that hold for every table (the page says them too):
- Rates count concluded test purchases only: a pass (PASS_*) or a fail (FAIL_*); INCONCLUSIVE and online purchases
  still in progress are left out. Every rate carries the count behind it ("15% (3 of 20)").
- Underage and Challenge 25 tests are never added together.
- The borough filter keeps what is located in the borough: in-store test purchases at premises there, and premises.
  Online test purchases and online stores have no borough, so they are left out of borough-filtered tables and the
  online view always covers every area.
- RRA adoption and training coverage are a picture at the end of the period ("as of" the `to` date, or today if
  that is later): premises are today's register (knife-selling, trading).
"""
import csv
import io
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from .boroughs import BY_CODE, LONDON_BOROUGHS, OUTSIDE_LONDON, borough_name
from .extensions import db
from .models.register import (
    BUSINESS_TYPE_LABELS,
    Business,
    BusinessType,
    Premises,
    PremisesStatus,
    RraSignature,
    RraStatus,
    premises_sells,
    rra_signature_premises,
)
from .models.compliance import CASE_STATUS_LABELS, NamingCase
from .models.listings import StoreMonitor
from .models.purchases import TestPurchase
from .models.training import TrainingAttendance, TrainingSession
from .timeutil import LONDON, today_london

LONDON_CODES = tuple(b.code for b in LONDON_BOROUGHS)
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# ---------------------------------------------------------------------------------------------------------------
# Filters

@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    borough: str | None = None

    @property
    def as_of(self) -> date:
        return min(self.end, today_london())

    @property
    def borough_label(self) -> str:
        return borough_name(self.borough) if self.borough else "All areas"

    @property
    def period_label(self) -> str:
        return f"{self.start:%d %b %Y} to {self.end:%d %b %Y}"

    def args(self) -> dict:
        out = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.borough:
            out["borough"] = self.borough
        return out


def default_filters(today: date | None = None) -> Filters:
    """The last 12 months, from the first of the month 11 months ago to today."""
    today = today or today_london()
    year, month = today.year, today.month - 11
    if month <= 0:
        year, month = year - 1, month + 12
    return Filters(date(year, month, 1), today, None)


def parse_filters(args) -> tuple[Filters, list[str]]:
    """Filters from query arguments (from, to, borough); bad values fall back to the default with a message."""
    default = default_filters()
    errors = []

    def parse_date(name: str, fallback: date) -> date:
        raw = (args.get(name) or "").strip()
        if not raw:
            return fallback
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors.append(f"'{raw}' is not a date (use YYYY-MM-DD); showing {fallback:%d %b %Y} instead.")
            return fallback

    start = parse_date("from", default.start)
    end = parse_date("to", default.end)
    if start > end:
        errors.append("The start date is after the end date; the dates have been swapped.")
        start, end = end, start
    borough = (args.get("borough") or "").strip() or None
    if borough and borough not in BY_CODE and borough != OUTSIDE_LONDON:
        errors.append("Unknown borough; showing all areas.")
        borough = None
    return Filters(start, end, borough), errors


# ---------------------------------------------------------------------------------------------------------------
# Cells and tables

@dataclass(frozen=True)
class Rate:
    """A share with the counts behind it: `part` of `whole` (failures of tests, covered of premises)."""

    part: int
    whole: int

    @property
    def percent(self) -> float | None:
        return 100.0 * self.part / self.whole if self.whole else None

    @property
    def percent_text(self) -> str:
        p = self.percent
        return "no data" if p is None else f"{int(p + 0.5)}%"

    def __str__(self) -> str:
        if not self.whole:
            return "no data"
        return f"{self.percent_text} ({self.part:,} of {self.whole:,})"


@dataclass
class Column:
    label: str
    kind: str = "text"  # text | number | rate | date
    part_label: str = "failed"
    whole_label: str = "tested"


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    footer: list | None = None  # a totals row, if any
    notes: list[str] = field(default_factory=list)
    empty: str = "No records match these filters."
    # A row may carry one value more than there are columns: the id of the record its first cell links to.
    total_rows: int | None = None  # how many rows there are in all, when `rows` holds only the first few

    def csv_header(self) -> list[str]:
        header = []
        for column in self.columns:
            if column.kind == "rate":
                header += [f"{column.label}: {column.part_label}", f"{column.label}: {column.whole_label}",
                           f"{column.label}: %"]
            else:
                header.append(column.label)
        return header

    def csv_row(self, row: list) -> list:
        out = []
        for column, cell in zip(self.columns, row[:len(self.columns)], strict=True):
            if column.kind == "rate":
                p = cell.percent
                out += [cell.part, cell.whole, "" if p is None else f"{p:.1f}"]
            elif column.kind == "date":
                out.append(cell.isoformat() if cell else "")
            else:
                out.append(_csv_safe(cell))
        return out

    def to_csv(self, filters: Filters) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(self.csv_header())
        for row in self.rows:
            writer.writerow(self.csv_row(row))
        if self.footer:
            writer.writerow(self.csv_row(self.footer))
        return buffer.getvalue()


def _csv_safe(value):
    """Stop spreadsheet formula injection through names typed into the register."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def month_keys(start: date, end: date) -> list[tuple[int, int]]:
    keys = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        keys.append((year, month))
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return keys


def month_label(key: tuple[int, int], short: bool = False) -> str:
    year, month = key
    return f"{MONTH_NAMES[month - 1]} {str(year)[2:] if short else year}"


# ---------------------------------------------------------------------------------------------------------------
# Test purchases

KINDS = (("underage", "Underage"), ("challenge25", "Challenge 25"))
CHANNELS = (("in-store", "in store"), ("online", "online"))


def _classify(outcome) -> tuple[int, int]:
    """(tested, failed) for one outcome: passes and fails are tested; INCONCLUSIVE is neither."""
    value = outcome or ""
    if value.startswith("FAIL_"):
        return 1, 1
    if value.startswith("PASS_"):
        return 1, 0
    return 0, 0


def _purchase_counts(filters: Filters, *group_cols, join=None, where=(), by_date=True) -> dict[tuple, list[int]]:
    """Concluded purchases grouped by `group_cols` and outcome: key -> [concluded, tested, failed].

    Grouping by the outcome itself and classifying it here keeps the SQL to a plain GROUP BY that a covering index
    on (kind, channel, purchase_date, outcome, business_id, premises_id) answers without reading the table.
    """
    # Enum columns come back as plain strings: thousands of rows, no per-row enum conversion.
    selected = [sa.type_coerce(c, sa.String) if isinstance(c.type, sa.Enum) else c for c in group_cols]
    query = sa.select(*selected, sa.type_coerce(TestPurchase.outcome, sa.String), sa.func.count())
    if join is not None:
        query = query.join(*join)
    query = _purchase_where(query, TestPurchase, filters, by_date).where(*where).group_by(*group_cols,
                                                                                    TestPurchase.outcome)
    out: dict[tuple, list[int]] = {}
    for row in db.session.execute(query):
        *key, outcome, n = row
        key = tuple(key)
        tested, failed = _classify(outcome)
        acc = out.setdefault(key, [0, 0, 0])
        acc[0] += n
        acc[1] += n * tested
        acc[2] += n * failed
    return out


def _purchase_where(query, TestPurchase, filters: Filters, by_date: bool = True):
    """Date range always; with a borough, only in-store purchases at premises in that borough.

    With `by_date`, the kind and channel are named (every value, if not narrowed) so the planner walks the index on
    (kind, channel, purchase_date, outcome, ...) as a few ranges and reads nothing else. Queries that should start
    from the premises (a few boroughs out of the whole country) leave them out.
    """
    from .models.purchases import Channel, PurchaseKind

    if by_date:
        channels = [Channel.IN_STORE] if filters.borough else list(Channel)
        query = query.where(TestPurchase.kind.in_(list(PurchaseKind)), TestPurchase.channel.in_(channels))
    elif filters.borough:
        query = query.where(TestPurchase.channel == Channel.IN_STORE)
    query = query.where(TestPurchase.purchase_date >= filters.start, TestPurchase.purchase_date <= filters.end,
                        TestPurchase.outcome.isnot(None))
    if filters.borough:
        query = query.where(TestPurchase.premises_id.in_(
            sa.select(Premises.id).where(Premises.borough == filters.borough)))
    return query


def _rate_columns(filters: Filters) -> list[tuple[str, str, str]]:
    """(kind, channel, label) for the rate columns; online ones are dropped when a borough is chosen."""
    out = []
    for kind, kind_label in KINDS:
        for channel, channel_label in CHANNELS:
            if filters.borough and channel == "online":
                continue
            out.append((kind, channel, f"{kind_label}, {channel_label}"))
    return out


BOROUGH_ONLINE_NOTE = ("Online test purchases have no borough, so they are left out when a borough is chosen; "
                       "see the Online view for them.")


def purchases_by_month(filters: Filters) -> Table:
    rate_cols = _rate_columns(filters)
    table = Table("months", "Test purchases by month",
                  [Column("Month"), Column("Concluded", "number"), Column("In store", "number"),
                   Column("Online", "number")]
                  + [Column(f"{label}: failure rate", "rate") for _, _, label in rate_cols])
    # Grouped by day in SQL (portable, index-only) and bucketed into months here.
    cells: dict[tuple, list[int]] = {}
    for (day, kind, channel), counts in _purchase_counts(filters, TestPurchase.purchase_date, TestPurchase.kind,
                                                         TestPurchase.channel).items():
        acc = cells.setdefault((day.year, day.month, kind, channel), [0, 0, 0])
        for i in range(3):
            acc[i] += counts[i]
    totals = [0, 0, 0]
    rate_totals = {(k, c): [0, 0] for k, c, _ in rate_cols}
    for key in month_keys(filters.start, filters.end):
        store = sum(cells.get((*key, k, "in-store"), (0, 0, 0))[0] for k, _ in KINDS)
        online = sum(cells.get((*key, k, "online"), (0, 0, 0))[0] for k, _ in KINDS)
        rates = []
        for kind, channel, _ in rate_cols:
            _, tested, failed = cells.get((*key, kind, channel), (0, 0, 0))
            rates.append(Rate(failed, tested))
            rate_totals[(kind, channel)][0] += failed
            rate_totals[(kind, channel)][1] += tested
        table.rows.append([month_label(key), store + online, store, online] + rates)
        totals = [totals[0] + store + online, totals[1] + store, totals[2] + online]
    table.footer = ["All months", *totals] + [Rate(*rate_totals[(k, c)]) for k, c, _ in rate_cols]
    if not totals[0]:
        table.rows, table.footer = [], None
    if filters.borough:
        table.notes.append(BOROUGH_ONLINE_NOTE)
    return table


def month_series(table: Table) -> dict:
    """Chart inputs from the months table: month labels, counts by channel, rate series (None where no tests)."""
    rate_indexes = [(i, c.label.removesuffix(": failure rate")) for i, c in enumerate(table.columns)
                    if c.kind == "rate"]
    return {
        "categories": [row[0].replace(" 20", " ") for row in table.rows],
        "counts": [("In store", [row[2] for row in table.rows]), ("Online", [row[3] for row in table.rows])],
        "rates": [(label, [row[i].percent for row in table.rows]) for i, label in rate_indexes],
    }


def failure_by_business_type(filters: Filters) -> Table:
    rate_cols = _rate_columns(filters)
    table = Table("business_types", "Failure rates by business type",
                  [Column("Business type")] + [Column(label, "rate") for _, _, label in rate_cols])
    # Independents are most businesses: count everyone from the index alone, look up the business only for the
    # other types (starting from the business-type index), and take independents as the difference.
    cells: dict[tuple, list[int]] = {}
    for (kind, channel, _day), counts in _purchase_counts(filters, TestPurchase.kind, TestPurchase.channel,
                                                          TestPurchase.purchase_date).items():
        acc = cells.setdefault((BusinessType.INDEPENDENT.value, kind, channel), [0, 0, 0])
        for i in range(3):
            acc[i] += counts[i]
    others = [t for t in BusinessType if t != BusinessType.INDEPENDENT]
    for (btype, kind, channel), counts in _purchase_counts(
            filters, Business.business_type, TestPurchase.kind, TestPurchase.channel,
            join=(Business, Business.id == TestPurchase.business_id), where=(Business.business_type.in_(others),),
            by_date=False).items():
        cells[(btype, kind, channel)] = counts
        independent = cells.setdefault((BusinessType.INDEPENDENT.value, kind, channel), [0, 0, 0])
        for i in range(3):
            independent[i] -= counts[i]

    def rate(types, kind, channel) -> Rate:
        got = [cells.get((t.value, kind, channel), (0, 0, 0)) for t in types]
        return Rate(sum(g[2] for g in got), sum(g[1] for g in got))

    for btype in BusinessType:
        rates = [rate([btype], k, c) for k, c, _ in rate_cols]
        if any(r.whole for r in rates):
            table.rows.append([BUSINESS_TYPE_LABELS[btype]] + rates)
    if table.rows:
        table.footer = ["All business types"] + [rate(list(BusinessType), k, c) for k, c, _ in rate_cols]
    table.notes.append("Independents are single-owner shops; multiples are chains; national agreement signatories "
                       "are the large retailers who signed the national voluntary agreement on knife sales.")
    if filters.borough:
        table.notes.append(BOROUGH_ONLINE_NOTE)
    return table


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
    coverage = {r.borough: r for r in db.session.execute(
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
    _, index, _ = MAP_MEASURES[measure]
    by_name = {b.name: b.code for b in LONDON_BOROUGHS}
    out = {}
    for row in table.rows:
        code = by_name.get(row[0])
        if code:
            cell: Rate = row[index]
            out[code] = (cell.percent, str(cell))
    return out


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


def online_outcomes(filters: Filters) -> Table:
    table = Table("online_outcomes", "Online test purchases by outcome and failing party",
                  [Column("Test"), Column("Concluded", "number"), Column("Failure rate", "rate"),
                   Column("Failed at the seller's checkout", "number"),
                   Column("Failed at the seller's dispatch", "number"), Column("Failed at the courier", "number"),
                   Column("Inconclusive", "number")])
    online = replace(filters, borough=None)
    counts = _purchase_counts(online, TestPurchase.kind, where=(TestPurchase.channel == "online",))
    parties = _purchase_counts(online, TestPurchase.kind, TestPurchase.checkout_failed, TestPurchase.dispatch_failed,
                               TestPurchase.courier_failed, where=(TestPurchase.channel == "online",))
    for kind, label in KINDS:
        concluded, tested, failed = counts.get((kind,), (0, 0, 0))
        if not concluded:
            continue
        by_party = [0, 0, 0]
        for (k, *flags), (_, _, failures) in parties.items():
            if k == kind:
                for i, flag in enumerate(flags):
                    by_party[i] += failures if flag else 0
        table.rows.append([label, concluded, Rate(failed, tested), *by_party, concluded - tested])
    table.notes.append("A failed purchase can fail at more than one point, so the failing-party counts can add up "
                       "to more than the failures.")
    if filters.borough:
        table.notes.append("Online test purchases have no borough: this table covers every area.")
    return table


# ---------------------------------------------------------------------------------------------------------------
# Repeat offenders and naming

def _underage_fails(TestPurchase, filters: Filters):
    from .models.purchases import Outcome

    fails = [o for o in Outcome if o.value.startswith("FAIL_")]
    return _purchase_where(sa.select(), TestPurchase, filters).where(
        TestPurchase.kind == "underage", TestPurchase.outcome.in_(fails))


def repeat_businesses(filters: Filters, limit: int | None = None) -> Table:
    """Businesses with 2 or more underage sales in the period, most first; `limit` rows (the page), or all (CSV)."""
    table = Table("repeat_businesses", "Repeat offenders: businesses with 2 or more underage sales",
                  [Column("Business"), Column("Business type"), Column("Underage sales", "number"),
                   Column("In store", "number"), Column("Online", "number"),
                   Column("Premises with a sale", "number"), Column("Last sale", "date")],
                  empty="No business failed two or more underage test purchases in this period.")
    # Group, count and cut to `limit` first, then look up the names of just those businesses.
    grouped = (_underage_fails(TestPurchase, filters).add_columns(
        TestPurchase.business_id.label("business_id"), sa.func.count().label("n"),
        sa.func.sum(sa.case((TestPurchase.channel == "in-store", 1), else_=0)).label("store"),
        sa.func.sum(sa.case((TestPurchase.channel == "online", 1), else_=0)).label("online"),
        sa.func.count(sa.distinct(TestPurchase.premises_id)).label("premises"),
        sa.func.max(TestPurchase.purchase_date).label("last"), sa.func.count().over().label("total"))
        .group_by(TestPurchase.business_id).having(sa.func.count() >= 2)
        .order_by(sa.func.count().desc(), sa.func.max(TestPurchase.purchase_date).desc(), TestPurchase.business_id)
        .limit(limit).subquery())
    query = (sa.select(Business.id, Business.trading_name, Business.legal_name, Business.business_type, grouped)
             .join(grouped, grouped.c.business_id == Business.id)
             .order_by(grouped.c.n.desc(), grouped.c.last.desc(), Business.id))
    for r in db.session.execute(query):
        table.total_rows = r.total
        table.rows.append([r.trading_name or r.legal_name, BUSINESS_TYPE_LABELS[BusinessType(r.business_type)], r.n,
                           r.store, r.online, r.premises, r.last])
        table.rows[-1].append(r.id)  # link target, not a column
    table.notes.append("Online sales count whichever party failed (the seller's checkout or dispatch, or the courier); "
                       "the Online view breaks them down.")
    if filters.borough:
        table.notes.append("Counting in-store sales at premises in " + filters.borough_label + " only.")
    return table


def repeat_premises(filters: Filters, limit: int | None = None) -> Table:
    """Premises with 2 or more underage sales in the period, most first; `limit` rows (the page), or all (CSV)."""
    table = Table("repeat_premises", "Repeat offenders: premises with 2 or more underage sales",
                  [Column("Premises"), Column("Postcode"), Column("Borough"), Column("Business"),
                   Column("Underage sales", "number"), Column("Last sale", "date")],
                  empty="No premises failed two or more underage test purchases in this period.")
    grouped = (_underage_fails(TestPurchase, filters).add_columns(
        TestPurchase.premises_id.label("premises_id"), sa.func.count().label("n"),
        sa.func.max(TestPurchase.purchase_date).label("last"), sa.func.count().over().label("total"))
        .where(TestPurchase.premises_id.isnot(None))
        .group_by(TestPurchase.premises_id).having(sa.func.count() >= 2)
        .order_by(sa.func.count().desc(), sa.func.max(TestPurchase.purchase_date).desc(), TestPurchase.premises_id)
        .limit(limit).subquery())
    query = (sa.select(Premises.id, Premises.name, Premises.postcode, Premises.borough, Premises.local_authority,
                       Business.trading_name, Business.legal_name, grouped.c.n, grouped.c.last, grouped.c.total)
             .join(grouped, grouped.c.premises_id == Premises.id)
             .join(Business, Business.id == Premises.business_id)
             .order_by(grouped.c.n.desc(), grouped.c.last.desc(), Premises.id))
    for r in db.session.execute(query):
        table.total_rows = r.total
        area = (f"Outside London ({r.local_authority})" if r.borough == OUTSIDE_LONDON and r.local_authority
                else borough_name(r.borough))
        table.rows.append([r.name, r.postcode, area, r.trading_name or r.legal_name, r.n, r.last, r.id])
    return table


def naming_by_stage(filters: Filters) -> Table:
    table = Table("naming_stages", "Naming cases by stage", [Column("Stage"), Column("Cases", "number")],
                  empty="There are no naming cases.")
    stage_col = NamingCase.status
    query = sa.select(stage_col, sa.func.count()).group_by(stage_col)
    if filters.borough:
        query = query.where(NamingCase.business_id.in_(
            sa.select(Premises.business_id).where(Premises.borough == filters.borough)))
    counts = {str(getattr(k, "value", k)): n for k, n in db.session.execute(query).all()}
    labels = CASE_STATUS_LABELS
    label_for = {str(getattr(k, "value", k)): v for k, v in labels.items()}
    ordered = list(label_for) + [k for k in sorted(counts) if k not in label_for]
    if not counts:
        return table
    for stage in ordered:
        table.rows.append([label_for.get(stage, stage.replace("-", " ").capitalize()), counts.get(stage, 0)])
    table.footer = ["All cases", sum(counts.values())]
    table.notes.append("The current stage of every case, whatever the date range"
                       + (f"; cases of businesses with premises in {filters.borough_label}." if filters.borough
                          else "."))
    return table


# The CSV exports: table key -> function(filters) -> Table.
TABLES = {
    "months": purchases_by_month,
    "business_types": failure_by_business_type,
    "boroughs": lambda filters: borough_table(filters)[0],
    "online_stores": online_monitoring,
    "online_outcomes": online_outcomes,
    "repeat_businesses": repeat_businesses,
    "repeat_premises": repeat_premises,
    "naming_stages": naming_by_stage,
}
