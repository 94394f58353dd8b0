"""Fair naming walked in real Chromium by the people who take each step (issue 9 'Done when'): candidates reviewed with
their evidence → notice approved by a supervisor who did not propose it → representations → decision → appeal → appeal
refused → published → withdrawn by two supervisors, with the public page and /api/v1/named following each step; then
the supervisor's monthly picture, exported. Brief 5.3 steps 5-8 and 5.1 (appeal decided by someone not involved).
On a phone (390 x 844, users.md "Supervisor", issue 11 'Done when'); screenshots of each step land in the test
artefacts."""
import re
from datetime import timedelta

from playwright.sync_api import expect

from retail import naming
from retail.access import Role
from retail.models.compliance import CaseStatus, NamingCase
from retail.timeutil import today_london
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD, make_user
from tests.test_naming import STATEMENT, candidate_business
from tests.test_scoring import days_ago, make_purchase, make_refusal


def _public_state(page, base: str, case_id: int) -> tuple[bool, int, list[int]]:
    """Whether the public page lists the entry, how many entries the API has, and the ids it lists as withdrawn."""
    page.goto(f"{base}/named")
    listed = page.get_by_text("Keen Edge").count() > 0
    total = page.request.get(f"{base}/api/v1/named").json()["meta"]["total_count"]
    withdrawn = [item["id"] for item in page.request.get(f"{base}/api/v1/named/withdrawn").json()["items"]]
    return listed, total, withdrawn


def _switch(page, base: str, user) -> None:
    page.context.clear_cookies()
    sign_in(page, base, user.email, PASSWORD)


