"""The measures dashboard: figures on a small hand-built dataset, filters, CSV exports, charts in the page, access."""
import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, UTC

import pytest

from retail import measures
from retail import training as T
from retail.access import Role
from retail.extensions import db as _db
from retail.models.compliance import CaseStatus, NamingCase
from retail.models.listings import StoreMonitor
from retail.models.purchases import Outcome, TestPurchase
from tests.conftest import login_as
from tests.factories import create_business, create_premises, create_store, sign_rra

MARCH = date(2025, 3, 12)
APRIL = date(2025, 4, 9)
PERIOD = {"from": "2025-01-01", "to": "2025-04-30"}
SVG_NS = "{http://www.w3.org/2000/svg}"


def purchase(target, day, outcome, kind="underage", **extra):
    """A concluded test purchase at a shop (Premises) or online store (OnlineStore), straight through the model."""
    outcome = Outcome(outcome) if outcome else None
    tp = TestPurchase(kind=kind, purchase_date=day, business_id=target.business_id, outcome=outcome,
                      failed=bool(outcome and outcome.failed), stage="concluded" if outcome else "ordered",
                      tester_age=20 if kind == "challenge25" else None, **extra)
    if hasattr(target, "postcode"):
        tp.channel, tp.premises_id = "in-store", target.id
    else:
        tp.channel, tp.online_store_id = "online", target.id
    _db.session.add(tp)
    return tp


def many(target, day, fails, passes, kind="underage", fail=Outcome.FAIL_SOLD_NO_CHALLENGE, ok=Outcome.PASS_REFUSED):
    for _ in range(fails):
        purchase(target, day, fail, kind)
    for _ in range(passes):
        purchase(target, day, ok, kind)


def certify(premises, day: date, expires: date):
    """A person from `premises` passes the course on `day` (through the training domain), expiring on `expires`."""
    course = T.create_course({"title": "Age-restricted sales", "validity_months": 12})
    session = T.create_session({"course_id": course.id, "venue": "Town hall",
                                "starts_at": datetime(day.year, day.month, day.day, 10, tzinfo=UTC)})
    attendance = T.add_attendee(session, {"person_name": "Shop assistant", "premises_id": premises.id})
    T.record_result(attendance, True, 90, "test")
    attendance.certificate_expires = expires
    _db.session.commit()
    return attendance


@pytest.fixture
def data(app, users):
    """Hackney: an independent with 3 fails of 20 underage tests in March (plus Challenge 25 and an inconclusive),
    signed up and trained; the retailer's own shop (also Hackney) neither. Islington: a chain, 1 of 10 in April,
    whose agreement was suspended on 1 June 2025. Online: 2 of 5 underage fails (checkout, courier)."""
    hackney = create_business(legal_name="Hackney Hardware Ltd", trading_name="Hackney Hardware", postcode="E8 3BB")
    shop = hackney.premises[0]
    many(shop, MARCH, 3, 17)
    purchase(shop, MARCH, Outcome.INCONCLUSIVE)
    many(shop, MARCH, 2, 2, kind="challenge25")
    purchase(shop, date(2024, 12, 5), Outcome.FAIL_SOLD_NO_CHALLENGE)  # before the period
    sign_rra(hackney, signed_on=date(2025, 1, 10))
    certify(shop, date(2025, 2, 1), date(2026, 2, 1))

    chain = create_business(legal_name="Chain Stores plc", trading_name="Chain Stores", business_type="multiple",
                            shop=False)
    chain_shop = create_premises(chain, name="Chain Stores Upper Street", postcode="N1 2CC", borough="islington")
    many(chain_shop, APRIL, 1, 9)
    sign_rra(chain, status="suspended", signed_on=date(2025, 1, 10))
    closed = create_premises(chain, name="Chain Stores Mare Street", postcode="E8 9ZZ", borough="hackney",
                             status="closed")

    web = create_business(legal_name="Web Blades Ltd", trading_name="Web Blades", business_type="online-only",
                          shop=False)
    store = create_store(web, url="https://webblades.example/")
    purchase(store, MARCH, Outcome.FAIL_DELIVERED_NO_AGE_CHECK, checkout_failed=True)
    purchase(store, MARCH, Outcome.FAIL_LEFT_UNATTENDED, courier_failed=True)
    many(store, MARCH, 0, 3, ok=Outcome.PASS_REFUSED_AT_CHECKOUT)
    purchase(store, MARCH, None)  # ordered, not concluded yet
    other = create_store(chain, url="https://chainstores.example/")
    third = create_store(hackney, url="https://hackneyhardware.example/")
    _db.session.add_all([StoreMonitor(online_store_id=store.id, age_check="weak"),
                         StoreMonitor(online_store_id=other.id, age_check="strong"),
                         StoreMonitor(online_store_id=third.id, age_check=None)])
    _db.session.add_all([NamingCase(business_id=hackney.id, status=CaseStatus.PROPOSED),
                         NamingCase(business_id=chain.id, status=CaseStatus.PUBLISHED),
                         NamingCase(business_id=web.id, status=CaseStatus.PUBLISHED)])
    _db.session.commit()
    return {"hackney": hackney, "shop": shop, "chain": chain, "chain_shop": chain_shop, "web": web, "store": store,
            "closed": closed, "users": users}


