"""The retailer portal in a real browser on a phone (390 x 844, users.md "Retailer", issue 11 'Done when'): a retailer
sees their shops' agreement and review date and who is trained until when, reads their test purchase result and its
letter and accepts a training invitation; and no page a retailer can reach ever shows a volunteer's code name or date
of birth. Screenshots of each step land in the test artefacts."""
import re
from collections import deque
from datetime import date, time, timedelta
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from playwright.sync_api import expect

from retail import purchases as P
from retail import training as tr
from retail.access import Role
from retail.extensions import db
from retail.timeutil import today_london
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD
from tests.factories import SAFEGUARDS, create_business, create_store, sign_rra

CODE_NAME = "Zephyr-Quill"


@pytest.fixture
def retailer_records(app, users):
    """For the retailer's business: the agreement signed, due for review in about nine months; an in-store failure
    and an online pass, both with their letters sent; an online attempt still waiting for its letter; an open training
    invitation and a certificate."""
    today = today_london()
    business = users[Role.RETAILER].business
    premises = business.premises[0]
    sign_rra(business, signed_on=today - timedelta(days=100)).review_due = today + timedelta(days=265)
    store = create_store(business, url="https://ownshop.example/")
    officer = users[Role.OFFICER]
    op = P.create_operation({"name": "Operation Sceptre, portal week", "lead_agency": "police",
                             "boroughs": ["hackney"], "starts_on": today - timedelta(days=10), "ends_on": today,
                             "officer_ids": [officer.id], "risk_assessment_ref": "RA-9"})
    dob = date(today.year - 14, 9, 3)
    volunteer = P.create_volunteer({"code_name": CODE_NAME, "date_of_birth": dob, "active": True,
                                    "areas_to_avoid": "Home: Mare Street; school: Hackney Free"})
    P.add_consent(op, {"volunteer_id": volunteer.id, "given_by": "Mr Parent", "given_on": op.starts_on,
                       "birth_certificate_checked_by": "PC Checker", "photo_ref": "PHOTO-REF-5521"})
    failed = P.create_in_store({**SAFEGUARDS, "kind": "underage", "operation_id": op.id, "premises_id": premises.id,
                                "purchase_date": today - timedelta(days=5), "volunteer_id": volunteer.id,
                                "staff_action": "no-challenge", "sale_made": True, "officer_inside": officer.name,
                                "staff_description": "Young man, red shirt", "exhibit_ref": "EX-1"}, officer)
    online = P.create_online({**SAFEGUARDS, "kind": "underage", "operation_id": op.id, "online_store_id": store.id,
                              "purchase_date": today - timedelta(days=4), "volunteer_id": volunteer.id,
                              "listing_url": "https://ownshop.example/knives/santoku", "order_cancelled": True,
                              "checkout_av_run": True, "checkout_av_provider": "AgeCheckCo",
                              "checkout_av_result": "failed"}, officer)
    P.conclude_online(online, user=officer)
    unsent = P.create_in_store({**SAFEGUARDS, "kind": "underage", "operation_id": op.id, "premises_id": premises.id,
                                "purchase_date": today - timedelta(days=1), "volunteer_id": volunteer.id,
                                "staff_action": "refused", "sale_made": False}, officer)
    db.session.flush()
    P.mark_letters_sent(failed.letters + online.letters, today, "post", officer)
    course = tr.create_course({"title": "Knife retailer accredited trader training", "provider": "Trading Standards"})
    future = tr.create_session({"course_id": course.id, "venue": "Hackney Town Hall, Room 4", "capacity": 12,
                                "starts_at": tr.london_datetime(today + timedelta(days=21), time(10))})
    past = tr.create_session({"course_id": course.id, "venue": "Library", "capacity": 10,
                              "starts_at": tr.london_datetime(today - timedelta(days=40), time(10))})
    invitation = tr.create_invitation(business, {
        "premises_id": premises.id, "session_id": future.id, "visit_officer": "Olu Officer",
        "visited_on": today - timedelta(days=2), "places": 2})
    attendance = tr.add_attendee(past, {"person_name": "Sam Shopkeeper", "person_role": "Manager",
                                        "premises_id": premises.id})
    db.session.flush()
    tr.record_result(attendance, True, 91, "test")
    # Another business's result, which the retailer must never see.
    other = create_business(legal_name="Other Traders Ltd", trading_name="Other Traders", postcode="SE15 4QL",
                            borough="southwark")
    theirs = P.create_in_store({**SAFEGUARDS, "kind": "underage", "operation_id": op.id, "premises_id": other.premises[0].id,
                                "purchase_date": today - timedelta(days=3), "volunteer_id": volunteer.id,
                                "staff_action": "asked-id", "sale_made": True}, officer)
    db.session.flush()
    P.mark_letters_sent(theirs.letters, today, "post", officer)
    db.session.commit()
    return {"failed": failed, "online": online, "unsent": unsent, "invitation": invitation, "volunteer": volunteer,
            "letter_id": failed.letters[0].id, "other_letter_id": theirs.letters[0].id}


