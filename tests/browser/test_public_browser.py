"""The public's journey on a phone (390 x 844, users.md "The public", issue 11 'Done when'): with no login, look up the
businesses that have been named, search them by name, postcode and borough, read an entry's facts, dates and the
business's own reply (written in its portal and checked by a supervisor first), and download the same data as open
data (CSV and JSON). An entry that has expired is gone, and nothing about the volunteers or officers is ever shown.
Screenshots of each step land in the test artefacts."""
import csv
import re

import sqlalchemy as sa
from playwright.sync_api import expect

from retail import naming
from retail.access import Role
from retail.models.compliance import NamingCase
from retail.extensions import db
from retail.models.purchases import TestPurchase, Volunteer
from retail.timeutil import today_london
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD, make_user
from tests.test_naming import STATEMENT, candidate_business
from tests.test_scoring import days_ago, make_purchase, make_refusal

CODE_NAME = "FALCON-7"
OFFICER_INSIDE = "PC Hidden Name"
REPLY = "We have retrained every member of staff and now ask for ID from anyone who looks under 25."


def _nothing_private(page) -> None:
    body = page.locator("body")
    expect(body).not_to_contain_text(CODE_NAME)
    expect(body).not_to_contain_text(OFFICER_INSIDE)


def _published(people: dict, business, postcode: str) -> NamingCase:
    """As tests.test_naming.published_case (notice 60 days ago, decided, published five days ago, no appeal), with the
    statement naming this business."""
    case = naming.open_case(business, people["officer"])
    naming.propose(case, people["officer"], STATEMENT.replace("Blade Corner", business.display_name)
                   .replace("E8 2AA", postcode))
    naming.approve_notice(case, people["supervisor"])
    naming.send_notice(case, people["officer"], on=days_ago(60))
    naming.decide(case, people["supervisor2"], True, "Facts established; no representations", today=days_ago(38))
    naming.publish(case, people["supervisor2"], on=days_ago(5))
    db.session.commit()
    return case


def _search(page, name: str = "", postcode: str = "", borough: str = "Any") -> None:
    page.get_by_label("Business name").fill(name)
    page.get_by_label("Postcode", exact=True).fill(postcode)
    page.get_by_label("Borough", exact=True).select_option(label=borough)
    page.get_by_role("button", name="Search").click()