def filters(**args):
    merged = {**PERIOD, **args}
    result, errors = measures.parse_filters(merged)
    assert not errors
    return result


def row(table, first):
    found = [r for r in table.rows if r[0] == first]
    assert found, (first, [r[0] for r in table.rows])
    return found[0]


def col(table, label):
    return [c.label for c in table.columns].index(label)


def cell(table, first, label):
    return row(table, first)[col(table, label)]


# --- figures ---------------------------------------------------------------------------------------------------

def test_months_table_counts_and_rates(data):
    table = measures.purchases_by_month(filters())
    assert [r[0] for r in table.rows] == ["Jan 2025", "Feb 2025", "Mar 2025", "Apr 2025"]
    assert str(cell(table, "Mar 2025", "Underage, in store: failure rate")) == "15% (3 of 20)"
    assert str(cell(table, "Mar 2025", "Underage, online: failure rate")) == "40% (2 of 5)"
    assert str(cell(table, "Apr 2025", "Underage, in store: failure rate")) == "10% (1 of 10)"
    # Concluded counts the inconclusive attempt; the online order still in progress is not counted anywhere.
    assert cell(table, "Mar 2025", "Concluded") == 20 + 1 + 4 + 5
    assert cell(table, "Mar 2025", "In store") == 25
    assert cell(table, "Mar 2025", "Online") == 5
    assert str(cell(table, "Jan 2025", "Underage, in store: failure rate")) == "no data"
    totals = table.footer
    assert str(totals[col(table, "Underage, in store: failure rate")]) == "13% (4 of 30)"


def test_challenge_25_is_kept_apart_from_underage(data):
    table = measures.purchases_by_month(filters())
    assert str(cell(table, "Mar 2025", "Challenge 25, in store: failure rate")) == "50% (2 of 4)"
    # Adding them together would have given 5 of 24; the underage figure stays 3 of 20.
    assert str(cell(table, "Mar 2025", "Underage, in store: failure rate")) == "15% (3 of 20)"


def test_date_filter_changes_the_numbers(data):
    table = measures.purchases_by_month(filters(**{"from": "2025-04-01"}))
    assert [r[0] for r in table.rows] == ["Apr 2025"]
    assert str(table.footer[col(table, "Underage, in store: failure rate")]) == "10% (1 of 10)"
    wider = measures.purchases_by_month(filters(**{"from": "2024-12-01"}))
    assert str(cell(wider, "Dec 2024", "Underage, in store: failure rate")) == "100% (1 of 1)"


