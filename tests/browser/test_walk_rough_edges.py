"""The walk's rough edges (issue 11, part 4), as a user meets them in Chromium: the menu on a laptop, wide tables and
a refused form on a phone."""
import re
from datetime import date

from playwright.sync_api import expect

from retail import purchases as P
from retail.access import Role
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD
from tests.factories import SAFEGUARDS, create_business


def test_the_menu_shows_on_a_laptop_grouped_to_fit_one_row(page, live_server, users):
    page.set_viewport_size({"width": 1024, "height": 768})
    sign_in(page, live_server, users[Role.SUPERVISOR].email, PASSWORD)
    navbar = page.locator("nav.navbar")
    expect(navbar.get_by_role("button", name="Menu")).to_be_hidden()
    expect(navbar.get_by_role("link", name="Register")).to_be_visible()
    assert navbar.bounding_box()["height"] < 80, "the menu wraps onto a second row"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024, "the menu runs off the right edge"
    navbar.get_by_role("button", name="Compliance", exact=True).click()
    navbar.get_by_role("link", name="Naming").click()
    expect(page).to_have_url(re.compile(r"/naming$"))
    screenshot(page, "menu-laptop-1024")


def test_wide_tables_stack_on_a_phone_with_every_cell_labelled(page, live_server, users, db):
    business = create_business(legal_name="Stacked Knives Ltd", trading_name="Stacked Knives", postcode="E8 1AA")
    officer = users[Role.OFFICER]
    P.create_in_store({**SAFEGUARDS, "kind": "challenge25", "premises_id": business.premises[0].id,
                       "purchase_date": date(2026, 11, 2), "tester_age": 19, "staff_action": "no-challenge",
                       "sale_made": True}, officer)
    db.session.commit()
    sign_in(page, live_server, officer.email, PASSWORD)
    page.goto(f"{live_server}/purchases")
    row = page.locator("table.table-stack tbody tr").first
    expect(row.locator("td[data-label='Result']")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page is wider than the phone"
    screenshot(page, "purchases-list-phone")


def test_a_refused_attempt_lists_every_problem_at_the_top_on_a_phone(page, live_server, users):
    sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)
    page.goto(f"{live_server}/purchases/new")
    page.get_by_role("button", name="Save attempt").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert summary.get_by_role("link").count() >= 2
    screenshot(page, "in-store-refused-phone")


def test_volunteer_list_follows_the_operation_chosen(page, live_server, users, db):
    from datetime import timedelta

    from retail.timeutil import today_london

    today = today_london()
    first = P.create_operation({"name": "Op First", "lead_agency": "trading-standards", "boroughs": ["hackney"],
                                "starts_on": today - timedelta(days=1), "ends_on": today, "officer_ids": [],
                                "risk_assessment_ref": "RA-1"})
    second = P.create_operation({"name": "Op Second", "lead_agency": "trading-standards", "boroughs": ["hackney"],
                                 "starts_on": today - timedelta(days=1), "ends_on": today, "officer_ids": [],
                                 "risk_assessment_ref": "RA-2"})
    heron = P.create_volunteer({"code_name": "HERON", "date_of_birth": date(today.year - 14, 1, 1), "active": True})
    P.add_consent(second, {"volunteer_id": heron.id, "given_by": "Parent", "given_on": today - timedelta(days=1),
                           "birth_certificate_checked_by": "PC", "photo_ref": "PH"})
    db.session.commit()
    sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)
    page.goto(f"{live_server}/purchases/new?operation={first.id}")
    expect(page.locator(".volunteer-missing")).to_contain_text("HERON (no parental consent for this operation)")
    page.get_by_label("Operation").select_option(value=str(second.id))
    expect(page.get_by_label("Volunteer (code name)").locator("option", has_text="HERON")).to_have_count(1)
    expect(page.locator(".volunteer-missing")).not_to_contain_text("HERON")
    screenshot(page, "volunteer-list-follows-operation")


def test_borough_is_suggested_when_the_postcode_is_typed(page, live_server, users, db):
    for n, postcode in enumerate(("N4 2HA", "N4 2AB")):
        create_business(legal_name=f"Green Lanes {n} Ltd", trading_name=f"Green Lanes {n}", postcode=postcode,
                        borough="haringey")
    db.session.commit()
    sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)
    page.goto(f"{live_server}/register?q=N4 2ZZ")
    page.get_by_role("link", name="add the business").click()
    expect(page.get_by_label("Shop postcode")).to_have_value("N4 2ZZ")
    # The field can be on screen before app.js (at the end of the page) has attached its listener: wait for it.
    page.wait_for_load_state("load")
    page.get_by_label("Shop postcode").dispatch_event("change")
    # The suggestion comes from a request to the server: allow for a machine busy with other tests.
    expect(page.get_by_label("Borough", exact=True)).to_have_value("haringey", timeout=15_000)
    expect(page.locator(".borough-suggestion")).to_contain_text("Suggested from 2 shops in N4 2")
    screenshot(page, "borough-suggested-from-postcode")
