"""Test purchases in a real browser on a phone-sized screen (390 x 844, users.md "Police test-purchase team", issue 11
'Done when'): a police user logs an online test purchase in stages and prints its letter; an officer logs an in-store
attempt, picking the shop by typing part of its postcode, decides the follow-up and sends the week's letters in one go.
Screenshots of each step land in the test artefacts."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from retail import purchases as P
from retail.access import Role
from retail.extensions import db
from retail.settings import save_settings
from retail.timeutil import today_london
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD
from tests.factories import create_business, create_premises, create_store

AUTHORITY = "Borough of Testing Trading Standards"
CODE_NAME = "Wren-Seven"


@pytest.fixture
def operation(app, users):
    """A running operation with the police and officer users on it, and one volunteer with consent."""
    today = today_london()
    save_settings({"authority_name": AUTHORITY, "letterhead_address": "Civic Centre, 1 Test Square, London"})
    op = P.create_operation({"name": "Operation Sceptre, browser week", "lead_agency": "police",
                             "boroughs": ["hackney"], "starts_on": today - timedelta(days=3), "ends_on": today,
                             "officer_ids": [users[Role.POLICE].id, users[Role.OFFICER].id],
                             "risk_assessment_ref": "RA-77"})
    volunteer = P.create_volunteer({"code_name": CODE_NAME, "date_of_birth": date(today.year - 15, 2, 14),
                                    "active": True})
    P.add_consent(op, {"volunteer_id": volunteer.id, "given_by": "Mrs Guardian", "given_on": op.starts_on,
                       "birth_certificate_checked_by": "PC Checker", "photo_ref": "PH-1"})
    db.session.commit()
    return op


def _detail(page, term: str):
    """The value next to a term in the record's definition list."""
    return page.locator("dt", has_text=re.compile(f"^{re.escape(term)}$")).locator("xpath=following-sibling::dd[1]")


