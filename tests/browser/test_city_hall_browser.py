"""City Hall's quarter on a phone (390 x 844, users.md "City Hall", issue 11 'Done when'): the RRA adoption review
by borough, every borough's failure rates side by side with London as a whole, in store and online, the tables
downloaded as CSV; and never a child volunteer, an unpublished naming case or an officer's notes. Screenshots of each
step land in the test artefacts."""
import csv
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from retail import purchases as P
from retail.access import Role
from retail.extensions import db
from retail.models.compliance import CaseStatus, NamingCase
from retail.models.purchases import Outcome
from retail.models.visits import AdviceVisit
from retail.timeutil import today_london
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD, authority_id
from tests.factories import create_business, create_store, sign_rra
from tests.test_measures import certify, purchase

CODE_NAME = "KESTREL"
OFFICER_NOTES = "Owner hid the machetes under the counter"


@pytest.fixture
def london(app, users):
    """Hackney: three trading shops (the retailer's own, Signed Cutlers whose business signed the RRA and is trained,
    Unsigned Blades), 1 underage sale in 3 tests, all at the unsigned shop; Croydon: one unsigned shop, 1 sale in 1
    test (Croydon's own). Online: 1 underage failure in 1. A Hackney volunteer, an unpublished naming case and an
    advice visit with the officer's notes, none of which City Hall may see."""
    day = today_london() - timedelta(days=20)
    signed = create_business(legal_name="Signed Cutlers Ltd", trading_name="Signed Cutlers", postcode="E8 1AB")
    sign_rra(signed, signed_on=day - timedelta(days=100))
    certify(signed.premises[0], day - timedelta(days=30), today_london() + timedelta(days=300))
    unsigned = create_business(legal_name="Unsigned Blades Ltd", trading_name="Unsigned Blades", postcode="E8 4GH")
    croydon = create_business(legal_name="Croydon Knives Ltd", trading_name="Croydon Knives", postcode="CR0 1AA",
                              borough="croydon")
    purchase(signed.premises[0], day, Outcome.PASS_REFUSED)
    purchase(unsigned.premises[0], day, Outcome.FAIL_SOLD_NO_CHALLENGE)
    purchase(unsigned.premises[0], day, Outcome.PASS_REFUSED)
    purchase(croydon.premises[0], day, Outcome.FAIL_SOLD_NO_CHALLENGE, authority_id=authority_id("croydon"))
    store = create_store(unsigned, url="https://unsigned-blades.example/")
    purchase(store, day, Outcome.FAIL_DELIVERED_NO_AGE_CHECK, checkout_failed=True)
    volunteer = P.create_volunteer({"code_name": CODE_NAME, "date_of_birth": day.replace(year=day.year - 14),
                                    "active": True})
    case = NamingCase(business_id=unsigned.id, status=CaseStatus.PROPOSED)
    visit = AdviceVisit(business_id=unsigned.id, premises_id=unsigned.premises[0].id, visited_on=day,
                        person_seen="Owner", advice_given="Keep knives behind the counter.", officer_notes=OFFICER_NOTES)
    db.session.add_all([case, visit])
    db.session.commit()
    return {"volunteer": volunteer.id, "case": case.id, "visit": visit.id}


def _cell(table, row_label: str, column: str):
    """The cell of `table` (a measures section) in the row headed `row_label` (or the footer) under `column`."""
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    row = table.locator("tbody tr, tfoot tr").filter(
        has=table.page.locator("th[scope=row]", has_text=re.compile(f"^{re.escape(row_label)}$")))
    expect(row).to_have_count(1)
    return row.locator("th, td").nth(headers.index(column))


