"""Logging with no signal (issue 11 part 3), in real Chromium on a phone-sized screen: the officer loses the signal
mid-operation, logs three attempts (kept on the phone, "Waiting to send (3)"), the page even reopens with no signal,
and when the signal returns exactly three records are saved, once each, however often the phone resends. A record
the server refuses comes back to the officer to fix."""
import sqlalchemy as sa
from playwright.sync_api import expect

from retail.access import Role
from retail.extensions import db
from retail.models.purchases import TestPurchase
from tests.browser.conftest import screenshot, sign_in
from tests.browser.test_purchases_browser import CODE_NAME, operation  # noqa: F401 (the fixture)
from tests.conftest import PASSWORD
from tests.factories import create_business

SHOPS = [("Patel Hardware", "N16 7QJ"), ("Mare Street Cutlers", "E8 3RL"), ("Well Street Tools", "E9 7PX")]


def _log_attempt(page, postcode: str) -> None:
    page.get_by_label("Shop", exact=True).fill(postcode)
    page.get_by_label("Volunteer (code name)").select_option(label=CODE_NAME)
    page.get_by_label("No challenge").check()
    page.get_by_label("Sold", exact=True).check()
    page.get_by_label("Exhibit reference").fill(f"EX-{postcode.replace(' ', '')}")
    page.get_by_label("An officer was present with the volunteer").select_option(label="Yes")
    page.get_by_label("Photograph of the volunteer on the day (reference)").fill("PH-DAY-1")
    page.get_by_role("button", name="Save attempt").click()


def _saved() -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(sa.select(TestPurchase.exhibit_ref)).all())


def test_three_attempts_logged_with_no_signal_are_saved_exactly_once_when_it_returns(page, live_server, users,
                                                                                      operation):  # noqa: F811
    for name, postcode in SHOPS:
        create_business(legal_name=f"{name} Ltd", trading_name=name, postcode=postcode, borough="hackney")
    sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)
    page.goto(f"{live_server}/purchases/new")
    expect(page.get_by_role("heading", name="Log an in-store attempt")).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")  # the form is kept for opening offline
    page.reload()  # the service worker now controls the page and has kept a copy of it

    page.context.set_offline(True)
    status = page.locator("[data-offline-status]")
    for count, (_, postcode) in enumerate(SHOPS, start=1):
        _log_attempt(page, postcode)
        expect(status).to_contain_text(f"Waiting to send ({count})")
        expect(page.get_by_label("Shop", exact=True)).to_have_value("")  # cleared for the next attempt
    assert _saved() == []
    screenshot(page, "offline-three-waiting")

    # With no signal the form opens again from the phone, still holding the three.
    page.reload()
    expect(page.get_by_role("heading", name="Log an in-store attempt")).to_be_visible()
    expect(status).to_contain_text("Waiting to send (3)")

    page.context.set_offline(False)
    expect(status).to_contain_text("Sent: 3 records saved.")
    assert _saved() == sorted(f"EX-{postcode.replace(' ', '')}" for _, postcode in SHOPS)
    # Nothing is left to send: reopening sends nothing twice.
    page.reload()
    page.wait_for_timeout(500)
    assert len(_saved()) == 3


def test_a_record_the_server_refuses_comes_back_to_the_officer_to_fix(page, live_server, users,
                                                                      operation):  # noqa: F811
    create_business(legal_name="Patel Hardware Ltd", trading_name="Patel Hardware", postcode="N16 7QJ",
                    borough="hackney")
    sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)
    page.goto(f"{live_server}/purchases/new")
    page.context.set_offline(True)
    _log_attempt(page, "ZZ9 9ZZ")  # no shop in the register at that postcode
    status = page.locator("[data-offline-status]")
    expect(status).to_contain_text("Waiting to send (1)")
    page.context.set_offline(False)
    expect(status).to_contain_text("1 not saved: open each to fix it")
    expect(status).to_contain_text("ZZ9 9ZZ, ")
    expect(status).to_contain_text(": the server could not save it as it is")
    page.get_by_role("button", name="Open it to fix").click()
    # The server's form, with what was typed and its message next to the shop field.
    expect(page.get_by_label("Shop", exact=True)).to_have_value("ZZ9 9ZZ")
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    page.get_by_label("Shop", exact=True).fill("N16 7QJ")
    page.get_by_label("Volunteer (code name)").select_option(label=CODE_NAME)
    page.get_by_role("button", name="Save attempt").click()
    expect(page.get_by_text("Saved: Patel Hardware")).to_be_visible()
    assert _saved() == ["EX-ZZ99ZZ"]


def test_a_send_that_stalls_is_abandoned_and_tried_again(browser, live_server, users, operation):  # noqa: F811
    """A weak signal can take a record and never answer. Before, that one send held every record on the phone for
    ever ("sending…" with nothing sent); now it is abandoned after its time and sent again, and saved once."""
    create_business(legal_name="Patel Hardware Ltd", trading_name="Patel Hardware", postcode="N16 7QJ",
                    borough="hackney")
    # No service worker: its fetch handler would hide the page's requests from the route that stalls one.
    context = browser.new_context(viewport={"width": 390, "height": 844}, service_workers="block")
    page = context.new_page()
    try:
        sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)
        page.goto(f"{live_server}/purchases/new")
        status = page.locator("[data-offline-status]")
        status.evaluate("el => el.setAttribute('data-send-timeout-ms', '1500')")  # the phone's 20 s, shortened
        page.context.set_offline(True)
        _log_attempt(page, "N16 7QJ")
        expect(status).to_contain_text("Waiting to send (1)")

        stalled = []

        def stall_the_first_send(route):
            if route.request.method == "POST" and not stalled:
                stalled.append(route)  # never answered, as on a connection that has stalled
            else:
                route.continue_()

        page.route("**/purchases/new", stall_the_first_send)
        page.context.set_offline(False)
        expect(status).to_contain_text("Sent: 1 record saved.", timeout=15000)
        assert len(stalled) == 1
        assert _saved() == ["EX-N167QJ"]
    finally:
        context.close()
