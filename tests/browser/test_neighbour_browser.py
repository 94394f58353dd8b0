"""A neighbouring borough's officer on a phone (390 x 844, users.md "A neighbouring borough's officer", issue 11 'Done
when'): a Croydon officer reads the London-wide register, a chain's record with its Hackney shop, its RRA status,
training completion and the monitor's findings; is refused Hackney's operation, volunteer, letter and naming case; and
runs a Croydon operation with Croydon's own volunteer, which Hackney in turn never sees. Screenshots of each step land
in the test artefacts."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from retail import purchases as P
from retail.access import Role
from retail.extensions import db
from retail.models.compliance import CaseStatus, NamingCase
from retail.models.listings import Listing
from retail.scrapers import monitor as mon
from retail.timeutil import today_london, utcnow
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD, make_user
from tests.factories import SAFEGUARDS, create_business, create_premises, create_store, sign_rra
from tests.test_measures import certify

HACKNEY_VOLUNTEER = "KESTREL"
HACKNEY_OPERATION = "Operation Hackney Spring"
CROYDON_OPERATION = "Operation Croydon Autumn"


def _choose(select, text: str) -> None:
    """Select the option whose label contains `text` (Playwright matches a label exactly)."""
    select.select_option(select.locator("option", has_text=text).get_attribute("value"))


@pytest.fixture
def chain(app, users):
    """Bladeworks, a chain with a shop in Hackney and one in Croydon, signed up to the RRA, its Hackney shop trained
    (a Hackney course), its online store found selling a chef's knife with a weak age check. Hackney's own records
    about it: an operation with a volunteer, a failed test purchase with its letter, and a naming case."""
    today = today_london()
    business = create_business(legal_name="Bladeworks plc", trading_name="Bladeworks", business_type="multiple",
                               postcode="E8 2BW")
    create_premises(business, name="Bladeworks Croydon", postcode="CR0 2BW", borough="croydon")
    sign_rra(business, signed_on=today - timedelta(days=60))
    certify(business.premises[0], today - timedelta(days=30), today + timedelta(days=300))
    store = create_store(business, url="https://bladeworks.example/")
    monitor = mon.ensure_monitor(store)
    monitor.age_check, monitor.bladed_listings, monitor.risky_listings = "weak", 1, 1
    monitor.last_run_at = monitor.verdict_at = utcnow()
    db.session.add(Listing(online_store_id=store.id, url="https://bladeworks.example/knives/chef-20cm",
                           title="Chef's knife 20cm", bladed=True, age_check="weak", verdict_at=utcnow()))
    # Hackney's own (records made outside a request belong to Hackney in the tests).
    hackney_officer = users[Role.OFFICER]
    op = P.create_operation({"name": HACKNEY_OPERATION, "lead_agency": "trading-standards", "boroughs": ["hackney"],
                             "starts_on": today - timedelta(days=5), "ends_on": today,
                             "officer_ids": [hackney_officer.id], "risk_assessment_ref": "RA-H1"})
    volunteer = P.create_volunteer({"code_name": HACKNEY_VOLUNTEER, "date_of_birth": date(today.year - 15, 3, 1),
                                    "active": True})
    P.add_consent(op, {"volunteer_id": volunteer.id, "given_by": "Mrs Parent", "given_on": op.starts_on,
                       "birth_certificate_checked_by": "PC Checker"})
    failed = P.create_in_store({**SAFEGUARDS, "kind": "underage", "operation_id": op.id,
                                "premises_id": business.premises[0].id, "purchase_date": today - timedelta(days=2),
                                "volunteer_id": volunteer.id, "staff_action": "no-challenge", "sale_made": True,
                                "exhibit_ref": "EX-HACKNEY-1"}, hackney_officer)
    case = NamingCase(business_id=business.id, status=CaseStatus.PROPOSED)
    db.session.add(case)
    db.session.commit()
    croydon_officer = make_user(Role.OFFICER, "officer@croydon.example", name="Cleo Croydon", authority="croydon")
    return {"business": business.id, "store": store.id, "hackney_shop": business.premises[0].id,
            "operation": op.id, "volunteer": volunteer.id, "letter": failed.letters[0].id, "case": case.id,
            "croydon_officer": croydon_officer}


def _refused(page, url: str) -> None:
    """Another authority's record: refused (not found, or not allowed), and none of it shown."""
    response = page.goto(url)
    assert response.status in (403, 404), (url, response.status)
    expect(page.get_by_role("heading", name=re.compile("^(Not found|Not allowed)$"))).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(HACKNEY_VOLUNTEER)


