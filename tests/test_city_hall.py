"""City Hall: the measures dashboard London-wide and per borough, the RRA adoption review and their exports; nothing
operational (volunteers, operations, test purchases, naming cases). And whose figures each reader sees."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from retail import measures
from retail.access import Role
from retail.extensions import db as _db
from retail.models.authority import Authority
from retail.models.compliance import CaseStatus, NamingCase
from retail.models.purchases import Operation, Outcome
from retail.scoping import acting_for, scope_for
from tests.conftest import authority_id, login_as, make_user
from tests.factories import create_business, create_premises, sign_rra
from tests.test_measures import SVG_NS, certify, many, purchase, read_csv, svgs

MARCH = date(2025, 3, 12)
PERIOD = {"from": "2025-01-01", "to": "2025-04-30"}
MEASURES_PAGES = ("/measures", "/measures/business-types", "/measures/boroughs", "/measures/online",
                  "/measures/offenders", "/measures/rra")


def period(**args):
    result, errors = measures.parse_filters({**PERIOD, **args})
    assert not errors
    return result


def footer(table, label):
    return table.footer[[c.label for c in table.columns].index(label)]


# --- what City Hall may open -------------------------------------------------------------------------------------

def test_city_hall_reads_every_measures_page_and_export(client, users):
    login_as(client, users[Role.CITY_HALL])
    for path in MEASURES_PAGES:
        for query in ({}, {"borough": "croydon"}):
            assert client.get(path, query_string=query).status_code == 200, (path, query)
    for table in measures.TABLES:
        response = client.get(f"/measures/{table}.csv", query_string={"borough": "hackney"})
        assert response.status_code == 200 and response.mimetype == "text/csv", table


@pytest.mark.parametrize("path", ["/operations", "/operations/new", "/volunteers", "/volunteers/new", "/naming",
                                  "/purchases", "/purchases/new", "/letters", "/register", "/training",
                                  "/admin/users"])
def test_city_hall_is_refused_operational_pages(client, users, path):
    login_as(client, users[Role.CITY_HALL])
    assert client.get(path).status_code == 403


def test_city_hall_reaches_nothing_outside_the_measures(app, client, users):
    """Walk the URL map: every page for named roles that do not include City Hall answers 403."""
    login_as(client, users[Role.CITY_HALL])
    checked = 0
    for rule in app.url_map.iter_rules():
        allowed = getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
        if allowed is None or Role.CITY_HALL in allowed or "GET" not in rule.methods:
            continue
        path = re.sub(r"<(?:int:)?([^>]+)>", "1", rule.rule)
        assert client.get(path).status_code == 403, rule.rule
        checked += 1
    assert checked > 40
    for path in ("/measures", "/measures/rra", "/measures/rra_review.csv"):
        assert client.get(path).status_code == 200


def nav_labels(html: str) -> list[str]:
    """The pages the menu links to, grouped entries included (the account menu that follows is left out)."""
    menu = html[html.index('<ul class="navbar-nav me-auto">'):]
    menu = menu[:menu.index('<ul class="navbar-nav">')]
    return re.findall(r'class="(?:nav-link|dropdown-item)[^"]*" href="[^"#]*">([^<]+)</a>', menu)


def test_city_hall_nav_shows_only_the_measures(client, users):
    login_as(client, users[Role.CITY_HALL])
    assert nav_labels(client.get("/measures").get_data(as_text=True)) == ["Home", "Measures",
                                                                          "RRA adoption review"]
    home = client.get("/").get_data(as_text=True)
    assert "London-wide measures" in home and 'href="/measures/rra"' in home
    client.post("/logout")
    login_as(client, users[Role.OFFICER])
    labels = nav_labels(client.get("/measures").get_data(as_text=True))
    assert "Measures" in labels and "Operations" in labels and "RRA adoption review" not in labels


# --- whose figures -----------------------------------------------------------------------------------------------

@pytest.fixture
def london(app, users):
    """Hackney's own test purchases (3 fails of 20), Croydon's (1 of 10), and a Met operation in Hackney (2 of 4)
    shared with Hackney; two proposed naming cases of Hackney and a published one of Croydon."""
    hackney_shop = create_business(legal_name="Hackney Knives Ltd", trading_name="Hackney Knives",
                                   postcode="E8 3BB").premises[0]
    croydon_shop = create_business(legal_name="Croydon Cutlery Ltd", trading_name="Croydon Cutlery",
                                   postcode="CR0 1AA", borough="croydon").premises[0]
    many(hackney_shop, MARCH, 3, 17)
    croydon = authority_id("croydon")
    for _ in range(10):
        purchase(croydon_shop, MARCH, Outcome.FAIL_SOLD_NO_CHALLENGE if _ == 0 else Outcome.PASS_REFUSED,
                 authority_id=croydon)
    met = authority_id("met")
    sceptre = Operation(name="Operation Sceptre, Hackney", lead_agency="police", boroughs=["hackney"],
                        starts_on=MARCH, ends_on=MARCH, authority_id=met)
    sceptre.shared_with = [_db.session.get(Authority, authority_id("hackney"))]
    _db.session.add(sceptre)
    _db.session.flush()
    for fail in (True, True, False, False):
        purchase(hackney_shop, MARCH, Outcome.FAIL_SOLD_NO_CHALLENGE if fail else Outcome.PASS_REFUSED,
                 authority_id=met, operation_id=sceptre.id)
    _db.session.add_all([NamingCase(business_id=hackney_shop.business_id, status=CaseStatus.PROPOSED),
                         NamingCase(business_id=hackney_shop.business_id, status=CaseStatus.PROPOSED),
                         NamingCase(business_id=croydon_shop.business_id, status=CaseStatus.PUBLISHED,
                                    authority_id=croydon)])
    _db.session.commit()
    return {"users": users, "croydon_officer": make_user(Role.OFFICER, "officer@croydon.example",
                                                         authority="croydon")}


def underage_in_store(user) -> str:
    with acting_for(scope_for(user)):
        return str(footer(measures.purchases_by_month(period()), "Underage, in store: failure rate"))


def test_city_hall_counts_every_authoritys_test_purchases(london):
    assert underage_in_store(london["users"][Role.CITY_HALL]) == "18% (6 of 34)"
    # Borough staff count their own, plus the Met operation shared with them.
    assert underage_in_store(london["users"][Role.OFFICER]) == "21% (5 of 24)"
    assert underage_in_store(london["croydon_officer"]) == "10% (1 of 10)"


def test_city_hall_counts_published_naming_cases_only(london):
    with acting_for(scope_for(london["users"][Role.CITY_HALL])):
        assert measures.naming_by_stage(period()).footer == ["All cases", 1]
    with acting_for(scope_for(london["users"][Role.SUPERVISOR])):
        assert measures.naming_by_stage(period()).footer == ["All cases", 2]  # Hackney's own, proposed


def test_the_page_says_whose_figures_these_are(client, london):
    login_as(client, london["users"][Role.CITY_HALL])
    html = client.get("/measures", query_string=PERIOD).get_data(as_text=True)
    assert "<strong>London-wide</strong>" in html
    assert "(6 of 34)" in html
    # Per borough: the in-store figures at shops in Croydon, from City Hall.
    croydon = client.get("/measures", query_string={**PERIOD, "borough": "croydon"}).get_data(as_text=True)
    assert "(1 of 10)" in croydon
    client.post("/logout")
    login_as(client, london["users"][Role.OFFICER])
    html = client.get("/measures/boroughs", query_string=PERIOD).get_data(as_text=True)
    assert "<strong>Figures for London Borough of Hackney</strong>" in html
    assert "London-wide</strong>" not in html


def test_city_hall_offenders_page_names_without_register_links(client, london):
    login_as(client, london["users"][Role.CITY_HALL])
    html = client.get("/measures/offenders", query_string=PERIOD).get_data(as_text=True)
    assert "Hackney Knives" in html  # 3 underage sales to Hackney, 2 to the Met
    assert "/register/" not in html


# --- the RRA adoption review -------------------------------------------------------------------------------------

@pytest.fixture
def adoption(app, users):
    """Hackney: a business with an active agreement naming one of its two trading shops (and a closed third), an
    unsigned shop; Islington: a chain whose agreement was suspended on 1 June 2025. One Hackney shop has a current
    certificate from a course Croydon ran."""
    signed = create_business(legal_name="Signed Up Ltd", trading_name="Signed Up", postcode="E8 1AB")
    sign_rra(signed)  # names the first shop only
    second = create_premises(signed, name="Signed Up Dalston", postcode="E8 2CD", borough="hackney")
    create_premises(signed, name="Signed Up Closed", postcode="E8 3EF", borough="hackney", status="closed")
    create_business(legal_name="Unsigned Ltd", trading_name="Unsigned", postcode="E8 4GH")
    chain = create_business(legal_name="Chain plc", trading_name="Chain", business_type="multiple", shop=False)
    create_premises(chain, name="Chain Upper Street", postcode="N1 2CC", borough="islington")
    sign_rra(chain, status="suspended")
    today = date.today()
    attendance = certify(second, today - timedelta(days=30), today + timedelta(days=300))
    attendance.session.authority_id = authority_id("croydon")
    _db.session.commit()
    return users


def review_row(table, name):
    return next(r for r in table.rows if r[0] == name)


def test_rra_review_counts_shops_whose_business_signed_up(adoption):
    today = {"from": "2025-01-01", "to": date.today().isoformat()}
    with acting_for(scope_for(adoption[Role.OFFICER])):  # a Hackney officer: the register is London-wide
        table = measures.rra_review(measures.parse_filters(today)[0])
    assert len(table.rows) == 33
    hackney = review_row(table, "Hackney")
    # 4 trading shops (the retailer's own, Unsigned, Signed Up's two; the closed one is left out); both of Signed Up's count,
    # though its agreement names one. The certificate from Croydon's course counts in Hackney.
    assert hackney[1:3] == [4, 2]
    assert str(hackney[3]) == "50% (2 of 4)"
    assert str(hackney[4]) == "25% (1 of 4)"
    assert str(review_row(table, "Islington")[3]) == "0% (0 of 1)"  # suspended
    assert str(review_row(table, "Sutton")[3]) == "no data"  # no shops: not 0%
    assert table.footer[:3] == ["All London", 5, 2]
    # As of the end of April 2025 the chain's agreement was still in force.
    april = measures.rra_review(period())
    assert str(review_row(april, "Islington")[3]) == "100% (1 of 1)"
    # One borough: its row and the London totals to compare with; outside London, nothing.
    chosen = measures.rra_review(measures.parse_filters({**today, "borough": "hackney"})[0])
    assert [r[0] for r in chosen.rows] == ["Hackney"] and chosen.footer[0] == "All London"
    assert measures.rra_review(measures.parse_filters({"borough": "outside"})[0]).rows == []


def test_rra_review_is_one_query(app, adoption):
    statements = []

    def count(*args):
        statements.append(args[2])

    scope = scope_for(adoption[Role.CITY_HALL])  # loads the user before counting
    engine = _db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        with acting_for(scope):
            measures.rra_review_tables(period())
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # (On PostgreSQL the scope switches also run as SELECT set_config(...): not queries of ours.)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "set_config" not in s]
    assert len(selects) == 1, selects


def test_rra_review_page_and_export(client, adoption):
    login_as(client, adoption[Role.CITY_HALL])
    html = client.get("/measures/rra").get_data(as_text=True)
    assert "RRA adoption by London borough" in html
    (tile_map,) = svgs(html)
    titles = {g.find(f"{SVG_NS}title").text for g in tile_map.iter(f"{SVG_NS}g") if g.get("class") == "tile"}
    assert len(titles) == 33 and "Hackney: 50% (2 of 4)" in titles and "Sutton: no data" in titles
    rows = read_csv(client.get("/measures/rra_review.csv"))
    header = rows[0]
    hackney = next(r for r in rows[1:] if r[0] == "Hackney")
    assert hackney[header.index("Trading shops")] == "4"
    assert hackney[header.index("RRA adoption: signed up")] == "2"
    assert hackney[header.index("RRA adoption: %")] == "50.0"
    assert hackney[header.index("Training coverage: with a current certificate")] == "1"
    assert rows[-1][0] == "All London"
    # Staff read it too, from the measures tabs.
    client.post("/logout")
    login_as(client, adoption[Role.OFFICER])
    page = client.get("/measures").get_data(as_text=True)
    assert 'href="/measures/rra' in page
    assert client.get("/measures/rra").status_code == 200


def test_rra_review_empty_state(client, users):
    login_as(client, users[Role.CITY_HALL])
    html = client.get("/measures/rra", query_string={"borough": "outside"}).get_data(as_text=True)
    assert "covers the London boroughs only" in html
