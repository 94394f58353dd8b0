"""Accessibility, checked by axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA) in Chromium: every page each role can
reach, with the demo's records behind every id, at phone (390 px) and desktop (1366 px) width; and keyboard-only
walks of the in-store test purchase form and the retailer's representations form.

Run alone: `.venv/bin/python -m pytest -m a11y` (or this file's path). axe-core comes from the PyPI package
axe-playwright-python, which ships axe.min.js: nothing is fetched from a CDN.
"""
import re
from datetime import date, timedelta
from collections import Counter, deque
from html import unescape
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import expect
from werkzeug.exceptions import HTTPException

from retail.access import ANY_USER, PUBLIC, STAFF, Role
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.a11y

DEMO_PASSWORD = "demo-password-for-a11y"
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a",
                                                     "wcag22aa"]},
               "resultTypes": ["violations"]}
WIDTHS = (390, 1366)
# Each role as a demo user (Hackney's staff and retailer, the Met's police officer, City Hall), and the public.
ROLES = {Role.ADMIN: "admin@hackney.demo", Role.SUPERVISOR: "supervisor@hackney.demo",
         Role.OFFICER: "officer@hackney.demo", Role.POLICE: "police@met.demo",
         Role.RETAILER: "retailer@hackney.demo", Role.CITY_HALL: "city-hall@city-hall.demo", None: None}
# Not pages: downloads and data answered to scripts.
NOT_A_PAGE = re.compile(r"^/api/|(\.csv|\.json|\.js|\.gz|\.png|/text|/attachments/<[^>]+>)$")
# Pages a role may open but has no record for, by design: the Met owns no naming cases or training sessions (the
# boroughs run them) and changes no shop's details (only the shop's borough does).
NOTHING_TO_OPEN = {Role.POLICE: {"naming.case_view", "naming.letter", "register.premises_edit", "training.session_view",
                                 "training.session_edit",
                                 # The Met's demo attempts are all concluded with their letters sent; these forms are
                                 # checked for the borough officer and supervisor, who reach them.
                                 "purchases.dispatch", "purchases.delivery", "purchases.outcome", "purchases.edit"}}
# Pages the crawl cannot reach yet (a known gap is listed here so it is visible; empty now).
NOT_YET_REACHED: set = set()
# Records of a kind read (not rendered) after the first, to find links only some records show.
MORE_RECORDS_READ = 12


@pytest.fixture(scope="module")
def demo_world(_schema_app):
    """The small demo, seeded once for this module (the per-test `app` fixture would empty it)."""
    from tests.conftest import _truncate_all

    with _schema_app.app_context():
        _truncate_all()
        owner = _schema_app.config.get("RETAIL_UNSCOPED_OWNER")
        _schema_app.config["RETAIL_UNSCOPED_OWNER"] = None  # the demo names every owner itself
        try:
            result = _schema_app.test_cli_runner().invoke(args=["seed-demo", "--password", DEMO_PASSWORD])
        finally:
            _schema_app.config["RETAIL_UNSCOPED_OWNER"] = owner
        assert result.exit_code == 0, result.output
    yield _schema_app
    with _schema_app.app_context():
        _truncate_all()


def _page_rules(app, role: Role | None) -> dict[str, str]:
    """endpoint -> rule of every HTML page `role` may open."""
    out = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        allowed = getattr(view, "access_rule", None)
        if allowed is None or "GET" not in rule.methods or NOT_A_PAGE.search(rule.rule):
            continue
        if allowed == PUBLIC or (role is not None and (allowed == ANY_USER or role in allowed)):
            out[rule.endpoint] = rule.rule
    return out


def _endpoint(adapter, url: str) -> str | None:
    try:
        endpoint, _ = adapter.match(urlsplit(url).path, method="GET")
    except HTTPException:
        return None
    return endpoint


def _links(page, base: str) -> list[str]:
    out = []
    for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
        url, _ = urldefrag(urljoin(page.url, href))
        if urlsplit(url).netloc == urlsplit(base).netloc:
            out.append(url)
    return out


def _links_in(html: str, url: str) -> list[str]:
    return [urldefrag(urljoin(url, unescape(href)))[0] for href in re.findall(r'<a [^>]*href="([^"]+)"', html)]


def axe_violations(page) -> list[str]:
    """axe-core's WCAG A/AA violations on the page as it is now, one line per rule with where it failed."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    lines = []
    for violation in results["violations"]:
        first = violation["nodes"][0]
        where = "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"][:3])
        why = " ".join(check["message"] for check in first.get("any", []) + first.get("all", []))
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} [{len(violation['nodes'])}x: "
                     f"{where}] {why}")
    return lines


def check_page(page, label: str) -> list[str]:
    """Both widths on the page as loaded: axe is injected once and run at each width."""
    found = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        found += [f"{label} @{width}px: {line}" for line in axe_violations(page)]
    return found


def _preview_an_import(page, base: str) -> None:
    """The import preview is reached only by uploading a file: upload the register's own export."""
    export = page.request.get(f"{base}/register/export.csv").body()
    page.goto(f"{base}/register/import")
    page.get_by_label("Register CSV").set_input_files(
        files=[{"name": "register.csv", "mimeType": "text/csv", "buffer": export}])
    page.get_by_role("button", name="Upload and preview").click()
    expect(page).to_have_url(re.compile(r"/register/import/\d+$"))


