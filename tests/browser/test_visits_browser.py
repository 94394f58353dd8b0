"""The officer's advice visit on a phone (390 × 844, issue 11 part 1): find the shop by postcode, tick the checks,
write the advice, save and go straight on to the agreement; the retailer then reads the advice in their portal."""
import re

from playwright.sync_api import expect

from retail.access import Role
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD, make_user
from tests.factories import create_business


def test_an_officer_records_a_visit_on_a_phone_and_the_retailer_reads_the_advice(page, live_server, users, db):
    business = create_business(legal_name="Mare Street Cutlers Ltd", trading_name="Mare Street Cutlers",
                               postcode="E8 3RL")
    sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)
    page.goto(f"{live_server}/visits/new")
    page.get_by_role("textbox", name="Shop").fill("E8 3RL")
    page.get_by_label("Who you saw").fill("Mr Okafor")
    page.locator("input[name='challenge25_policy_check'][value='advice']").check()
    page.locator("input[name='display_check'][value='in-place']").check()
    screenshot(page, "visit-form-phone")
    page.get_by_role("button", name="Save the visit").click()
    # Advice ticked but not written: refused with the problem at the top and next to the field, nothing saved.
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.get_by_text("Write the advice you gave on: challenge 25 policy.").first).to_be_visible()
    page.get_by_label("Advice given (the business sees this)").fill("Write down your Challenge 25 policy.")
    page.get_by_label("Your notes (staff only, never shown to the business)").fill("Owner defensive.")
    page.get_by_role("button", name="Save and sign the agreement").click()
    expect(page).to_have_url(re.compile(rf"/businesses/{business.id}/rra/new$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page is wider than the phone"
    screenshot(page, "visit-then-agreement-phone")

    page.context.clear_cookies()
    owner = make_user(Role.RETAILER, business=business)
    sign_in(page, live_server, owner.email, PASSWORD)
    page.goto(f"{live_server}/my")
    expect(page.get_by_text("Write down your Challenge 25 policy.")).to_be_visible()
    expect(page.get_by_text("Owner defensive.")).to_have_count(0)
    screenshot(page, "visit-in-portal-phone")
