"""The measures dashboard: test purchases, failure rates, RRA adoption, training coverage, the online picture and
repeat offenders, filtered by date range and borough, with server-rendered SVG charts and CSV exports.

Staff read it for their own authority (their test purchases are scoped to it); City Hall reads it London-wide and has
the RRA adoption review besides. Nothing here changes a record."""
from flask import Blueprint, Response, abort, flash, render_template, request

from .. import charts, measures
from ..access import MEASURES_READERS, Role, roles_required
from ..boroughs import BOROUGH_CHOICES
from ..home import panel
from ..nav import add_nav

bp = Blueprint("dashboard", __name__)
add_nav("Measures", "dashboard.index", MEASURES_READERS, 40)
# City Hall's own entry; staff reach the review from the measures tabs.
add_nav("RRA adoption review", "dashboard.rra", {Role.CITY_HALL}, 41, match="dashboard.rra")

OFFENDERS_SHOWN = 25  # the CSV has them all
VIEWS = (("dashboard.index", "Test purchases"), ("dashboard.business_types", "Independents and chains"),
         ("dashboard.boroughs", "Boroughs"),
         ("dashboard.online", "Online"), ("dashboard.offenders", "Repeat offenders and naming"),
         ("dashboard.rra", "RRA adoption review"))


@panel
def city_hall_panel(user) -> dict | None:
    """City Hall's home: the way into the London-wide measures (its only pages)."""
    if getattr(user, "role", None) != Role.CITY_HALL:
        return None
    return {"title": "London-wide measures", "template": "dashboard/_home_panel.html", "views": VIEWS}


def _filters() -> measures.Filters:
    filters, errors = measures.parse_filters(request.args)
    for error in errors:
        flash(error, "warning")
    return filters


def _render(template: str, filters: measures.Filters, **context):
    return render_template(template, filters=filters, views=VIEWS, borough_choices=BOROUGH_CHOICES,
                           audience=measures.whose_figures(), **context)


@bp.route("/measures")
@roles_required(MEASURES_READERS)
def index():
    filters = _filters()
    months = measures.purchases_by_month(filters)
    series = measures.month_series(months)
    where = f"{filters.borough_label}, {filters.period_label}"
    count_chart = charts.stacked_bar_chart(
        "chart-months", f"Test purchases by month, in store and online ({where})",
        "Stacked bars: concluded test purchases each month, in store and online. The table below has the figures.",
        series["categories"], series["counts"]) if months.rows else None
    rate_chart = charts.line_chart(
        "chart-rates", f"Failure rate by month ({where})",
        "Lines: share of concluded test purchases that failed each month, underage and Challenge 25 apart, in "
        "store and online. Months without tests are gaps. The table below has the figures and counts.",
        series["categories"], series["rates"]) if months.rows else None
    return _render("dashboard/index.html", filters, months=months, count_chart=count_chart, rate_chart=rate_chart)


@bp.route("/measures/business-types")
@roles_required(MEASURES_READERS)
def business_types():
    filters = _filters()
    types = measures.failure_by_business_type(filters)
    where = f"{filters.borough_label}, {filters.period_label}"
    charts_ = []
    for index, column in enumerate(types.columns[1:], start=1):
        if column.label.startswith("Underage"):
            charts_.append(charts.bar_chart(
                f"chart-types-{index}", f"{column.label}: failure rate by business type ({where})",
                f"Bars: {column.label.lower()} failure rate for each business type. The table has the counts.",
                [(row[0], row[index].percent, str(row[index])) for row in types.rows]))
    return _render("dashboard/business_types.html", filters, types=types, type_charts=charts_ if types.rows else [])


