"""The measures' building blocks: the filters (date range, borough), rates with their counts, and tables that render
as HTML and CSV alike."""
import io
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from .. import csvout
from ..boroughs import BY_CODE, LONDON_BOROUGHS, OUTSIDE_LONDON, borough_name
from ..extensions import db
from ..models.authority import Authority
from ..timeutil import today_london

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


MAX_RANGE_DAYS = 3653  # ten years


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
    if (end - start).days > MAX_RANGE_DAYS:
        # Every month of the range is a column: 8,000 years of them took 10 s and 30 MB (issue 14).
        start = end - timedelta(days=MAX_RANGE_DAYS)
        errors.append(f"The measures cover at most ten years; showing {start:%d %b %Y} to {end:%d %b %Y}.")
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
                out.append(cell)  # csvout keeps formula-like text as text
        return out

    def to_csv(self, filters: Filters) -> str:
        buffer = io.StringIO()
        writer = csvout.writer(buffer)
        writer.writerow(self.csv_header())
        for row in self.rows:
            writer.writerow(self.csv_row(row))
        if self.footer:
            writer.writerow(self.csv_row(self.footer))
        return buffer.getvalue()




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
# Whose figures

@dataclass(frozen=True)
class Audience:
    """Whose owned records the figures count, as the page says it."""

    headline: str  # "Figures for London Borough of Hackney" | "London-wide"
    detail: str


def whose_figures() -> Audience:
    """From the signed-in user's scope: an authority sees its own test purchases and naming cases (and the Met
    operations shared with it); City Hall, and jobs without a user, see every authority's."""
    from ..scoping import AUTHORITY, current_scope

    scope = current_scope()
    if scope is None or scope.kind != AUTHORITY:
        return Audience("London-wide", "Every authority's test purchases across London; naming cases once they are "
                                       "published. The register, RRA adoption and training coverage are London-wide.")
    name = db.session.scalar(sa.select(Authority.name).where(Authority.id == scope.authority_id))
    return Audience(f"Figures for {name}",
                    f"Test purchases and naming cases of {name}, with the Met operations it takes part in. The "
                    "register, RRA adoption, training coverage and the online monitor are London-wide.")
