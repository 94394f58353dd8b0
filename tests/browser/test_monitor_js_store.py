"""Stores that need JavaScript (issue 13 part 6): a store marked as needing a browser is read with headless Chromium,
so products and age wording that only scripts put on the page are seen; the browser's every request goes through the
monitor's fetcher (robots.txt, per-host delay, SSRF guard) and Chromium reaches nothing by itself."""
import json

import pytest
import sqlalchemy as sa

from retail.models.listings import Listing, ListingKind
from retail.scrapers import monitor as mon
from tests.browser.conftest import CHROMIUM, record_fetches
from tests.test_monitor import _listing, fast, fetcher, site, store  # noqa: F401 (fixtures)

SHELL = """<!doctype html><html><head><title>{title}</title><script src="/{script}"></script></head>
<body><div id="app">Loading…</div></body></html>"""

HOME_JS = """
fetch('/api/products.json').then(r => r.json()).then(items => {
  const list = items.map(i => `<li class="product-card"><a href="${i.href}">${i.name}</a></li>`).join('');
  document.getElementById('app').innerHTML = `<h1>Blade Store</h1><ul class="product-grid">${list}</ul>
    <footer><a href="/delivery">Delivery information</a></footer>`;
});
"""

PRODUCT_JS = """
const slug = location.pathname.split('/').pop();
fetch('http://10.20.30.40/internal-admin').catch(() => {});
fetch('/api/private.json').catch(() => {});
fetch('/api/track', {method: 'POST', body: 'x'}).catch(() => {});
try { new WebSocket('ws://127.0.0.1:9/socket'); } catch (e) {}
fetch('/api/product/' + slug + '.json').then(r => r.json()).then(p => {
  document.title = p.name;
  document.getElementById('app').innerHTML = `<main><h1>${p.name}</h1><p class="price">£${p.price}</p>
    <p>${p.description}</p><form action="/basket" method="post"><button>Add to basket</button></form>
    <p>${p.age}</p></main>`;
});
"""

PRODUCTS = {
    "zombie-knife": {"name": "Zombie Knife 18in", "price": "34.99",
                     "description": "Zombie knife with serrated edge and slogan, 18 inch blade.", "age": ""},
    "chef-knife": {"name": "Chef Knife 20cm", "price": "24.99",
                   "description": "A stainless steel kitchen knife with a 20cm blade.",
                   "age": "Age verification: we use Yoti to verify your age at checkout; unverified orders are "
                          "cancelled."},
}


@pytest.fixture
def js_shop(site):  # noqa: F811
    site.set("/robots.txt", "User-agent: *\nDisallow: /api/private\n", ctype="text/plain")
    site.set("/sitemap.xml", '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>',
             ctype="application/xml")
    site.set("/", SHELL.format(title="Blade Store", script="home.js"))
    site.set("/home.js", HOME_JS, ctype="application/javascript")
    site.set("/product.js", PRODUCT_JS, ctype="application/javascript")
    site.set("/api/products.json", json.dumps([{"href": f"/product/{slug}", "name": p["name"]}
                                               for slug, p in PRODUCTS.items()]), ctype="application/json")
    site.set("/api/private.json", "{}", ctype="application/json")
    for slug, product in PRODUCTS.items():
        site.set(f"/product/{slug}", SHELL.format(title="Product", script="product.js"))
        site.set(f"/api/product/{slug}.json", json.dumps(product), ctype="application/json")
    site.set("/delivery", "<html><head><title>Delivery</title></head><body><h1>Delivery</h1>"
                          "<p>We deliver with Royal Mail Tracked 48.</p></body></html>")
    return site


def _products(store):  # noqa: F811
    return {item.url.rsplit("/", 1)[1]: item for item in mon.db.session.scalars(
        sa.select(Listing).where(Listing.online_store_id == store.id, Listing.kind == ListingKind.PRODUCT))}