def test_the_public_looks_up_named_businesses_reads_the_reply_and_downloads_the_open_data(page, live_server, users):
    retailer, supervisor = users[Role.RETAILER], users[Role.SUPERVISOR]
    people = {"officer": users[Role.OFFICER], "supervisor": supervisor,
              "supervisor2": make_user(Role.SUPERVISOR, "supervisor2@test.example", name="Second Supervisor")}
    # Three businesses named: the retailer's own shop, a Southwark shop, and an Islington shop whose entry has expired.
    own_business = retailer.business
    make_purchase(own_business, days_ago(200))
    make_purchase(own_business, days_ago(100))
    make_refusal(own_business, days_ago(150))
    southwark = candidate_business("Cutlers Row", "SE1 4AA", "southwark")
    islington = candidate_business("Old Blades", "N1 5AA", "islington")
    volunteer = Volunteer(code_name=CODE_NAME, date_of_birth=days_ago(15 * 365))
    db.session.add(volunteer)
    db.session.commit()
    db.session.execute(sa.update(TestPurchase).values(volunteer_id=volunteer.id, officer_inside=OFFICER_INSIDE))
    db.session.commit()
    own, other, expired = (_published(people, business, postcode) for business, postcode in (
        (own_business, "E8 1AA"), (southwark, "SE1 4AA"), (islington, "N1 5AA")))
    expired.expires_on = today_london()  # its publication period ends today: off the register
    db.session.commit()
    own_id, other_id, expired_id = own.id, other.id, expired.id

    # The business writes its reply in its portal; it is not public until a supervisor has checked it.
    sign_in(page, live_server, retailer.email, PASSWORD)
    page.goto(f"{live_server}/my/naming/{own_id}")
    expect(page.get_by_text(re.compile(r"^Published .*; it comes off the register on"))).to_be_visible()
    page.get_by_label("Your reply").fill(REPLY)
    screenshot(page, "public-01-business-writes-its-reply")
    page.get_by_role("button", name="Send your reply").click()
    expect(page.get_by_text("Your reply has been received.")).to_be_visible()
    page.context.clear_cookies()
    page.goto(f"{live_server}/named")
    expect(page.locator("article.card")).to_have_count(2)
    expect(page.locator("main")).not_to_contain_text(REPLY)
    screenshot(page, "public-02-reply-not-shown-until-checked")
    sign_in(page, live_server, supervisor.email, PASSWORD)
    page.goto(f"{live_server}/naming/{own_id}")
    page.get_by_role("button", name="Approve for publication").click()
    expect(page.get_by_text("Reply approved: it is published with the entry.")).to_be_visible()
    screenshot(page, "public-03-supervisor-approves-the-reply")
    page.context.clear_cookies()

    # The public, with no login: the live entries only, with the facts, the dates and the reply.
    page.goto(f"{live_server}/named")
    expect(page.get_by_role("heading", name="Businesses named for selling knives to children")).to_be_visible()
    entries = page.locator("article.card")
    expect(entries).to_have_count(2)
    expect(page.get_by_text(re.compile(r"^2 entries"))).to_be_visible()
    expect(entries.filter(has_text="Own Shop")).to_contain_text(REPLY)
    expect(page.locator("main")).not_to_contain_text("Old Blades")  # expired
    _nothing_private(page)
    screenshot(page, "public-04-named-businesses")

    # Searching by name, by postcode and by borough.
    _search(page, name="cutl")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("Cutlers Row")
    screenshot(page, "public-05-search-by-name")
    _search(page, postcode="E8")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("Own Shop")
    screenshot(page, "public-06-search-by-postcode")
    _search(page, borough="Southwark")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("Cutlers Row")
    screenshot(page, "public-07-search-by-borough")
    _search(page, name="old blades")
    expect(entries).to_have_count(0)
    expect(page.get_by_text("No business is named matching your search.")).to_be_visible()
    screenshot(page, "public-08-expired-entry-not-found")

    # One entry on its own page: the facts, the shop, the dates and the business's reply.
    page.goto(f"{live_server}/named")
    page.get_by_role("link", name="Own Shop", exact=True).click()
    expect(page).to_have_url(f"{live_server}/named/{own_id}")
    entry = page.locator("article.card")
    expect(entry).to_contain_text("Own Shop, 1 High Street, London E8 1AA, sold knives to volunteers aged under 18")
    expect(entry).to_contain_text("1 High Street")
    expect(entry).to_contain_text("E8 1AA")
    expect(entry.get_by_text(re.compile(r"^Published \d+ \w+ \d{4} · on the register until \d+ \w+ \d{4}"))
           ).to_be_visible()
    expect(entry.get_by_text(re.compile(r"^The business's reply"))).to_be_visible()
    expect(entry).to_contain_text(REPLY)
    _nothing_private(page)
    screenshot(page, "public-09-entry-with-facts-dates-and-reply")
    response = page.goto(f"{live_server}/named/{expired_id}")
    assert response.status == 404
    screenshot(page, "public-10-expired-entry-gone")

    # The same data as open data: the CSV download and the JSON, from the register's own links.
    page.goto(f"{live_server}/named")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV", exact=True).click()
    assert download.value.suggested_filename.startswith("named-businesses-")
    with open(download.value.path(), newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(int(row["id"]) for row in rows) == sorted([own_id, other_id])
    (own_row,) = [row for row in rows if int(row["id"]) == own_id]
    assert (own_row["business_name"], own_row["reply"]) == ("Own Shop", REPLY)
    assert own_row["published_on"] and own_row["expires_on"]
    page.get_by_role("link", name="JSON", exact=True).click()
    expect(page).to_have_url(re.compile(r"/api/v1/named$"))
    expect(page.locator("body")).to_contain_text(REPLY)
    _nothing_private(page)
    screenshot(page, "public-11-open-data-json")
    body = page.request.get(f"{live_server}/api/v1/named").json()
    assert body["meta"]["total_count"] == 2
    assert {item["business_name"]: item["reply"] for item in body["items"]} == {"Own Shop": REPLY, "Cutlers Row": None}
