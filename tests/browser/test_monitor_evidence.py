"""Screenshots for the online test-purchase file, by headless Chromium (issue 13 part 5): the page photographed is the
page that was hashed, every request the browser makes goes through the monitor's SSRF-guarded fetcher, and the
evidence sheet prints one A4 page per listing."""
import io
import hashlib

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from retail.models.listings import ListingEvidence
from retail.scrapers import evidence
from retail.scrapers import monitor as mon
from tests.browser.conftest import CHROMIUM, record_fetches, sign_in
from tests.conftest import PASSWORD, make_user
from tests.monitor_site import WEAK, home_page, product_page
from tests.test_monitor import _listing, fast, fetcher, site, store  # noqa: F401 (fixtures)

STYLE = "body { background: rgb(250, 240, 200); } h1 { color: rgb(200, 0, 0); }"
PICTURE = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="120">'
           '<rect width="200" height="120" fill="rgb(0,128,0)"/></svg>')


@pytest.fixture
def shop(site):  # noqa: F811
    # A zombie knife page with its stylesheet and picture on the shop, a picture on a private address the monitor
    # must never reach, and a script (scripts are never run).
    extras = ('<link rel="stylesheet" href="/style.css"><img src="/knife.svg" alt="knife">'
              '<img src="http://10.11.12.13/tracker.png" alt=""><script>fetch("/from-script")</script>'
              '<p>Zombie knife with serrated edge and slogan.</p>')
    site.set("/", home_page(["/product/zombie-knife", "/product/chef-knife"]))
    site.set("/product/zombie-knife", product_page("Zombie Knife 18in", extras))
    site.set("/product/chef-knife", product_page("Chef Knife", WEAK))
    site.set("/style.css", STYLE, ctype="text/css")
    site.set("/knife.svg", PICTURE, ctype="image/svg+xml")
    return site


def test_findings_are_photographed_from_the_hashed_page_through_the_guarded_fetcher(app, shop, store,  # noqa: F811
                                                                                    fetcher, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "RETAIL_MONITOR_SCREENSHOTS", True)
    monkeypatch.setenv("CHROMIUM_PATH", CHROMIUM)
    asked = record_fetches(fetcher, monkeypatch)
    result = mon.check_store(store.id, fetcher)
    assert result.screenshots == 3  # the zombie knife, the weak chef knife, the cleaver from the sitemap

    zombie = _listing(store, "/product/zombie-knife")
    kept = evidence.current_evidence([zombie.id])[zombie.id]
    png = kept.screenshot_png
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and kept.screenshot_sha256 == hashlib.sha256(png).hexdigest()
    # The page itself came from the store (the hashed bytes), not from a second visit by the browser.
    assert shop.count("/product/zombie-knife") == 1
    # Its stylesheet and picture were fetched once, by the monitor's fetcher; the private address was refused by
    # the SSRF guard and the script never ran.
    assert shop.count("/style.css") == 1 and shop.count("/knife.svg") == 1 and shop.count("/from-script") == 0
    private = [r for url, r in asked if url.startswith("http://10.11.12.13/")]
    assert private and all(r.body is None and r.error for r in private)
    # The picture shows the page as styled: the stylesheet's background colour is in the screenshot.
    from PIL import Image
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.getpixel((5, 5)) == (250, 240, 200)
    # Each page is photographed once: the next check finds nothing left to take.
    assert mon.check_store(store.id, fetcher).screenshots == 0


def test_the_evidence_sheet_prints_one_page_per_listing(app, page, live_server, users, shop, store,  # noqa: F811
                                                        fetcher, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "RETAIL_MONITOR_SCREENSHOTS", True)
    monkeypatch.setenv("CHROMIUM_PATH", CHROMIUM)
    mon.check_store(store.id, fetcher)
    shots = mon.db.session.scalars(sa.select(ListingEvidence).where(ListingEvidence.screenshot_png.is_not(None)))
    assert len(list(shots)) == 3
    officer = make_user("officer", "evidence.officer@test.example")
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, officer.email, PASSWORD)
    page.goto(f"{live_server}/stores/{store.id}/monitor/evidence")
    assert page.locator("section.sheet").count() == 3
    assert page.locator("section.sheet img").count() == 3
    page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True)))
    assert len(pdf.pages) == 3
    zombie = _listing(store, "/product/zombie-knife")
    kept = evidence.current_evidence([zombie.id])[zombie.id]
    pages_with_hash = ["".join(p.extract_text().split()) for p in pdf.pages]
    assert sum(kept.sha256 in text for text in pages_with_hash) == 1  # its own page, whole