def test_borough_filter_keeps_in_store_purchases_in_that_borough(data):
    table = measures.purchases_by_month(filters(borough="hackney"))
    labels = [c.label for c in table.columns]
    assert not any("online" in label for label in labels)  # online purchases have no borough
    assert cell(table, "Mar 2025", "Online") == 0
    assert str(cell(table, "Mar 2025", "Underage, in store: failure rate")) == "15% (3 of 20)"
    assert str(cell(table, "Apr 2025", "Underage, in store: failure rate")) == "no data"  # the Islington chain
    islington = measures.purchases_by_month(filters(borough="islington"))
    assert str(cell(islington, "Apr 2025", "Underage, in store: failure rate")) == "10% (1 of 10)"
    assert any("no borough" in note for note in table.notes)


def test_failure_rates_by_business_type(data):
    table = measures.failure_by_business_type(filters())
    assert str(cell(table, "Independent", "Underage, in store")) == "15% (3 of 20)"
    assert str(cell(table, "Multiple / chain", "Underage, in store")) == "10% (1 of 10)"
    assert str(cell(table, "Online only", "Underage, online")) == "40% (2 of 5)"
    assert str(cell(table, "Independent", "Challenge 25, in store")) == "50% (2 of 4)"
    assert "National voluntary agreement signatory" not in [r[0] for r in table.rows]  # no tests: no row
    hackney = measures.failure_by_business_type(filters(borough="hackney"))
    assert [r[0] for r in hackney.rows] == ["Independent"]


def test_borough_rates_rra_adoption_and_training_coverage(data):
    table = measures.borough_measures(filters(), all_boroughs=True)
    assert len(table.rows) == 33
    hackney = row(table, "Hackney")
    # Knife-selling trading premises in Hackney: Hackney Hardware and the retailer's own shop (the closed one
    # is not counted).
    assert hackney[col(table, "Knife-selling trading premises")] == 2
    assert str(hackney[col(table, "Underage, in store: failure rate")]) == "15% (3 of 20)"
    assert str(hackney[col(table, "Challenge 25, in store: failure rate")]) == "50% (2 of 4)"
    assert str(hackney[col(table, "RRA adoption")]) == "50% (1 of 2)"
    assert str(hackney[col(table, "Training coverage")]) == "50% (1 of 2)"
    assert str(cell(table, "Sutton", "RRA adoption")) == "no data"  # no premises: not 0%
    assert str(cell(table, "Sutton", "Underage, in store: failure rate")) == "no data"


def test_rra_adoption_and_training_are_as_of_the_end_of_the_period(data):
    # The chain's agreement was suspended on 1 June 2025: covered at the end of April, not today.
    april = measures.borough_measures(filters(), all_boroughs=True)
    assert str(cell(april, "Islington", "RRA adoption")) == "100% (1 of 1)"
    now = measures.borough_measures(filters(to=date.today().isoformat()), all_boroughs=True)
    assert str(cell(now, "Islington", "RRA adoption")) == "0% (0 of 1)"
    # The Hackney certificate ran out on 1 Feb 2026; before it was issued (Jan 2025) it did not count either.
    assert str(cell(now, "Hackney", "Training coverage")) == "0% (0 of 2)"
    january = measures.borough_measures(filters(to="2025-01-31"), all_boroughs=True)
    assert str(cell(january, "Hackney", "Training coverage")) == "0% (0 of 2)"


def test_borough_filter_on_borough_table(data):
    table, all_london = measures.borough_table(filters(borough="islington"))
    assert [r[0] for r in table.rows] == ["Islington"]
    assert table.footer[0] == "All London"  # to compare with
    assert str(table.footer[col(table, "Underage, in store: failure rate")]) == "13% (4 of 30)"
    assert len(all_london.rows) == 33
    alone = measures.borough_measures(filters(borough="islington"))
    assert alone.rows == table.rows


