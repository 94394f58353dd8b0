"""The listing monitor in a real browser on a phone (390 x 844, users.md "Online test-purchase team", issue 11 'Done
when'): an officer adds an online store through the register, presses "Check now", the scheduler's work runs against a
real local shop site, and the officer sees the verdict and the wording behind it; then picks the store from the
monitor's list of targets and opens the online test purchase form for the listing. Screenshots of each step land in
the test artefacts."""
import re

import pytest
from playwright.sync_api import expect
from werkzeug import Response

from retail.access import Role
from retail.scrapers import monitor as mon
from retail.scrapers import scheduler as sched
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD
from tests.factories import create_business

HOME = """<!doctype html><html><head><title>Hedgerow Blades</title></head><body><main><h1>Hedgerow Blades</h1>
<ul class="product-grid">
<li class="product-card"><a href="/product/bushcraft-knife">Bushcraft Fixed Blade Knife</a></li></ul></main>
<footer><a href="/delivery">Delivery information</a></footer></body></html>"""
PRODUCT = """<!doctype html><html><head><title>Bushcraft Fixed Blade Knife</title></head><body>
<nav><a href="/">Home</a> <a href="/delivery">Delivery information</a></nav>
<main><h1>Bushcraft Fixed Blade Knife</h1><p class="price">&pound;34.99</p>
<p>A full-tang carbon steel bushcraft knife with a 10cm blade and leather sheath.</p>
<p>Knives are only sold to adults. By placing an order you confirm that you are 18 years of age or over.</p>
<form action="/basket" method="post"><button>Add to basket</button></form></main></body></html>"""
DELIVERY = """<!doctype html><html><head><title>Delivery information</title></head><body><main>
<h1>Delivery information</h1><p>We deliver with Royal Mail Tracked 48. Orders placed before 2pm are sent the same
day.</p></main></body></html>"""


@pytest.fixture
def shop_site(httpserver):
    """A small knife shop on 127.0.0.1: a product page with self-declaration wording and a plain delivery page."""
    previous = httpserver.no_handler_status_code  # the server is shared by the session: restore it afterwards
    httpserver.no_handler_status_code = 404
    html = {"content_type": "text/html; charset=utf-8"}
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n", content_type="text/plain")
    httpserver.expect_request("/").respond_with_data(HOME, **html)
    httpserver.expect_request("/product/bushcraft-knife").respond_with_data(PRODUCT, **html)
    httpserver.expect_request("/delivery").respond_with_data(DELIVERY, **html)
    httpserver.expect_request("/sitemap.xml").respond_with_response(Response("not found", status=404))
    yield httpserver
    httpserver.no_handler_status_code = previous


def _run_queued_checks(app) -> list[int]:
    """What the scheduler process does on its next tick: claim the queued store and check it."""
    owner = "browser-test-scheduler"
    claimed = sched.claim_due(owner, 4)
    fetcher = mon.make_fetcher(app, min_host_delay=0, allow_loopback=True, sleep=lambda seconds: None)
    try:
        for store_id in claimed:
            assert sched.run_claimed(store_id, owner, fetcher) is True
    finally:
        fetcher.close()
    return claimed


def test_officer_adds_a_store_checks_it_now_and_sees_the_verdict_with_its_cues(page, live_server, users, app,
                                                                               shop_site):
    business = create_business(legal_name="Hedgerow Blades Ltd", trading_name="Hedgerow Blades",
                               business_type="online-only", shop=False)
    shop_url = shop_site.url_for("/")
    sign_in(page, live_server, users[Role.OFFICER].email, PASSWORD)

    page.goto(f"{live_server}/businesses/{business.id}")
    page.get_by_role("link", name="Add online store").click()
    page.get_by_label("Store name").fill("Hedgerow Blades shop")
    page.get_by_label("Web address").fill(shop_url)
    page.get_by_label("Platform").select_option(label="Own website")
    screenshot(page, "online-01-add-store-form")
    page.get_by_role("button", name="Add online store").click()
    expect(page.get_by_text("Online store added.")).to_be_visible()
    store_url = page.url
    store_id = int(re.search(r"/stores/(\d+)", store_url).group(1))

    monitor = page.locator("#monitor")
    expect(monitor).to_contain_text("This store is not monitored yet")
    screenshot(page, "online-02-store-not-monitored-yet")
    assert _run_queued_checks(app) == []  # nothing is checked before the officer asks

    monitor.get_by_role("button", name="Check now").click()
    expect(page.get_by_text(re.compile("Check queued: the monitor will visit this store"))).to_be_visible()
    expect(page.locator("#monitor-progress")).to_contain_text("waiting for the monitor")
    screenshot(page, "online-03-check-queued")

    # The scheduler's tick, in-process, against the real local site.
    assert _run_queued_checks(app) == [store_id]
    assert shop_site.log, "the monitor never fetched the shop's pages"
    fetched = {request.path for request, _ in shop_site.log}
    assert {"/robots.txt", "/", "/product/bushcraft-knife", "/delivery"} <= fetched

    page.goto(store_url)
    monitor = page.locator("#monitor")
    expect(monitor.locator("#monitor-progress")).to_have_count(0)
    expect(monitor.get_by_text("Weak age check").first).to_be_visible()
    expect(monitor).to_contain_text("Last checked")
    bladed = monitor.locator("table", has=page.get_by_role("columnheader", name="Own wording"))
    row = bladed.locator("tbody tr", has_text="Bushcraft Fixed Blade Knife")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_text("Weak age check")
    why = row.locator("td").nth(3)
    expect(why).to_contain_text("“By placing an order you confirm that you are 18”")
    expect(why).to_contain_text("Knives are only sold to adults.")  # the phrase's context, so the officer sees why
    expect(row.get_by_role("link", name="Plan test purchase")).to_be_visible()
    screenshot(page, "online-04-verdict-with-its-wording")

    # The online team picks its target from the monitor's list and opens the test purchase form for the listing.
    page.goto(f"{live_server}/monitor/targets")
    expect(page.get_by_role("heading", name="Online test purchase targets")).to_be_visible()
    target = page.locator(".card", has=page.get_by_role("link", name="Hedgerow Blades shop"))
    expect(target).to_have_count(1)
    expect(target).to_contain_text("Weak age check")
    expect(target).to_contain_text("Bushcraft Fixed Blade Knife")
    screenshot(page, "online-05-monitor-targets")
    target.get_by_role("link", name="Plan test purchase").click()
    expect(page.get_by_role("heading", name="Online test purchase: the order")).to_be_visible()
    expect(page.get_by_label("Listing address")).to_have_value(shop_site.url_for("/product/bushcraft-knife"))
    screenshot(page, "online-06-test-purchase-planned-from-target")