def _download_csv(page, link_name: str) -> list[list[str]]:
    with page.expect_download() as download:
        page.get_by_role("link", name=link_name).click()
    assert download.value.suggested_filename.endswith(".csv")
    with open(download.value.path(), newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


def _csv_row(rows: list[list[str]], label: str) -> dict[str, str]:
    (row,) = [r for r in rows[1:] if r[0] == label]
    return dict(zip(rows[0], row, strict=True))


def _nothing_secret(page) -> None:
    body = page.locator("body")
    expect(body).not_to_contain_text(CODE_NAME)
    expect(body).not_to_contain_text(OFFICER_NOTES)


def test_city_hall_reviews_london_and_downloads_the_tables_on_a_phone(page, live_server, users, london):
    sign_in(page, live_server, users[Role.CITY_HALL].email, PASSWORD)
    expect(page.get_by_role("heading", name="London-wide measures")).to_be_visible()
    screenshot(page, "city-hall-01-home")

    # The RRA adoption review, from the phone's menu.
    page.get_by_role("button", name="Menu").click()
    expect(page.locator("#mainnav.collapse.show")).to_be_visible()
    nav = page.locator("#mainnav")
    expect(nav.get_by_role("link", name="Volunteers")).to_have_count(0)
    expect(nav.get_by_role("link", name="Operations")).to_have_count(0)
    expect(nav.get_by_role("link", name="Naming")).to_have_count(0)
    nav.get_by_role("link", name="RRA adoption review").click()
    expect(page.locator("#whose-figures")).to_contain_text("London-wide")
    review = page.locator("#table-rra_review")
    expect(review.locator("tbody tr")).to_have_count(33)  # every London borough, side by side
    expect(_cell(review, "Hackney", "Trading shops")).to_have_text("3")
    expect(_cell(review, "Hackney", "Shops whose business has signed the RRA")).to_have_text("1")
    expect(_cell(review, "Hackney", "RRA adoption")).to_have_text("33% (1 of 3)")
    expect(_cell(review, "Hackney", "Training coverage")).to_have_text("33% (1 of 3)")
    expect(_cell(review, "Croydon", "RRA adoption")).to_have_text("0% (0 of 1)")
    expect(_cell(review, "Sutton", "RRA adoption")).to_have_text("no data")  # no shops: not 0%
    expect(_cell(review, "All London", "RRA adoption")).to_have_text("25% (1 of 4)")
    expect(page.locator("#chart-rra")).to_be_visible()
    _nothing_secret(page)
    screenshot(page, "city-hall-02-rra-adoption-review")

    rows = _download_csv(page, "Download CSV of rra adoption by london borough")
    assert len(rows) == 1 + 33 + 1  # header, the boroughs, All London
    hackney = _csv_row(rows, "Hackney")
    assert (hackney["Trading shops"], hackney["RRA adoption: signed up"], hackney["RRA adoption: %"]) == (
        "3", "1", "33.3")
    assert _csv_row(rows, "All London")["RRA adoption: shops"] == "4"
    screenshot(page, "city-hall-03-rra-csv-downloaded")

    # Every borough's failure rates side by side, with London as a whole.
    page.get_by_role("link", name="Boroughs", exact=True).click()
    boroughs = page.locator("#table-boroughs")
    expect(boroughs.locator("tbody tr")).to_have_count(33)
    rate = "Underage, in store: failure rate"
    expect(_cell(boroughs, "Hackney", rate)).to_have_text("33% (1 of 3)")
    expect(_cell(boroughs, "Croydon", rate)).to_have_text("100% (1 of 1)")  # Croydon's own test, counted too
    expect(_cell(boroughs, "Islington", rate)).to_have_text("no data")
    expect(_cell(boroughs, "All London", rate)).to_have_text("50% (2 of 4)")
    expect(_cell(boroughs, "Hackney", "RRA adoption")).to_have_text("33% (1 of 3)")
    _nothing_secret(page)
    screenshot(page, "city-hall-04-boroughs-side-by-side")

    # London as a whole, in store and online.
    page.get_by_role("link", name="Test purchases", exact=True).click()
    months = page.locator("#table-months")
    expect(_cell(months, "All months", "In store")).to_have_text("4")
    expect(_cell(months, "All months", "Online")).to_have_text("1")
    expect(_cell(months, "All months", "Underage, in store: failure rate")).to_have_text("50% (2 of 4)")
    expect(_cell(months, "All months", "Underage, online: failure rate")).to_have_text("100% (1 of 1)")
    screenshot(page, "city-hall-05-london-in-store-and-online")
    page.get_by_role("link", name="Online", exact=True).click()
    online = page.locator("#table-online_outcomes")
    expect(_cell(online, "Underage", "Failure rate")).to_have_text("100% (1 of 1)")
    expect(_cell(online, "Underage", "Failed at the seller's checkout")).to_have_text("1")
    screenshot(page, "city-hall-06-online")

    # The unpublished naming case is not counted for City Hall.
    page.get_by_role("link", name="Repeat offenders and naming").click()
    expect(page.locator("#table-naming_stages")).to_contain_text("There are no naming cases.")
    expect(page.locator("#table-repeat_businesses")).to_contain_text("Unsigned Blades")
    _nothing_secret(page)
    screenshot(page, "city-hall-07-offenders-no-unpublished-case")

    # One borough against London, and its table downloaded.
    page.get_by_role("link", name="Boroughs", exact=True).click()
    page.get_by_label("Borough", exact=True).select_option(label="Croydon")
    page.get_by_role("button", name="Show").click()
    boroughs = page.locator("#table-boroughs")
    expect(boroughs.locator("tbody tr")).to_have_count(1)
    expect(_cell(boroughs, "Croydon", rate)).to_have_text("100% (1 of 1)")
    expect(_cell(boroughs, "All London", rate)).to_have_text("50% (2 of 4)")
    screenshot(page, "city-hall-08-croydon-against-london")
    rows = _download_csv(page, re.compile("^Download CSV of failure rates, rra adoption"))
    assert [r[0] for r in rows[1:]] == ["Croydon", "All London"]
    assert _csv_row(rows, "Croydon")[f"{rate}: failed"] == "1"
    assert _csv_row(rows, "All London")[f"{rate}: tested"] == "4"

    # Never a child volunteer, an unpublished naming case or an officer's notes.
    for step, path in (("09-volunteers-refused", "/volunteers"),
                       ("10-volunteer-refused", f"/volunteers/{london['volunteer']}"),
                       ("11-naming-case-refused", f"/naming/{london['case']}"),
                       ("12-visit-notes-refused", f"/visits/{london['visit']}")):
        response = page.goto(f"{live_server}{path}")
        assert response.status == 403, path
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        _nothing_secret(page)
        screenshot(page, f"city-hall-{step}")
