"""An officer adds a business with its shop, finds it by postcode and sees the audit history; a retailer is refused."""
import re

from playwright.sync_api import expect

from retail.access import Role
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD


def test_officer_adds_finds_and_sees_history(page, live_server, users):
    sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)
    expect(page.get_by_role("heading", name=re.compile("Officer User"))).to_be_visible()
    page.goto(f"{live_server}/businesses/new")
    page.get_by_label("Legal name", exact=True).fill("Demir Cutlery Ltd")
    page.get_by_label("Trading name", exact=True).fill("Demir Cutlery")
    page.get_by_label("Shop address").fill("88 Green Lanes")
    page.get_by_label("Shop postcode").fill("n42ha")
    page.get_by_label("Borough").select_option(label="Haringey")
    page.get_by_label("Kitchen / domestic knives").check()
    page.get_by_role("button", name="Add business").click()
    expect(page.get_by_role("heading", name="Demir Cutlery")).to_be_visible()
    expect(page.get_by_text("N4 2HA").first).to_be_visible()

    page.goto(f"{live_server}/register")
    page.get_by_label("Name, trading name or postcode").fill("N4 2")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Demir Cutlery").click()
    page.get_by_text(re.compile(r"History \(\d+ change")).click()
    history = page.locator("table.history")
    expect(history).to_contain_text(users[Role.OFFICER].email)
    expect(history).to_contain_text("Demir Cutlery Ltd")


def test_bad_postcode_is_shown_next_to_the_field(page, live_server, users):
    sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)
    page.goto(f"{live_server}/businesses/new")
    page.get_by_label("Legal name", exact=True).fill("Typo Ltd")
    page.get_by_label("Shop address").fill("1 Road")
    page.get_by_label("Shop postcode").fill("NOT A POSTCODE")
    page.get_by_label("Borough").select_option(label="Camden")
    page.get_by_role("button", name="Add business").click()
    expect(page.locator(".invalid-feedback", has_text="not a valid UK postcode")).to_be_visible()


def test_retailer_is_refused_the_register(page, live_server, users):
    sign_in(page, live_server, users[Role.RETAILER].email, PASSWORD)
    response = page.goto(f"{live_server}/register")
    assert response.status == 403
    expect(page.get_by_text("You do not have permission")).to_be_visible()
    expect(page.get_by_role("link", name="Register")).to_have_count(0)