def _pdf_pages(pdf: bytes) -> int:
    # Page objects ("/Type /Page", not the "/Type /Pages" tree node); Chromium writes them uncompressed.
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_police_log_an_online_purchase_in_stages_and_print_the_letter(page, live_server, users, operation):
    business = create_business(legal_name="Blades Direct Ltd", trading_name="Blades Direct",
                               business_type="online-only", shop=False)
    create_store(business, url="https://bladesdirect.example/")
    create_business(legal_name="Speedy Parcels Ltd", trading_name="Speedy Parcels", business_type="courier",
                    shop=False)
    today = today_london().isoformat()
    sign_in(page, live_server, users[Role.POLICE].email, PASSWORD)

    # Stage 1: the order and what the checkout asked (the store is found from the listing address).
    page.goto(f"{live_server}/purchases/new-online")
    expect(page.get_by_role("heading", name="Online test purchase: the order")).to_be_visible()
    page.get_by_label("Listing address").fill("https://bladesdirect.example/knives/chef-20cm")
    expect(page.get_by_label("Operation")).to_have_value(str(operation.id))  # today's operation is the default
    page.get_by_label("Volunteer (code name)").select_option(label=CODE_NAME)
    page.get_by_label("Order reference").fill("BD-99812")
    page.get_by_label("Age statement shown at checkout").select_option(label="Yes")
    page.get_by_label("Tick-box / self-declaration only").select_option(label="Yes")
    page.get_by_label("Third-party age verification run").select_option(label="No")
    page.get_by_label("Order cancelled by the seller").select_option(label="No")
    page.get_by_label("An officer was present with the volunteer").select_option(label="Yes")
    page.get_by_label("Photograph of the volunteer on the day (reference)").fill("PH-DAY-3")
    screenshot(page, "police-01-online-order-form")
    page.get_by_role("button", name="Save order").click()
    expect(page.get_by_text("Order saved. Record the dispatch when the parcel is sent.")).to_be_visible()
    expect(page.get_by_text("Ordered (waiting for dispatch)", exact=True)).to_be_visible()
    record_url = page.url
    screenshot(page, "police-02-online-order-saved")

    # Stage 2: the dispatch, days later.
    page.get_by_role("link", name="Record the dispatch").click()
    expect(page.get_by_role("heading", name="Dispatch of order BD-99812")).to_be_visible()
    page.get_by_label("Dispatched on").fill(today)
    page.get_by_label("Parcel marked as containing a bladed article, for delivery only to 18+").select_option(
        label="Yes")
    page.get_by_label("Wording on the parcel").fill("Contains a bladed article: deliver only to a person aged 18+")
    page.get_by_label("Courier", exact=True).fill("Speedy Parcels")
    page.get_by_label("Courier in the register (a party with its own letter)").select_option(label="Speedy Parcels")
    page.get_by_label("Service", exact=True).fill("Next day")
    page.get_by_label("Age-verified delivery service").select_option(label="No")
    screenshot(page, "police-03-online-dispatch-form")
    page.get_by_role("button", name="Save dispatch").click()
    expect(page.get_by_text("Dispatched (waiting for delivery)", exact=True)).to_be_visible()
    expect(_detail(page, "Dispatch")).to_contain_text("Speedy Parcels Next day")
    screenshot(page, "police-04-online-dispatch-saved")

    # Stage 3: the delivery: handed to the child at home, no ID asked.
    page.get_by_role("link", name="Record the delivery").click()
    page.get_by_label("Delivered (or attempted) on").fill(today)
    page.get_by_label("Delivered to").select_option(label="Home address")
    page.get_by_label("Who received it").fill("The volunteer")
    page.get_by_label("ID asked").select_option(label="No")
    page.get_by_label("Left unattended").select_option(label="No")
    page.get_by_label("Signature taken").select_option(label="Yes")
    screenshot(page, "police-05-online-delivery-form")
    page.get_by_role("button", name="Save delivery").click()
    expect(page.get_by_text("Delivered (outcome to set)", exact=True)).to_be_visible()
    screenshot(page, "police-06-online-delivery-saved")

    # Stage 4: each party judged from the facts (s.141B A-D for the seller, s.39 for the courier).
    page.get_by_role("link", name="Conclude: judge each party").click()
    expect(page.get_by_role("heading", name="The seller: Failed")).to_be_visible()
    expect(page.get_by_role("heading", name="The courier: Failed")).to_be_visible()
    screenshot(page, "police-07-online-each-party-judged")
    page.get_by_role("button", name="Conclude: judge each party").click()
    expect(page.get_by_text("Concluded: Delivered without an age check. The letters are ready to print.")
           ).to_be_visible()
    assert page.url == record_url
    expect(page.locator("main")).not_to_contain_text("FAIL_")  # officers' words, never a raw code
    expect(_detail(page, "Delivery")).to_contain_text("home · received by The volunteer · ID asked No")
    # The seller failed the checkout (A) and the delivery arrangements (C); the parcel was marked (B met).
    expect(_detail(page, "Seller")).to_contain_text("A: an age check at checkout likely to prevent under-18 sales: not met")
    expect(_detail(page, "Seller")).to_contain_text("B: parcel marked as a bladed article, for delivery only to someone 18 or over: met")
    expect(_detail(page, "Courier")).to_contain_text("Speedy Parcels")
    expect(page.locator("#letters")).to_contain_text("to the courier (Speedy Parcels Ltd)")
    screenshot(page, "police-08-online-concluded-with-letters")

    # The notification letter: letterhead from settings, the result, never the volunteer.
    page.locator("#letters").get_by_role("link", name=re.compile(r"^Letter \d+ to the seller")).click()
    letter = page.locator("article.letter")
    expect(letter.locator(".letterhead")).to_contain_text(AUTHORITY)
    expect(letter.locator(".letterhead")).to_contain_text("Civic Centre, 1 Test Square, London")
    expect(letter).to_contain_text("Blades Direct Ltd")
    expect(letter).to_contain_text("bladesdirect.example")
    assert CODE_NAME not in letter.inner_text()
    screenshot(page, "police-09-online-seller-letter")

    # Printed: only the letter, with its letterhead; no navigation, no buttons, one A4 page.
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("nav.navbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.get_by_role("button", name="Mark as sent")).to_be_hidden()
    expect(page.locator("table.history")).to_be_hidden()
    expect(letter.locator(".letterhead")).to_be_visible()
    screenshot(page, "police-10-online-letter-as-printed")
    pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    assert pdf.startswith(b"%PDF")
    assert _pdf_pages(pdf) == 1
    page.emulate_media(media="screen")


def test_officer_logs_an_in_store_attempt_on_a_phone(page, live_server, users, operation):
    shop_business = create_business(legal_name="Patel Hardware Ltd", trading_name="Patel Hardware",
                                    postcode="N16 7QJ", borough="hackney")
    create_premises(shop_business, name="Patel Hardware Annexe", postcode="E9 6DD", borough="hackney")
    create_business(legal_name="Other Tools Ltd", trading_name="Other Tools", postcode="N16 0AB", borough="hackney")
    sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)

    page.goto(f"{live_server}/purchases/new")
    expect(page.get_by_role("heading", name="Log an in-store attempt")).to_be_visible()
    shop = page.get_by_label("Shop", exact=True)
    shop.press_sequentially("N16 7", delay=30)  # typed on the phone, as an officer would
    suggestions = page.get_by_role("listbox", name="Matching shops").get_by_role("option")
    expect(suggestions).to_have_count(1)
    expect(suggestions.first).to_contain_text("Patel Hardware, 1 High Street, N16 7QJ")
    screenshot(page, "police-11-in-store-shop-by-postcode")
    suggestions.first.click()
    expect(shop).to_have_value("Patel Hardware, 1 High Street, N16 7QJ")
    expect(page.get_by_label("Operation")).to_have_value(str(operation.id))
    page.get_by_label("Volunteer (code name)").select_option(label=CODE_NAME)
    page.get_by_label("No challenge").check()
    page.get_by_label("Sold", exact=True).check()
    page.get_by_label("Exhibit reference").fill("EX-4411")
    page.get_by_label("An officer was present with the volunteer").select_option(label="Yes")
    page.get_by_label("Photograph of the volunteer on the day (reference)").fill("PH-DAY-4")
    screenshot(page, "police-12-in-store-attempt-form")
    page.get_by_role("button", name="Save attempt").click()

    expect(page.get_by_text("Saved: Patel Hardware, Sold without any challenge.")).to_be_visible()
    expect(page.locator(".badge", has_text="Sold without any challenge")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("FAIL_SOLD_NO_CHALLENGE")
    expect(_detail(page, "In law")).to_contain_text("Bladed article (s.141A)")
    shop_link = page.locator("main a[href^='/premises/']")
    expect(shop_link).to_have_text("Patel Hardware")  # the shop typed for, not the annexe or the other N16 shop
    expect(shop_link.locator("xpath=..")).to_contain_text("N16 7QJ")
    expect(_detail(page, "Volunteer")).to_have_text(CODE_NAME)  # staff see the code name on the record
    expect(_detail(page, "Staff")).to_contain_text("no challenge; sold")
    expect(_detail(page, "Exhibits")).to_contain_text("Ref EX-4411")
    # A failure schedules a retest within three months.
    expect(page.locator("#actions")).to_contain_text("Retest scheduled")
    screenshot(page, "police-13-in-store-attempt-saved-retest-scheduled")

    # After the operation: the follow-up is decided (advice, warning, caution or prosecution) on the record.
    page.locator("#actions").get_by_role("link", name="Record a decision").click()
    expect(page.get_by_role("heading", name="Record a follow-up decision")).to_be_visible()
    page.get_by_label("Action", exact=True).select_option(label="Warning letter")
    page.get_by_label("Notes").fill("Second sale in the area this year: warning letter to the owner.")
    screenshot(page, "police-14-in-store-follow-up-form")
    page.get_by_role("button", name="Record action").click()
    expect(page.get_by_text("Action recorded.")).to_be_visible()
    expect(page.locator("#actions")).to_contain_text("Warning letter")
    expect(page.locator("#actions")).to_contain_text("Retest scheduled")
    screenshot(page, "police-15-in-store-follow-up-decided")

    # Every attempt has its letter: the week's letters, printed in one go and recorded as sent.
    page.goto(f"{live_server}/letters/week")
    letters = page.locator("#letters-table")
    expect(letters).to_contain_text("Patel Hardware")
    assert CODE_NAME not in page.locator("main").inner_text()
    screenshot(page, "police-16-weeks-letters")
    download_all = page.get_by_role("link", name=re.compile(r"^Download all \d+ as one PDF$"))
    pdf = page.request.get(f"{live_server}{download_all.get_attribute('href')}")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    page.get_by_role("button", name="Confirm the ticked letters were sent").click()
    expect(page.get_by_text(re.compile(r"\d+ letters? recorded as sent"))).to_be_visible()
    expect(page.get_by_text("Every letter has been sent.")).to_be_visible()
    screenshot(page, "police-17-weeks-letters-sent")