def test_retailer_reads_their_result_and_letter_and_accepts_training(page, live_server, users, retailer_records):
    sign_in(page, live_server, users[Role.RETAILER].email, PASSWORD)
    expect(page).to_have_url(f"{live_server}/my")
    expect(page.get_by_role("heading", name="Own Shop", exact=True)).to_be_visible()
    # Which shops are signed up to the agreement and when it is due for review; who is trained and until when.
    expect(page.locator("#shops")).to_contain_text("Review due")
    expect(page.locator("#training")).to_contain_text("Sam Shopkeeper")
    expect(page.locator("#training")).to_contain_text("until")
    screenshot(page, "retailer-01-portal-home")

    results = page.locator("#purchases")
    expect(results.get_by_text("Sold without any challenge")).to_be_visible()
    expect(results.get_by_text("Refused at checkout")).to_be_visible()
    expect(results.locator(".list-group-item")).to_have_count(2)  # the attempt whose letter is unsent is not shown
    expect(results).not_to_contain_text("Other Traders")
    results.scroll_into_view_if_needed()
    screenshot(page, "retailer-02-test-purchase-results")

    failed_result = results.locator(".list-group-item", has_text="Sold without any challenge")
    failed_result.get_by_role("link", name="Read the letter").click()
    expect(page).to_have_url(f"{live_server}/my/letters/{retailer_records['letter_id']}")
    letter = page.locator("article.letter")
    expect(letter.locator(".letterhead")).to_contain_text("Trading Standards")
    expect(letter).to_contain_text("Retailer Own Ltd")
    expect(letter).to_contain_text("Own Shop")
    assert CODE_NAME not in letter.inner_text()
    screenshot(page, "retailer-03-result-letter")
    # Someone else's letter is not found, not shown.
    response = page.goto(f"{live_server}/my/letters/{retailer_records['other_letter_id']}")
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("Other Traders")
    screenshot(page, "retailer-04-other-business-letter-not-found")

    page.goto(f"{live_server}/my")
    page.get_by_role("link", name=re.compile("Please reply: training invitation")).click()
    expect(page.get_by_role("heading", name="Invitation to accredited trader training")).to_be_visible()
    expect(page.locator("#response")).to_have_text("Awaiting reply")
    screenshot(page, "retailer-05-training-invitation")
    page.get_by_label("Session").select_option(index=0)
    expect(page.get_by_label("Session")).to_contain_text("Hackney Town Hall, Room 4")
    page.get_by_label("How many staff will come").fill("3")
    page.get_by_role("button", name="Accept the invitation").click()
    expect(page.get_by_text("Thank you: your place is booked.")).to_be_visible()
    expect(page.locator("#response")).to_have_text("Accepted")
    expect(page.get_by_role("button", name="Accept the invitation")).to_have_count(0)
    expect(page.get_by_text(re.compile(r"Accepted on \d"))).to_be_visible()
    screenshot(page, "retailer-06-invitation-accepted")

    page.get_by_role("link", name="My business").first.click()
    expect(page.get_by_text("No invitations waiting for your reply.")).to_be_visible()
    screenshot(page, "retailer-07-no-invitations-waiting")


def _dob_forms(dob: date) -> list[str]:
    return [dob.isoformat(), dob.strftime("%d %b %Y"), f"{dob.day} {dob:%b %Y}", dob.strftime("%d %B %Y"),
            f"{dob.day} {dob:%B %Y}", dob.strftime("%d/%m/%Y"), f"{dob.day}/{dob.month}/{dob.year}"]


def _same_origin_links(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    out = []
    for href in hrefs:
        url, _ = urldefrag(urljoin(page.url, href))
        if urlsplit(url).netloc == urlsplit(base).netloc and urlsplit(url).scheme in ("http", "https"):
            out.append(url)
    return out


def test_no_retailer_page_shows_a_volunteers_code_name_or_birth_date(page, live_server, users, retailer_records):
    volunteer = retailer_records["volunteer"]
    secrets = [CODE_NAME, "PHOTO-REF-5521", "Mare Street", *_dob_forms(volunteer.date_of_birth)]
    sign_in(page, live_server, users[Role.RETAILER].email, PASSWORD)
    expect(page).to_have_url(f"{live_server}/my")

    # Follow every same-origin link from the portal, breadth first (bounded), as a curious retailer would.
    start = f"{live_server}/my"
    queue, seen, visited, leaks, errors = deque([start]), {start}, [], [], []
    while queue and len(visited) < 60:
        url = queue.popleft()
        path = urlsplit(url).path
        if path.startswith(("/static/", "/bootstrap/")) or path.endswith((".css", ".js", ".png", ".ico")):
            continue
        response = page.goto(url)
        visited.append(path)
        if response is None:
            continue
        if response.status >= 500:
            errors.append(f"{path}: HTTP {response.status}")
        html = page.content()
        text = page.locator("body").inner_text()
        for secret in secrets:
            if secret in html or secret in text:
                leaks.append(f"{path}: {secret!r}")
        if response.status == 200 and "text/html" in (response.headers.get("content-type") or ""):
            for link in _same_origin_links(page, live_server):
                if link not in seen:
                    seen.add(link)
                    queue.append(link)

    assert not leaks, f"volunteer details on retailer pages: {leaks}"
    assert not errors, f"retailer pages failing: {errors}"
    # The crawl reached the pages that talk about test purchases and training, so the check means something.
    assert f"/my/letters/{retailer_records['letter_id']}" in visited
    assert f"/my/letters/{retailer_records['online'].letters[0].id}" in visited
    assert f"/my/invitations/{retailer_records['invitation'].id}" in visited
    assert any(path.startswith("/my/premises/") for path in visited)
    assert len(visited) >= 6, visited
    # The shop's own page, as the crawl read it: its agreement and training, and nothing about the volunteer.
    page.goto(f"{live_server}/my/premises/{users[Role.RETAILER].business.premises[0].id}")
    expect(page.locator("main")).to_contain_text("Own Shop")
    screenshot(page, "retailer-08-shop-page-no-volunteer-details")