@bp.route("/measures/boroughs")
@roles_required(MEASURES_READERS)
def boroughs():
    filters = _filters()
    measure = request.args.get("measure", "failure")
    if measure not in measures.MAP_MEASURES:
        measure = "failure"
    table, all_table = measures.borough_table(filters)
    tile_map = None
    label, _, scale = measures.MAP_MEASURES[measure]
    if all_table is not None:
        when = (f"as of {filters.as_of:%d %b %Y}" if measure != "failure" else filters.period_label)
        tile_map = charts.tile_map(
            "chart-map", f"{label} by London borough, {when}",
            f"Square-tile map of the 33 London boroughs coloured by {label.lower()}; boroughs without data are "
            "marked 'no data'. The table below gives every borough's figure and counts.",
            measures.map_values(all_table, measure),
            charts.FAILURE_BINS if scale == "failure" else charts.COVERAGE_BINS, selected=filters.borough)
    return _render("dashboard/boroughs.html", filters, table=table, tile_map=tile_map, measure=measure,
                   map_measures=measures.MAP_MEASURES)


@bp.route("/measures/online")
@roles_required(MEASURES_READERS)
def online():
    filters = _filters()
    stores = measures.online_monitoring(filters)
    outcomes = measures.online_outcomes(filters)
    store_chart = charts.bar_chart(
        "chart-stores", "Monitored online stores by age check",
        "Bars: share of monitored online stores with a strong, weak or no age check. The table has the counts.",
        [(row[0], row[2].percent, str(row[2])) for row in stores.rows]) if stores.rows else None
    party_chart = None
    underage = next((row for row in outcomes.rows if row[0] == "Underage"), None)
    if underage:
        party_chart = charts.bar_chart(
            "chart-parties", f"Online underage test purchases: failures by failing party ({filters.period_label})",
            "Bars: number of online underage test purchases that failed at the seller's checkout, the seller's "
            "dispatch and the courier. The table has the figures.",
            [("Seller's checkout", underage[3], str(underage[3])), ("Seller's dispatch", underage[4], str(underage[4])),
             ("Courier", underage[5], str(underage[5]))], unit="")
    return _render("dashboard/online.html", filters, stores=stores, outcomes=outcomes, store_chart=store_chart,
                   party_chart=party_chart)


@bp.route("/measures/offenders")
@roles_required(MEASURES_READERS)
def offenders():
    filters = _filters()
    businesses = measures.repeat_businesses(filters, limit=OFFENDERS_SHOWN)
    premises = measures.repeat_premises(filters, limit=OFFENDERS_SHOWN)
    naming = measures.naming_by_stage(filters)
    naming_chart = charts.bar_chart(
        "chart-naming", "Naming cases by stage", "Bars: number of naming cases at each stage. The table has them.",
        [(row[0], row[1], str(row[1])) for row in naming.rows], unit="") if naming.rows else None
    return _render("dashboard/offenders.html", filters, businesses=businesses, premises=premises, naming=naming,
                   naming_chart=naming_chart)


@bp.route("/measures/rra")
@roles_required(MEASURES_READERS)
def rra():
    filters = _filters()
    review, everywhere = measures.rra_review_tables(filters)
    tile_map = charts.tile_map(
        "chart-rra", f"RRA adoption by London borough, as of {filters.as_of:%d %b %Y}",
        "Square-tile map of the 33 London boroughs coloured by the share of trading shops whose business has signed "
        "a retailer agreement; boroughs without shops are marked 'no data'. The table below gives every borough's "
        "counts and training coverage.",
        measures.rra_review_map_values(everywhere), charts.COVERAGE_BINS,
        selected=filters.borough) if everywhere.footer[1] else None
    return _render("dashboard/rra.html", filters, review=review, tile_map=tile_map)


@bp.route("/measures/<string:table>.csv")
@roles_required(MEASURES_READERS)
def export_csv(table: str):
    build = measures.TABLES.get(table)
    if build is None:
        abort(404)
    filters, _ = measures.parse_filters(request.args)
    result = build(filters)
    where = filters.borough or "all"
    filename = f"measures-{table}-{where}-{filters.start.isoformat()}-to-{filters.end.isoformat()}.csv"
    return Response(result.to_csv(filters), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