def _own_purchase_with_a_sent_letter(app, email: str, base: str) -> list[str]:
    """The user's own authority's latest in-store attempt whose letter has gone (its page links to Amend): a shared
    operation's attempts, read only, may fill the first page of the list."""
    import sqlalchemy as sa

    from retail.extensions import db
    from retail.models.accounts import User
    from retail.models.purchases import Channel, NotificationLetter, TestPurchase

    with app.app_context():
        authority_id = db.session.scalar(sa.select(User.authority_id).where(User.email == email))
        purchase_id = db.session.scalar(
            sa.select(TestPurchase.id).join(NotificationLetter, NotificationLetter.test_purchase_id == TestPurchase.id)
            .where(TestPurchase.authority_id == authority_id, TestPurchase.channel == Channel.IN_STORE,
                   NotificationLetter.sent_on.is_not(None)).order_by(TestPurchase.id.desc()).limit(1))
        db.session.remove()
    return [f"{base}/purchases/{purchase_id}"] if purchase_id else []


def _target_list_confirmation(app, email: str | None, base: str) -> list[str]:
    """The page that confirms ticked shops for an operation's target list (reached by a form, not a link)."""
    if email is None:
        return []
    import sqlalchemy as sa

    from retail.extensions import db
    from retail.models.accounts import User
    from retail.models.purchases import Operation
    from retail.models.register import Premises

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user.role not in (Role.SUPERVISOR, Role.OFFICER, Role.POLICE):
            db.session.remove()
            return []
        operation = db.session.scalar(sa.select(Operation).where(Operation.authority_id == user.authority_id,
                                                                 Operation.ends_on >= date.today())
                                      .order_by(Operation.id).limit(1))
        shops = db.session.scalars(sa.select(Premises.id).where(Premises.borough.in_(operation.boroughs))
                                   .order_by(Premises.id).limit(2)).all() if operation else []
        db.session.remove()
    query = "&".join(f"premises={i}" for i in shops)
    return [f"{base}/programme/targets?operation={operation.id}&{query}"] if operation else []


@pytest.mark.slow
@pytest.mark.parametrize("role", list(ROLES), ids=lambda r: r.value if r else "public")
def test_every_page_each_role_reaches_has_no_axe_violations(page, demo_world, _live_server_url, role):
    """Breadth first from the home page along every link the role is shown. Each route is checked once (on the
    first record reached); a few more records of each kind are read, unrendered, only to find links that appear
    on some records and not others (an online purchase's next stage, a draft's Edit). Every page the role may
    open must have been reached: a new page nobody links to fails here until it is linked or given a start."""
    base = _live_server_url
    email = ROLES[role]
    if email:
        sign_in(page, base, email, DEMO_PASSWORD)
        expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
    expected = _page_rules(demo_world, role)
    if email:
        expected.pop("auth.login")  # a signed-in user is sent home from it
    adapter = demo_world.url_map.bind("127.0.0.1")
    # Lists filtered so that the first records read include those only some records link on from: an online
    # purchase at each stage, an in-store failure whose letter has gone (Amend).
    # An in-store attempt from two months ago has had its letter sent, so its record links to Amend.
    sent = (date.today() - timedelta(days=60)).isoformat()
    staff = [f"{base}/purchases?channel=online&stage={stage}" for stage in ("ordered", "dispatched", "delivered")] + \
        [f"{base}/purchases?channel=in-store&to={sent}", f"{base}/letters",
         *_own_purchase_with_a_sent_letter(demo_world, email, base),
         f"{base}/programme/week?premises=1&premises=2&premises=3",
         *_target_list_confirmation(demo_world, email, base)] if role in STAFF else []
    starts = [f"{base}/", f"{base}/named", f"{base}/account/password", *staff] if email else \
        [f"{base}/named", f"{base}/login", f"{base}/no-such-page"]
    queue, seen, checked, read, problems = deque(starts), set(starts), {}, Counter(), []

    def visit(url: str) -> None:
        endpoint = _endpoint(adapter, url)
        if endpoint is not None and endpoint in checked:
            if read[endpoint] >= MORE_RECORDS_READ:
                return
            read[endpoint] += 1
            response = page.request.get(url)
            links = _links_in(response.text(), url) if "text/html" in response.headers.get("content-type", "") \
                else []
        else:
            response = page.goto(url)
            path = urlsplit(page.url).path
            checked[endpoint] = path
            if response is None or "text/html" not in (response.headers.get("content-type") or ""):
                return
            if response.status >= 500:
                problems.append(f"{path}: HTTP {response.status}")
            problems.extend(check_page(page, path))
            links = _links(page, base)
        for link in links:
            if link not in seen and urlsplit(link).netloc == urlsplit(base).netloc \
                    and _endpoint(adapter, link) in expected and not NOT_A_PAGE.search(urlsplit(link).path):
                seen.add(link)
                queue.append(link)

    while queue:
        visit(queue.popleft())
    if "register.import_preview" in expected:
        _preview_an_import(page, base)
        checked["register.import_preview"] = urlsplit(page.url).path
        problems.extend(check_page(page, urlsplit(page.url).path))
    missing = sorted(rule for endpoint, rule in expected.items()
                     if endpoint not in checked and endpoint not in NOTHING_TO_OPEN.get(role, ())
                     and endpoint not in NOT_YET_REACHED)
    if problems:
        pytest.fail("accessibility violations:\n" + "\n".join(problems), pytrace=False)
    if missing:
        pytest.fail(f"pages {role} may open that no link reached (give the demo a record, or a start URL): "
                    f"{missing}", pytrace=False)


