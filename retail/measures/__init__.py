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
- Whose figures: test purchases and naming cases are owned records, read through the signed-in user's scope (an
  authority's own plus the Met operations shared with it; London-wide for City Hall). The register, RRA adoption,
  training coverage and the online monitor are shared London-wide and counted the same for everyone.
"""
from .purchases import (
    BOROUGH_ONLINE_NOTE,
    CHANNELS,
    KINDS,
    failure_by_business_type,
    month_series,
    naming_by_stage,
    online_outcomes,
    purchases_by_month,
    repeat_businesses,
    repeat_premises,
)
from .register import (
    MAP_MEASURES,
    borough_measures,
    borough_table,
    map_values,
    online_monitoring,
    rra_review,
    rra_review_map_values,
    rra_review_tables,
)
from .tables import (
    LONDON_CODES,
    Audience,
    Column,
    Filters,
    Rate,
    Table,
    default_filters,
    month_keys,
    month_label,
    parse_filters,
    whose_figures,
)

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
    "rra_review": rra_review,
}

__all__ = [
    "Audience", "BOROUGH_ONLINE_NOTE", "CHANNELS", "KINDS", "LONDON_CODES", "MAP_MEASURES", "TABLES", "Column",
    "Filters", "Rate", "Table", "borough_measures", "borough_table", "default_filters", "failure_by_business_type",
    "map_values", "month_keys", "month_label", "month_series", "naming_by_stage", "online_monitoring",
    "online_outcomes", "parse_filters", "purchases_by_month", "repeat_businesses", "repeat_premises", "rra_review",
    "rra_review_map_values", "rra_review_tables", "whose_figures",
]