def test_notice_to_withdrawal_walked_by_each_role_with_the_public_register_following(page, live_server, users, db):
    retailer = users[Role.RETAILER]
    business = retailer.business
    business.trading_name = "Keen Edge"
    make_purchase(business, days_ago(200))
    make_purchase(business, days_ago(100))
    make_refusal(business, days_ago(150))
    officer, supervisor = users[Role.OFFICER], users[Role.SUPERVISOR]
    supervisor2 = make_user(Role.SUPERVISOR, "supervisor2@test.example", name="Second Supervisor")
    supervisor3 = make_user(Role.SUPERVISOR, "supervisor3@test.example", name="Third Supervisor")
    case = naming.open_case(business, officer)
    naming.propose(case, officer, STATEMENT.replace("Blade Corner", "Keen Edge"))
    own = naming.open_case(candidate_business("Sharp Corner", "E8 3ZZ"), supervisor)  # the supervisor's own proposal
    naming.propose(own, supervisor, STATEMENT.replace("Blade Corner", "Sharp Corner"))
    db.session.commit()
    case_id, own_id = case.id, own.id

    # The supervisor reviews the candidates with their evidence.
    _switch(page, live_server, supervisor)
    page.goto(f"{live_server}/compliance/candidates")
    candidate = page.locator(".card", has=page.get_by_role("heading", name="Keen Edge"))
    sales, refusals = candidate.locator("div", has_text=re.compile("^Underage sales")), \
        candidate.locator("div", has_text=re.compile("^Training refused after the first sale"))
    expect(sales.locator("li")).to_have_count(2)
    expect(refusals.locator("li")).to_have_count(1)
    expect(candidate.get_by_role("link", name=re.compile(f"^Case {case_id}: "))).to_be_visible()
    screenshot(page, "supervisor-01-candidates-with-evidence")

    # Never their own proposal; an officer's proposal, yes.
    page.goto(f"{live_server}/naming/{own_id}")
    expect(page.get_by_text("Waiting for a supervisor who did not propose it to approve the notice.")).to_be_visible()
    expect(page.get_by_role("button", name="Approve the notice")).to_have_count(0)
    screenshot(page, "supervisor-02-own-proposal-cannot-approve")
    page.goto(f"{live_server}/naming/{case_id}")
    page.get_by_role("button", name="Approve the notice").click()
    expect(page.get_by_text("Approved for notice.")).to_be_visible()
    screenshot(page, "supervisor-03-officers-notice-approved")
    db.session.expire_all()  # the live app approved it since this session read the case
    naming.send_notice(db.session.get(NamingCase, case_id), officer, on=days_ago(5))
    db.session.commit()

    # The business reads the notice and makes representations within the window.
    _switch(page, live_server, retailer)
    page.goto(f"{live_server}/my/naming/{case_id}")
    expect(page.get_by_text(re.compile("^You have until"))).to_be_visible()
    screenshot(page, "supervisor-04-retailer-reads-the-notice")
    page.get_by_label("What you want us to consider").fill("The staff member who sold has been dismissed.")
    page.get_by_role("button", name="Send representations").click()
    expect(page.get_by_text("your representations have been received")).to_be_visible()
    screenshot(page, "supervisor-05-retailer-representations-sent")
    assert _public_state(page, live_server, case_id) == (False, 0, [])

    # The window closes (time passes); a supervisor not involved decides to publish.
    db.session.expire_all()  # the live app moved the case on (its version) since this session read it
    case = db.session.get(NamingCase, case_id)
    case.representations_due = today_london() - timedelta(days=1)
    db.session.commit()
    _switch(page, live_server, supervisor2)
    page.goto(f"{live_server}/naming/{case_id}")
    expect(page.locator("pre", has_text="The staff member who sold has been dismissed.")).to_be_visible()  # read first
    page.get_by_label("Reasons for the decision").fill("Two sales and a refusal are established.")
    screenshot(page, "supervisor-06-reads-representations-and-decides")
    page.get_by_role("button", name="Decide: publish").click()
    expect(page.get_by_text("Decision recorded.")).to_be_visible()
    expect(page.get_by_text("appeal window open")).to_be_visible()
    screenshot(page, "supervisor-07-decision-recorded")
    assert _public_state(page, live_server, case_id) == (False, 0, [])

    # The business appeals from its portal.
    _switch(page, live_server, retailer)
    page.goto(f"{live_server}/my/naming/{case_id}")
    page.get_by_label("Why the decision is wrong (your grounds of appeal)").fill("The second buyer looked 25.")
    page.get_by_role("button", name="Send your appeal").click()
    expect(page.get_by_text("Your appeal has been received")).to_be_visible()
    screenshot(page, "supervisor-08-retailer-appeal-lodged")

    # The supervisor who decided cannot decide the appeal; a third one refuses it and publishes.
    _switch(page, live_server, supervisor2)
    page.goto(f"{live_server}/naming/{case_id}")
    expect(page.get_by_text("a supervisor who was not must decide the appeal")).to_be_visible()
    screenshot(page, "supervisor-09-decider-cannot-decide-the-appeal")
    _switch(page, live_server, supervisor3)
    page.goto(f"{live_server}/naming/{case_id}")
    page.get_by_label("Reasons for the decision on the appeal").fill("Challenge 25 does not excuse a sale to a child.")
    page.get_by_role("button", name="Refuse the appeal").click()
    expect(page.get_by_text("Appeal refused: the case can now be published.")).to_be_visible()
    screenshot(page, "supervisor-10-appeal-refused")
    assert _public_state(page, live_server, case_id) == (False, 0, [])
    page.goto(f"{live_server}/naming/{case_id}")
    page.get_by_role("button", name="Publish today").click()
    expect(page.get_by_text("Published on the public register.")).to_be_visible()
    screenshot(page, "supervisor-11-published")
    assert _public_state(page, live_server, case_id) == (True, 1, [])
    screenshot(page, "supervisor-12-on-the-public-register")

    # Published in error: one supervisor asks with a reason, another confirms; it leaves the register at once.
    page.goto(f"{live_server}/naming/{case_id}")
    page.get_by_label("Withdraw at once").fill("The first sale was to a volunteer who had turned 18.")
    page.get_by_role("button", name="Ask to withdraw").click()
    expect(page.get_by_text("another supervisor must confirm it").first).to_be_visible()
    screenshot(page, "supervisor-13-withdrawal-asked")
    assert _public_state(page, live_server, case_id) == (True, 1, [])
    _switch(page, live_server, supervisor)
    page.goto(f"{live_server}/naming/{case_id}")
    page.get_by_role("button", name="Confirm the withdrawal").click()
    expect(page.get_by_text("Withdrawn: the entry is off the public register")).to_be_visible()
    screenshot(page, "supervisor-14-withdrawn")
    assert _public_state(page, live_server, case_id) == (False, 0, [case_id])
    screenshot(page, "supervisor-15-off-the-public-register")
    db.session.expire_all()
    assert db.session.get(NamingCase, case_id).status == CaseStatus.REMOVED

    # The monthly picture for the borough: test purchases and failure rates, repeat offenders; the tables exported.
    page.goto(f"{live_server}/measures")
    months = page.locator("#table-months")
    expect(months).to_be_visible()
    screenshot(page, "supervisor-16-monthly-picture")
    _download_csv(page, "Download CSV of ")
    page.get_by_role("link", name="Repeat offenders and naming").click()
    expect(page.locator("#table-repeat_businesses")).to_contain_text("Keen Edge")
    screenshot(page, "supervisor-17-repeat-offenders")
    _download_csv(page, "Download CSV of repeat")


def _download_csv(page, link_name_starts: str) -> None:
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(f"^{re.escape(link_name_starts)}")).first.click()
    assert download.value.suggested_filename.endswith(".csv")
    with open(download.value.path(), encoding="utf-8-sig") as handle:
        assert len(handle.read().splitlines()) > 1  # a heading and at least one row