def test_tile_map_values_say_no_data_not_zero(data):
    values = measures.map_values(measures.borough_measures(filters(), all_boroughs=True), "failure")
    assert values["hackney"] == (15.0, "15% (3 of 20)")
    assert values["sutton"] == (None, "no data")
    rra = measures.map_values(measures.borough_measures(filters(), all_boroughs=True), "rra")
    assert rra["hackney"] == (50.0, "50% (1 of 2)")


def test_online_picture(data):
    stores = measures.online_monitoring(filters())
    assert str(cell(stores, "Strong age check", "Share of monitored stores")) == "33% (1 of 3)"
    assert str(cell(stores, "Weak (self-declaration)", "Share of monitored stores")) == "33% (1 of 3)"
    assert cell(stores, "No age check", "Stores") == 0
    assert cell(stores, "Not checked yet", "Stores") == 1
    assert stores.footer[1] == 3
    outcomes = measures.online_outcomes(filters())
    underage = row(outcomes, "Underage")
    assert underage[col(outcomes, "Concluded")] == 5
    assert str(underage[col(outcomes, "Failure rate")]) == "40% (2 of 5)"
    assert underage[col(outcomes, "Failed at the seller's checkout")] == 1
    assert underage[col(outcomes, "Failed at the seller's dispatch")] == 0
    assert underage[col(outcomes, "Failed at the courier")] == 1
    assert [r[0] for r in outcomes.rows] == ["Underage"]  # no online Challenge 25 tests: no row
    # Online figures are not narrowed by a borough (they have none) but still by date.
    assert measures.online_outcomes(filters(borough="hackney")).rows == outcomes.rows
    assert measures.online_outcomes(filters(**{"from": "2025-04-01"})).rows == []


def test_repeat_offenders(data):
    businesses = measures.repeat_businesses(filters())
    assert [r[0] for r in businesses.rows] == ["Hackney Hardware", "Web Blades"]  # the chain failed once only
    hackney = row(businesses, "Hackney Hardware")
    assert hackney[col(businesses, "Underage sales")] == 3  # Challenge 25 sales are not underage sales
    assert hackney[col(businesses, "Last sale")] == MARCH
    assert row(businesses, "Web Blades")[col(businesses, "Online")] == 2
    premises = measures.repeat_premises(filters())
    assert [r[0] for r in premises.rows] == ["Hackney Hardware"]
    assert row(premises, "Hackney Hardware")[col(premises, "Borough")] == "Hackney"
    assert measures.repeat_businesses(filters(borough="islington")).rows == []
    assert [r[0] for r in measures.repeat_businesses(filters(borough="hackney")).rows] == ["Hackney Hardware"]
    assert measures.repeat_businesses(filters(**{"from": "2025-04-01"})).rows == []
    first = measures.repeat_businesses(filters(), limit=1)  # the page shows the first few and says how many
    assert [r[0] for r in first.rows] == ["Hackney Hardware"] and first.total_rows == 2


def test_naming_cases_by_stage(data):
    table = measures.naming_by_stage(filters())
    assert cell(table, "Proposed", "Cases") == 1
    assert cell(table, "Published", "Cases") == 2
    assert cell(table, "Notice sent", "Cases") == 0
    assert table.footer == ["All cases", 3]
    # By borough: cases of businesses with premises there (the chain has a shop in Islington).
    assert measures.naming_by_stage(filters(borough="islington")).footer == ["All cases", 1]
    assert measures.naming_by_stage(filters(borough="sutton")).rows == []


def test_bad_filters_fall_back_with_a_message():
    result, errors = measures.parse_filters({"from": "31/12/2025", "to": "2025-01-01", "borough": "atlantis"})
    assert len(errors) == 3
    assert result.borough is None
    assert result.start <= result.end


# --- pages, charts and CSV ---------------------------------------------------------------------------------------

def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(s) for s in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


