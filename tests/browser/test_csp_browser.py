"""The Content-Security-Policy (our own scripts and styles only) breaks no page: no violation is reported while an
officer uses the pages with JavaScript, and the menu, the shop picker and the print buttons still work."""
from playwright.sync_api import expect

from retail.access import Role
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

PAGES = ["/", "/register", "/businesses/new", "/purchases/new", "/operations", "/training", "/monitor", "/measures",
         "/named", "/account/password"]


def _watch_for_violations(page) -> list[str]:
    seen = []
    page.on("console", lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda error: seen.append(str(error)))
    return seen


def test_pages_run_under_the_policy_without_violations(page, live_server, users):
    violations = _watch_for_violations(page)
    sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)
    for path in PAGES:
        response = page.goto(f"{live_server}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
    # Bootstrap's own script still opens the menu on a phone.
    page.goto(f"{live_server}/")
    page.get_by_role("button", name="Menu").click()
    # Wait for the menu's opening animation to end: a click on a moving button can miss under a loaded CI machine.
    expect(page.locator("#mainnav.collapse.show")).to_be_visible()
    page.get_by_role("button", name="Officer User").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert violations == []


def test_an_inline_script_would_be_refused(page, live_server, users):
    """The policy is really enforced by the browser: a script injected into the page does not run."""
    page.goto(f"{live_server}/login")
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';
                             document.body.appendChild(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.ran") is None