# --- keyboard only ------------------------------------------------------------------------------------------------

_TAB_STOPS_IN = """form => {
  const seen = new Set();
  return [...form.querySelectorAll('input, select, textarea, button, a[href], summary')].filter(el => {
    if (el.disabled || el.type === 'hidden' || el.tabIndex < 0 || !el.getClientRects().length) return false;
    if (el.closest('details:not([open])') && el.tagName !== 'SUMMARY') return false;
    if (el.type === 'radio') { if (seen.has(el.name)) return false; seen.add(el.name); }  // one stop per group
    return true;
  }).map(el => el.type === 'radio' ? 'radio:' + el.name : (el.id || el.name || el.tagName + ':' + el.textContent.trim()));
}"""
_FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {key: el.type === 'radio' ? 'radio:' + el.name : (el.id || el.name || el.tagName + ':' + el.textContent.trim()),
          inForm: !!el.closest('form[method=post]:not(.d-inline)'),
          visible: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none'};
}"""


def tab_through_form(page, form, last_key: str, limit: int = 120) -> list[dict]:
    """Press Tab from the top of the page until focus reaches `last_key`; what had focus inside the form, in order."""
    page.locator("body").focus()
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        # A date or time input is one element with a stop per part (day, month, year): count the element once.
        if focused["inForm"] and (not stops or stops[-1]["key"] != focused["key"]):
            stops.append(focused)
        if focused["key"] == last_key:
            return stops
    raise AssertionError(f"Tab never reached {last_key}; stops in the form: {[s['key'] for s in stops]}")


def assert_keyboard_walk(page, form, last_key: str) -> None:
    expected = form.evaluate(_TAB_STOPS_IN)
    expected = expected[:expected.index(last_key) + 1]
    stops = tab_through_form(page, form, last_key)
    assert [s["key"] for s in stops] == expected, "focus order differs from the order on the page"
    invisible = [s["key"] for s in stops if not s["visible"]]
    assert not invisible, f"no visible focus indicator on {invisible}"


def test_in_store_form_by_keyboard_alone(page, demo_world, _live_server_url):
    base = _live_server_url
    sign_in(page, base, ROLES[Role.OFFICER], DEMO_PASSWORD)
    page.goto(f"{base}/purchases/new")
    form = page.locator("form[method=post]").filter(has=page.get_by_role("button", name="Save and log another"))
    assert_keyboard_walk(page, form, "next")  # through every field to the first submit button
    # Submit the empty form from the keyboard: the error summary takes focus and leads to the fields.
    expect(page.get_by_role("button", name="Save and log another")).to_be_visible()
    page.keyboard.press("Enter")
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    page.keyboard.press("Tab")
    first_link = summary.get_by_role("link").first
    expect(first_link).to_be_focused()
    target = first_link.get_attribute("href")
    assert target.startswith("#") and page.locator(target).count() == 1, target
    assert not check_page(page, "/purchases/new (errors)")


def test_representations_form_by_keyboard_alone(page, demo_world, _live_server_url):
    base = _live_server_url
    sign_in(page, base, ROLES[Role.RETAILER], DEMO_PASSWORD)
    page.goto(f"{base}/my/naming")
    page.locator("a[href^='/my/naming/']").first.click()
    form = page.locator("form[method=post]").filter(has=page.get_by_role("button", name="Send representations"))
    assert_keyboard_walk(page, form, "BUTTON:Send representations")
    # Sent empty: the message says what is missing and has focus.
    page.keyboard.press("Enter")
    error = page.locator(".alert-danger", has_text="Write your representations or attach a file.")
    expect(error).to_be_focused()
    assert not check_page(page, "/my/naming/<id> (error)")
    # Then written and sent, still by keyboard.
    page.get_by_label("What you want us to consider").focus()
    page.keyboard.type("We have retrained every member of staff.")
    page.keyboard.press("Tab")  # the file input
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Thank you: your representations have been received")).to_be_visible()