def test_a_neighbouring_officer_reads_the_register_but_not_hackneys_cases_and_runs_their_own(page, live_server,
                                                                                             users, chain):
    today = today_london()
    sign_in(page, live_server, chain["croydon_officer"].email, PASSWORD)
    expect(page.get_by_role("heading", name=re.compile("Cleo Croydon"))).to_be_visible()
    screenshot(page, "neighbour-01-home")

    # The whole register: the chain, with its Hackney shop.
    page.goto(f"{live_server}/register")
    page.get_by_label("Name, trading name or postcode").fill("Bladeworks")
    page.get_by_role("button", name="Search").click()
    screenshot(page, "neighbour-02-register-search")
    page.get_by_role("link", name="Bladeworks", exact=True).first.click()
    expect(page.get_by_role("heading", name="Bladeworks", exact=True)).to_be_visible()
    shops = page.locator("#premises")
    expect(shops.locator(".list-group-item")).to_have_count(2)
    expect(shops.locator(".list-group-item", has_text="Bladeworks Croydon")).to_contain_text("Croydon")
    expect(shops.locator(".list-group-item").filter(has_not_text="Croydon")).to_contain_text("Hackney")
    expect(page.locator("#rra")).to_contain_text("RRA signed")  # RRA status, London-wide
    expect(page.locator("main")).to_contain_text("1 of 2 shops with a certified member of staff.")  # Hackney's course
    # Hackney's test purchase there is Hackney's: not on the Croydon officer's page.
    expect(page.locator("main")).not_to_contain_text("EX-HACKNEY-1")
    expect(page.locator("main")).not_to_contain_text(HACKNEY_VOLUNTEER)
    screenshot(page, "neighbour-03-chain-record")

    page.goto(f"{live_server}/premises/{chain['hackney_shop']}")
    expect(page.get_by_text("Only Hackney's staff change this shop.")).to_be_visible()
    expect(page.get_by_role("link", name="Edit shop")).to_have_count(0)
    screenshot(page, "neighbour-04-hackney-shop-read-only")

    # The monitor's findings, London-wide.
    page.goto(f"{live_server}/monitor/targets")
    target = page.locator(".card", has_text="Bladeworks")
    expect(target).to_have_count(1)
    expect(target).to_contain_text("1 of 1 bladed listings weak or unchecked")
    expect(target.get_by_role("link", name="Chef's knife 20cm")).to_be_visible()
    screenshot(page, "neighbour-05-monitor-targets")

    # Hackney's operation, volunteer, letter and naming case: absent from the lists, refused by address.
    page.goto(f"{live_server}/operations")
    expect(page.locator("main")).not_to_contain_text(HACKNEY_OPERATION)
    screenshot(page, "neighbour-06-operations-without-hackneys")
    _refused(page, f"{live_server}/operations/{chain['operation']}")
    screenshot(page, "neighbour-07-hackney-operation-refused")
    page.goto(f"{live_server}/volunteers")
    expect(page.locator("main")).not_to_contain_text(HACKNEY_VOLUNTEER)
    _refused(page, f"{live_server}/volunteers/{chain['volunteer']}")
    screenshot(page, "neighbour-08-hackney-volunteer-refused")
    page.goto(f"{live_server}/letters")
    expect(page.locator("main")).not_to_contain_text("Bladeworks")
    _refused(page, f"{live_server}/letters/{chain['letter']}")
    screenshot(page, "neighbour-09-hackney-letter-refused")
    page.goto(f"{live_server}/naming")
    expect(page.locator("main")).not_to_contain_text("Bladeworks")
    _refused(page, f"{live_server}/naming/{chain['case']}")
    screenshot(page, "neighbour-10-hackney-naming-case-refused")

    # Their own operation, with their own volunteers.
    page.goto(f"{live_server}/operations/new")
    page.get_by_label("Name", exact=True).fill(CROYDON_OPERATION)
    page.locator("summary", has_text="Boroughs").click()
    page.get_by_label("Croydon", exact=True).check()
    page.get_by_label("Risk assessment reference").fill("RA-C7")
    screenshot(page, "neighbour-11-new-operation")
    page.get_by_role("button", name="Create operation").click()
    expect(page.get_by_text("Operation created. Now record each volunteer's consent.")).to_be_visible()
    operation_url = page.url
    for code_name, born in (("OSPREY", date(today.year - 15, 1, 10)),
                            ("HARRIER", today.replace(year=today.year - 18) - timedelta(days=30))):
        page.goto(f"{live_server}/volunteers/new")
        page.get_by_label("Code name").fill(code_name)
        page.get_by_label("Date of birth").fill(born.isoformat())
        page.get_by_role("button", name="Add volunteer").click()
        expect(page.get_by_text("Volunteer added.")).to_be_visible()

    page.goto(operation_url)
    volunteer_choice = page.get_by_label("Volunteer", exact=True)
    expect(volunteer_choice.locator("option", has_text=HACKNEY_VOLUNTEER)).to_have_count(0)  # never shared
    # An 18-year-old is refused.
    _choose(volunteer_choice, "HARRIER")  # each choice reads "CODE (aged N at the start)"
    page.get_by_label("Consent given by (parent or guardian)").fill("Mr Harrier Senior")
    page.get_by_label("Birth certificate checked by").fill("PC Croydon")
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_text("HARRIER is 18 or over when the operation starts.")).to_be_visible()
    screenshot(page, "neighbour-12-eighteen-year-old-refused")
    page.goto(operation_url)
    _choose(volunteer_choice, "OSPREY")
    page.get_by_label("Consent given by (parent or guardian)").fill("Ms Osprey")
    page.get_by_label("Birth certificate checked by").fill("PC Croydon")
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_text("Consent recorded.")).to_be_visible()
    expect(page.locator("table", has_text="Consent by")).to_contain_text("OSPREY")
    screenshot(page, "neighbour-13-consent-recorded")

    # An attempt at the chain's Croydon shop, logged under the Croydon operation.
    page.goto(f"{live_server}/purchases/new")
    page.get_by_label("Shop", exact=True).press_sequentially("CR0 2B", delay=30)
    suggestion = page.get_by_role("listbox", name="Matching shops").get_by_role("option")
    expect(suggestion).to_have_count(1)
    suggestion.first.click()
    _choose(page.get_by_label("Operation"), CROYDON_OPERATION)
    page.get_by_label("Volunteer (code name)").select_option(label="OSPREY")
    page.get_by_label("No challenge").check()
    page.get_by_label("Sold", exact=True).check()
    page.get_by_label("Exhibit reference").fill("EX-CROYDON-1")
    page.get_by_label("An officer was present with the volunteer").select_option(label="Yes")
    page.get_by_label("Photograph of the volunteer on the day (reference)").fill("PH-C1")
    page.get_by_role("button", name="Save attempt").click()
    expect(page.get_by_text("Saved: Bladeworks Croydon, Sold without any challenge.")).to_be_visible()
    screenshot(page, "neighbour-14-attempt-logged")
    page.goto(f"{live_server}/letters")
    expect(page.locator("main")).to_contain_text("Bladeworks Croydon")
    screenshot(page, "neighbour-15-own-letter-to-print")

    # Hackney, in turn, never sees Croydon's operation or volunteers.
    page.context.clear_cookies()
    sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)
    page.goto(f"{live_server}/operations")
    expect(page.locator("main")).to_contain_text(HACKNEY_OPERATION)
    expect(page.locator("main")).not_to_contain_text(CROYDON_OPERATION)
    page.goto(f"{live_server}/volunteers")
    expect(page.locator("main")).to_contain_text(HACKNEY_VOLUNTEER)
    expect(page.locator("main")).not_to_contain_text("OSPREY")
    screenshot(page, "neighbour-16-hackney-does-not-see-croydons")
