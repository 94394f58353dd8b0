"""The programme walked on a phone (390 x 844, issue 11 part 2 and 'Done when'): an officer reads the ranked shops
with their reasons and turns the ticked ones into next week's visits; a police officer turns them into an
operation's target list and finds it on the operation page. Screenshots of each step land in the test artefacts."""
from datetime import timedelta

from playwright.sync_api import expect

from retail.access import Role
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD
from tests.factories import create_business
from tests.test_programme import TODAY, _running_operation
from tests.test_scoring import make_purchase


def test_an_officer_plans_a_week_and_the_police_make_a_target_list_on_a_phone(page, live_server, users, db):
    failed = create_business(legal_name="Failed Cutlers Ltd", trading_name="Failed Cutlers", postcode="E8 1AA")
    create_business(legal_name="Never Seen Ltd", trading_name="Never Seen", postcode="E8 3AA")
    make_purchase(failed, TODAY - timedelta(days=60))
    op = _running_operation(users)

    sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)
    page.goto(f"{live_server}/programme?borough=hackney")
    expect(page.get_by_text("1 failed test purchase in the last 24 months")).to_be_visible()
    names = page.locator("a.fw-semibold").all_inner_texts()
    assert names.index("Failed Cutlers") < names.index("Never Seen")  # the failure ranks first
    screenshot(page, "programme-1-ranked-shops")
    page.get_by_role("button", name="Plan next week's visits for the ticked shops").click()
    expect(page.get_by_text("Planned week of visits")).to_be_visible()
    expect(page.get_by_text("Failed Cutlers").first).to_be_visible()
    screenshot(page, "programme-2-planned-week")

    page.context.clear_cookies()
    sign_in(page, live_server, users[Role.POLICE].email, PASSWORD)
    page.goto(f"{live_server}/programme?borough=hackney")
    page.get_by_label("Operation").select_option(str(op.id))
    page.get_by_role("button", name="Add to the target list").click()
    expect(page.get_by_text("1 failed test purchase in the last 24 months")).to_be_visible()
    screenshot(page, "programme-3-confirm-targets")
    page.get_by_role("button", name="to the list").click()
    db.session.refresh(op)
    names = [t.premises.name for t in op.targets]  # every ticked Hackney shop, highest points first
    expect(page.locator("#targets h2")).to_have_text(f"Target list ({len(names)})")
    expect(page.locator("#targets")).to_contain_text("Failed Cutlers")
    screenshot(page, "programme-4-operation-targets")
    assert names[0] == "Failed Cutlers" and "Never Seen" in names