def test_without_a_browser_a_javascript_store_shows_nothing_to_judge(app, js_shop, store, fetcher):  # noqa: F811
    mon.check_store(store.id, fetcher)
    assert _products(store) == {}  # the product links only exist once the scripts have run
    assert js_shop.count("/api/products.json") == 0


def test_a_store_marked_as_needing_a_browser_is_read_as_a_buyer_sees_it(app, js_shop, store, fetcher,  # noqa: F811
                                                                        monkeypatch):
    monkeypatch.setenv("CHROMIUM_PATH", CHROMIUM)
    asked = record_fetches(fetcher, monkeypatch)
    monitor = mon.ensure_monitor(store)
    mon.update_settings(monitor, {"needs_browser": True})
    mon.db.session.commit()

    result = mon.check_store(store.id, fetcher)
    products = _products(store)
    assert set(products) == {"zombie-knife", "chef-knife"}  # found through links the home page's script built
    assert products["zombie-knife"].bladed and products["zombie-knife"].prohibited == ["zombie knife"]
    assert products["chef-knife"].bladed and products["chef-knife"].age_check == "strong"
    assert "zombie knife" in result.prohibited
    # The judged page is the rendered one, and it is what the evidence keeps.
    zombie = products["zombie-knife"]
    from retail.scrapers import evidence
    kept = evidence.current_evidence([zombie.id])[zombie.id]
    assert b"Zombie Knife 18in" in kept.html and b"Add to basket" in kept.html

    # Every request went through the fetcher: the shared script once for both products, robots.txt obeyed,
    # the private address refused by the SSRF guard, the POST and the WebSocket never sent.
    assert js_shop.count("/product.js") == 1
    assert js_shop.count("/api/private.json") == 0
    assert js_shop.count("/api/track") == 0
    private = [r for url, r in asked if url.startswith("http://10.20.30.40/")]
    assert private and all(r.body is None and r.error for r in private)
    assert js_shop.count("/api/product/zombie-knife.json") == 1


def test_no_chromium_is_a_failed_fetch_that_keeps_the_last_verdict(app, js_shop, store, fetcher,  # noqa: F811
                                                                   monkeypatch):
    monkeypatch.setenv("CHROMIUM_PATH", CHROMIUM)
    monitor = mon.ensure_monitor(store)
    mon.update_settings(monitor, {"needs_browser": True})
    mon.db.session.commit()
    mon.check_store(store.id, fetcher)
    before = _products(store)["chef-knife"].age_check
    monkeypatch.setenv("CHROMIUM_PATH", "/nonexistent/chromium")
    mon.check_store(store.id, fetcher)
    chef = _products(store)["chef-knife"]
    mon.db.session.refresh(chef)
    assert chef.age_check == before == "strong"
    assert "Chromium is not installed" in chef.last_error


@pytest.fixture
def demo_shop_site():
    """The demo shop site `make run` starts (retail/scrapers/demo_site), on a free local port."""
    import threading

    from werkzeug.serving import make_server

    from retail.scrapers.demo_shop import create_app as demo_site_app

    server = make_server("127.0.0.1", 0, demo_site_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_the_demo_javascript_shop_is_read_with_the_browser(app, demo_shop_site, fetcher, monkeypatch):  # noqa: F811
    """What a newcomer sees after `make run`: shop 15 of the demo site has products only once its scripts run."""
    from tests.factories import create_business, create_store

    monkeypatch.setenv("CHROMIUM_PATH", CHROMIUM)
    business = create_business(legal_name="Outdoor Edge Ltd", trading_name="Outdoor Edge",
                               business_type="online-only", shop=False)
    js_store = create_store(business, url=f"{demo_shop_site}/shops/shop15/")
    mon.check_store(js_store.id, fetcher)
    assert _products(js_store) == {}
    mon.update_settings(mon.ensure_monitor(js_store), {"needs_browser": True})
    mon.db.session.commit()
    mon.check_store(js_store.id, fetcher)
    products = _products(js_store)
    assert {name: (p.bladed, p.age_check) for name, p in products.items()} == {
        "bushcraft-knife.html": (True, "weak"), "camp-machete.html": (True, "none")}