def test_overview_page_shows_rates_with_counts_and_well_formed_charts(client, data):
    login_as(client, data["users"][Role.SUPERVISOR])
    response = client.get("/measures", query_string=PERIOD)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "15%</span> <span class=\"text-muted small\">(3 of 20)" in html
    charts = svgs(html)
    assert len(charts) == 2
    for chart in charts:
        assert chart.find(f"{SVG_NS}title").text
        assert chart.find(f"{SVG_NS}desc").text
        assert chart.get("role") == "img"


def test_borough_page_tile_map_has_33_labelled_tiles(client, data):
    login_as(client, data["users"][Role.OFFICER])
    html = client.get("/measures/boroughs", query_string={**PERIOD, "measure": "rra"}).get_data(as_text=True)
    (tile_map,) = svgs(html)
    tiles = [g for g in tile_map.iter(f"{SVG_NS}g") if g.get("class") == "tile"]
    assert len(tiles) == 33
    titles = {g.find(f"{SVG_NS}title").text for g in tiles}
    assert "Hackney: 50% (1 of 2)" in titles
    assert "Sutton: no data" in titles
    assert "RRA adoption by London borough" in tile_map.find(f"{SVG_NS}title").text
    assert "Sutton: 0%" not in html


def test_borough_page_with_a_borough_outlines_it_and_lists_one_row(client, data):
    login_as(client, data["users"][Role.POLICE])
    html = client.get("/measures/boroughs", query_string={**PERIOD, "borough": "hackney"}).get_data(as_text=True)
    table_html = html[html.index('id="table-boroughs"'):]
    assert "Hackney" in table_html and "Islington" not in table_html
    (tile_map,) = svgs(html)
    assert len([g for g in tile_map.iter(f"{SVG_NS}g") if g.get("class") == "tile"]) == 33


def test_other_views_render(client, data):
    login_as(client, data["users"][Role.ADMIN])
    for path, expected in [("/measures/business-types", "Multiple / chain"), ("/measures/online", "Courier"),
                           ("/measures/offenders", "Hackney Hardware")]:
        response = client.get(path, query_string=PERIOD)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert expected in html, path
        for chart in svgs(html):
            assert chart.find(f"{SVG_NS}title") is not None


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_csv_export_matches_the_table(client, data):
    login_as(client, data["users"][Role.SUPERVISOR])
    rows = read_csv(client.get("/measures/months.csv", query_string=PERIOD))
    header, body = rows[0], rows[1:]
    table = measures.purchases_by_month(filters())
    assert len(body) == len(table.rows) + 1  # and the totals row
    march = next(r for r in body if r[0] == "Mar 2025")
    assert march[header.index("Underage, in store: failure rate: failed")] == "3"
    assert march[header.index("Underage, in store: failure rate: tested")] == "20"
    assert march[header.index("Underage, in store: failure rate: %")] == "15.0"
    assert march[header.index("Concluded")] == "30"
    # The page shows the same rows.
    html = client.get("/measures", query_string=PERIOD).get_data(as_text=True)
    for r in body[:-1]:
        assert f"<th scope=\"row\">{r[0]}</th>" in html


def test_csv_export_uses_the_same_filters(client, data):
    login_as(client, data["users"][Role.OFFICER])
    rows = read_csv(client.get("/measures/boroughs.csv", query_string={**PERIOD, "borough": "hackney"}))
    assert [r[0] for r in rows[1:]] == ["Hackney", "All London"]
    header = rows[0]
    assert rows[1][header.index("RRA adoption: covered")] == "1"
    assert rows[1][header.index("RRA adoption: premises")] == "2"
    offenders = read_csv(client.get("/measures/repeat_businesses.csv", query_string={**PERIOD, "borough": "hackney"}))
    assert [r[0] for r in offenders[1:]] == ["Hackney Hardware"]
    assert client.get("/measures/nonsense.csv").status_code == 404


