"""Fair naming walked in real Chromium by the people who take each step (issue 9 'Done when'): notice →
representations → decision → appeal → appeal refused → published → withdrawn by two supervisors, with the public page
and /api/v1/named following each step. Brief 5.3 steps 5-8 and 5.1 (appeal decided by someone not involved)."""
from datetime import timedelta

from playwright.sync_api import expect

from retail import naming
from retail.access import Role
from retail.models.compliance import CaseStatus, NamingCase
from retail.timeutil import today_london
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD, make_user
from tests.test_naming import STATEMENT
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
    naming.approve_notice(case, supervisor)
    naming.send_notice(case, officer, on=days_ago(5))
    db.session.commit()
    case_id = case.id

    # The business reads the notice and makes representations within the window.
    _switch(page, live_server, retailer)
    page.goto(f"{live_server}/my/naming/{case_id}")
    page.get_by_label("What you want us to consider").fill("The staff member who sold has been dismissed.")
    page.get_by_role("button", name="Send representations").click()
    expect(page.get_by_text("your representations have been received")).to_be_visible()
    assert _public_state(page, live_server, case_id) == (False, 0, [])

    # The window closes (time passes); a supervisor not involved decides to publish.
    db.session.expire_all()  # the live app moved the case on (its version) since this session read it
    case = db.session.get(NamingCase, case_id)
    case.representations_due = today_london() - timedelta(days=1)
    db.session.commit()
    _switch(page, live_server, supervisor2)
    page.goto(f"{live_server}/naming/{case_id}")
    page.get_by_label("Reasons for the decision").fill("Two sales and a refusal are established.")
    page.get_by_role("button", name="Decide: publish").click()
    expect(page.get_by_text("Decision recorded.")).to_be_visible()
    expect(page.get_by_text("appeal window open")).to_be_visible()
    assert _public_state(page, live_server, case_id) == (False, 0, [])

    # The business appeals from its portal.
    _switch(page, live_server, retailer)
    page.goto(f"{live_server}/my/naming/{case_id}")
    page.get_by_label("Why the decision is wrong (your grounds of appeal)").fill("The second buyer looked 25.")
    page.get_by_role("button", name="Send your appeal").click()
    expect(page.get_by_text("Your appeal has been received")).to_be_visible()
    screenshot(page, "naming-appeal-lodged-portal")

    # The supervisor who decided cannot decide the appeal; a third one refuses it and publishes.
    _switch(page, live_server, supervisor2)
    page.goto(f"{live_server}/naming/{case_id}")
    expect(page.get_by_text("a supervisor who was not must decide the appeal")).to_be_visible()
    _switch(page, live_server, supervisor3)
    page.goto(f"{live_server}/naming/{case_id}")
    page.get_by_label("Reasons for the decision on the appeal").fill("Challenge 25 does not excuse a sale to a child.")
    page.get_by_role("button", name="Refuse the appeal").click()
    expect(page.get_by_text("Appeal refused: the case can now be published.")).to_be_visible()
    assert _public_state(page, live_server, case_id) == (False, 0, [])
    page.goto(f"{live_server}/naming/{case_id}")
    page.get_by_role("button", name="Publish today").click()
    expect(page.get_by_text("Published on the public register.")).to_be_visible()
    assert _public_state(page, live_server, case_id) == (True, 1, [])

    # Published in error: one supervisor asks with a reason, another confirms; it leaves the register at once.
    page.goto(f"{live_server}/naming/{case_id}")
    page.get_by_label("Withdraw at once").fill("The first sale was to a volunteer who had turned 18.")
    page.get_by_role("button", name="Ask to withdraw").click()
    expect(page.get_by_text("another supervisor must confirm it").first).to_be_visible()
    assert _public_state(page, live_server, case_id) == (True, 1, [])
    _switch(page, live_server, supervisor)
    page.goto(f"{live_server}/naming/{case_id}")
    page.get_by_role("button", name="Confirm the withdrawal").click()
    expect(page.get_by_text("Withdrawn: the entry is off the public register")).to_be_visible()
    screenshot(page, "naming-withdrawn")
    assert _public_state(page, live_server, case_id) == (False, 0, [case_id])
    db.session.expire_all()
    assert db.session.get(NamingCase, case_id).status == CaseStatus.REMOVED
