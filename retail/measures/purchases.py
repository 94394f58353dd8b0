"""Test purchase figures: counts and failure rates by month and by business type, online outcomes, repeat offenders
and naming cases.

Every query here reads owned records (`TestPurchase`, `NamingCase`) through the session, so it counts only what the
signed-in user may read: an authority's own and the Met operations shared with it; London-wide for City Hall (whose
naming cases are the published and removed ones)."""
from dataclasses import replace

import sqlalchemy as sa

from ..boroughs import OUTSIDE_LONDON, borough_name
from ..extensions import db
from ..models.compliance import CASE_STATUS_LABELS, NamingCase
from ..models.purchases import Channel, Outcome, PurchaseKind, TestPurchase
from ..models.register import BUSINESS_TYPE_LABELS, Business, BusinessType, Premises
from .tables import Column, Filters, Rate, Table, month_keys, month_label

# ---------------------------------------------------------------------------------------------------------------
# Test purchases

KINDS = (("underage", "Underage"), ("challenge25", "Challenge 25"))
CHANNELS = (("in-store", "in store"), ("online", "online"))


def _classify(outcome) -> tuple[int, int]:
    """(tested, failed) for one outcome: passes and fails are tested, and so is a sale of an exempt item (no
    offence); INCONCLUSIVE is neither."""
    value = outcome or ""
    if value.startswith("FAIL_"):
        return 1, 1
    if value.startswith("PASS_") or value == "NO_OFFENCE_EXEMPT_ITEM":
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
        for (k, *flags), (n, _, failures) in parties.items():
            if k == kind:
                for i, flag in enumerate(flags):
                    # The seller's failures count failed purchases; the courier's count every purchase where the
                    # courier failed, also when the seller met its duties (a pass for the seller).
                    by_party[i] += (n if i == 2 else failures) if flag else 0
        table.rows.append([label, concluded, Rate(failed, tested), *by_party, concluded - tested])
    table.notes.append("A failed purchase can fail at more than one point, so the failing-party counts can add up "
                       "to more than the failures. The failure rate is the sellers'; a courier's failure is the "
                       "courier's (OWA 2019 s.39) and counts in its own column even when the seller passed.")
    if filters.borough:
        table.notes.append("Online test purchases have no borough: this table covers every area.")
    return table



# ---------------------------------------------------------------------------------------------------------------
# Repeat offenders and naming

def _underage_fails(TestPurchase, filters: Filters):
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

