"""The officer's register on a phone (390 x 844, users.md "Trading Standards officer", issue 11 'Done when'): an officer
starts the day on the home page, adds a business with its shop, finds it by postcode and sees the audit history; starts
from the council's spreadsheet, fixes the row the preview flags and imports again; a retailer is refused. Screenshots of
each step land in the test artefacts."""
import re

from playwright.sync_api import expect

from retail.access import Role
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

# The council's spreadsheet as it comes: headings in its own words, one row with a borough that does not exist.
SPREADSHEET = ("Business Name;Trading As;Post Code;Local Authority;Address;Type;Sells;Council Ref\r\n"
               "Okafor Hardware Ltd;Okafor Hardware;e5 8bb;LB Hackney;4 Lower Clapton Road;Independent;kitchen;H-501\r\n"
               "Okafor Hardware Ltd;Okafor Hardware;e5 0aa;Hackeny;9 Chatsworth Road;independent;garden;H-501\r\n"
               "Riverside Tools Ltd;Riverside Tools;se1 9aa;Southwark;2 Borough High Street;Independent;craft;S-502\r\n")


def test_officer_adds_finds_and_sees_history(page, live_server, users):
    sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)
    expect(page.get_by_role("heading", name=re.compile("Officer User"))).to_be_visible()
    screenshot(page, "register-01-officer-home")
    page.goto(f"{live_server}/businesses/new")
    page.get_by_label("Legal name", exact=True).fill("Demir Cutlery Ltd")
    page.get_by_label("Trading name", exact=True).fill("Demir Cutlery")
    page.get_by_label("Shop address").fill("88 Green Lanes")
    page.get_by_label("Shop postcode").fill("n42ha")
    page.get_by_label("Borough").select_option(label="Haringey")
    page.get_by_label("Kitchen / domestic knives").check()
    screenshot(page, "register-02-add-business-form")
    page.get_by_role("button", name="Add business").click()
    expect(page.get_by_role("heading", name="Demir Cutlery")).to_be_visible()
    expect(page.get_by_text("N4 2HA").first).to_be_visible()
    screenshot(page, "register-03-business-added")

    page.goto(f"{live_server}/register")
    page.get_by_label("Name, trading name or postcode").fill("N4 2")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Demir Cutlery")).to_be_visible()
    screenshot(page, "register-04-found-by-postcode")
    page.get_by_role("link", name="Demir Cutlery").click()
    page.get_by_text(re.compile(r"History \(\d+ change")).click()
    history = page.locator("table.history")
    expect(history).to_contain_text(users[Role.OFFICER].email)
    expect(history).to_contain_text("Demir Cutlery Ltd")
    history.scroll_into_view_if_needed()
    screenshot(page, "register-05-audit-history")


def _upload(page, base: str, content: str) -> None:
    page.goto(f"{base}/register")
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("Register CSV").set_input_files(
        files=[{"name": "council-register.csv", "mimeType": "text/csv", "buffer": content.encode("utf-8")}])
    page.get_by_role("button", name="Upload and preview").click()
    expect(page).to_have_url(re.compile(r"/register/import/\d+$"))


def test_officer_imports_the_councils_spreadsheet_fixes_the_flagged_row_and_imports_again(page, live_server, users):
    sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)
    page.goto(f"{live_server}/register/import")
    expect(page.get_by_role("heading", name="Import a register spreadsheet")).to_be_visible()
    screenshot(page, "register-06-import-upload")

    # The preview flags the bad row and imports nothing.
    _upload(page, live_server, SPREADSHEET)
    expect(page.get_by_text("1 of 3 rows have problems.")).to_be_visible()
    flagged = page.locator("tr.table-danger")
    expect(flagged).to_have_count(1)
    expect(flagged).to_contain_text("Hackeny")
    expect(page.get_by_role("button", name=re.compile("^Import all"))).to_have_count(0)
    screenshot(page, "register-07-import-preview-flags-a-row")

    # Fixed in the spreadsheet, uploaded again: every row is ready, and the import goes through.
    _upload(page, live_server, SPREADSHEET.replace(";Hackeny;", ";Hackney;"))
    expect(page.get_by_text(re.compile(r"All 3 rows are ready"))).to_be_visible()
    expect(page.locator("tr.table-danger")).to_have_count(0)
    screenshot(page, "register-08-import-preview-all-ready")
    page.get_by_role("button", name="Import all 3 rows").click()
    expect(page.get_by_text(re.compile(r"^Imported: 2 businesses created, .*3 shops created"))).to_be_visible()
    screenshot(page, "register-09-imported")

    # The imported shops are in the register, found by postcode like any other.
    page.get_by_label("Name, trading name or postcode").fill("E5 0")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Okafor Hardware")).to_be_visible()
    expect(page.get_by_role("link", name="Riverside Tools")).to_have_count(0)
    screenshot(page, "register-10-imported-shop-found-by-postcode")


def test_bad_postcode_is_shown_next_to_the_field(page, live_server, users):
    sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)
    page.goto(f"{live_server}/businesses/new")
    page.get_by_label("Legal name", exact=True).fill("Typo Ltd")
    page.get_by_label("Shop address").fill("1 Road")
    page.get_by_label("Shop postcode").fill("NOT A POSTCODE")
    page.get_by_label("Borough").select_option(label="Camden")
    page.get_by_role("button", name="Add business").click()
    expect(page.locator(".invalid-feedback", has_text="not a valid UK postcode")).to_be_visible()
    screenshot(page, "register-11-bad-postcode-next-to-the-field")


def test_retailer_is_refused_the_register(page, live_server, users):
    sign_in(page, live_server, users[Role.RETAILER].email, PASSWORD)
    response = page.goto(f"{live_server}/register")
    assert response.status == 403
    expect(page.get_by_text("You do not have permission")).to_be_visible()
    expect(page.get_by_role("link", name="Register")).to_have_count(0)
    screenshot(page, "register-12-retailer-refused")