def test_csv_neutralises_spreadsheet_formulas(client, data):
    data["hackney"].trading_name = "=HYPERLINK(\"http://evil\")"
    _db.session.commit()
    login_as(client, data["users"][Role.SUPERVISOR])
    rows = read_csv(client.get("/measures/repeat_businesses.csv", query_string=PERIOD))
    assert rows[1][0].startswith("'=")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPERVISOR, Role.OFFICER, Role.POLICE])
def test_staff_may_see_the_dashboard(client, users, role):
    login_as(client, users[role])
    assert client.get("/measures").status_code == 200
    assert client.get("/measures/boroughs.csv").status_code == 200


def test_retailer_and_anonymous_are_refused(client, users):
    for path in ("/measures", "/measures/boroughs", "/measures/online", "/measures/offenders",
                 "/measures/business-types", "/measures/months.csv"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    login_as(client, users[Role.RETAILER])
    for path in ("/measures", "/measures/boroughs", "/measures/online", "/measures/offenders",
                 "/measures/business-types", "/measures/months.csv", "/measures/repeat_premises.csv"):
        assert client.get(path).status_code == 403, path


def test_nav_shows_measures_to_staff_only(client, users):
    login_as(client, users[Role.POLICE])
    assert 'href="/measures"' in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login_as(client, users[Role.RETAILER])
    assert 'href="/measures"' not in client.get("/").get_data(as_text=True)


def test_empty_states(client, users):
    login_as(client, users[Role.SUPERVISOR])
    html = client.get("/measures", query_string=PERIOD).get_data(as_text=True)
    assert "No records match these filters." in html
    assert "<svg" not in html  # no chart of nothing
    offenders = client.get("/measures/offenders", query_string=PERIOD).get_data(as_text=True)
    assert "No business failed two or more underage test purchases in this period." in offenders
    assert "There are no naming cases." in offenders
    online = client.get("/measures/online", query_string=PERIOD).get_data(as_text=True)
    assert online.count("No records match these filters.") == 2
    boroughs = client.get("/measures/boroughs", query_string=PERIOD).get_data(as_text=True)
    (tile_map,) = svgs(boroughs)
    titles = [g.find(f"{SVG_NS}title").text for g in tile_map.iter(f"{SVG_NS}g") if g.get("class") == "tile"]
    assert len(titles) == 33 and all(t.endswith(": no data") for t in titles)


def test_bad_dates_are_reported_not_an_error(client, users):
    login_as(client, users[Role.OFFICER])
    response = client.get("/measures", query_string={"from": "not-a-date", "borough": "<script>"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "is not a date" in html
    assert "<script>" not in html


def test_exempt_sales_and_courier_only_failures_are_counted_as_the_law_sees_them(app):
    """Brief 1.1: an exempt item sold is a test with no offence (tested, not failed). Brief 1.3: a courier's failure
    counts in the courier's column, not in the seller's failure rate."""
    business = create_business(legal_name="Corner Ltd", trading_name="Corner", postcode="E8 1AA", borough="hackney")
    store = create_store(create_business(legal_name="Web Ltd", trading_name="Web", shop=False),
                         url="https://web.example/")
    purchase(business.premises[0], MARCH, "NO_OFFENCE_EXEMPT_ITEM")
    purchase(business.premises[0], MARCH, "FAIL_SOLD_NO_CHALLENGE")
    purchase(store, MARCH, "PASS_SELLER_COURIER_FAILED", courier_failed=True)
    purchase(store, MARCH, "PASS_REFUSED_AT_CHECKOUT")
    _db.session.commit()
    values = measures.map_values(measures.borough_measures(filters(), all_boroughs=True), "failure")
    assert values["hackney"] == (50.0, "50% (1 of 2)")
    underage = row(measures.online_outcomes(filters()), "Underage")
    outcomes = measures.online_outcomes(filters())
    assert str(underage[col(outcomes, "Failure rate")]) == "0% (0 of 2)"
    assert underage[col(outcomes, "Failed at the courier")] == 1
