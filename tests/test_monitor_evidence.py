"""Evidence an officer can use (issue 13 part 5): every page the monitor judges is kept exactly as fetched, with its
SHA-256 and fetch time; the same page fetched again is one record whose last fetch time moves; a changed page is a new
record and the old one stays. The evidence sheet and the downloads let an officer prove what the page said.
(Screenshots by headless Chromium are tested in tests/browser/test_monitor_evidence.py.)"""
import gzip
import hashlib

import pytest
import sqlalchemy as sa

from retail.access import Role
from retail.models.listings import ListingCheck, ListingEvidence
from retail.scrapers import evidence
from retail.scrapers import monitor as mon
from tests.conftest import login_as
from tests.monitor_site import WEAK, ZOMBIE, home_page, product_page
from tests.test_monitor import _listing, fast, fetcher, site, store  # noqa: F401 (fixtures)


@pytest.fixture
def shop(site):  # noqa: F811
    site.set("/", home_page(["/product/chef-knife", "/product/zombie-knife"]))
    site.set("/product/zombie-knife", ZOMBIE)
    return site


def evidence_rows(listing_id: int) -> list[ListingEvidence]:
    return list(mon.db.session.scalars(sa.select(ListingEvidence).where(ListingEvidence.listing_id == listing_id)
                                       .order_by(ListingEvidence.id)))


def test_every_judged_page_is_kept_exactly_as_fetched_with_its_hash(app, shop, store, fetcher):  # noqa: F811
    mon.check_store(store.id, fetcher)
    chef = _listing(store, "/product/chef-knife")
    (kept,) = evidence_rows(chef.id)
    served = product_page("Chef Knife", WEAK).encode("utf-8")
    assert kept.html == served  # byte for byte what the shop sent
    assert kept.sha256 == hashlib.sha256(served).hexdigest() == chef.content_hash
    assert hashlib.sha256(gzip.decompress(kept.html_gz)).hexdigest() == kept.sha256
    assert kept.size == len(served) and kept.http_status == 200 and kept.content_type == "text/html"
    check = mon.db.session.scalar(sa.select(ListingCheck).where(ListingCheck.listing_id == chef.id))
    assert check.evidence_id == kept.id and kept.first_fetched_at == check.checked_at
    # Pages behind a store's verdict are kept too (the policy page the age check may rest on).
    assert evidence_rows(_listing(store, "/delivery").id)


def test_the_same_page_again_is_one_record_and_a_changed_page_a_new_one(app, shop, store, fetcher):  # noqa: F811
    mon.check_store(store.id, fetcher)
    chef = _listing(store, "/product/chef-knife")
    (first,) = evidence_rows(chef.id)
    first_seen, first_hash = first.first_fetched_at, first.sha256
    mon.check_store(store.id, fetcher)
    (again,) = evidence_rows(chef.id)
    assert again.id == first.id and again.first_fetched_at == first_seen and again.last_fetched_at > first_seen

    shop.set("/product/chef-knife", product_page("Chef Knife", WEAK, price="29.99"))
    mon.check_store(store.id, fetcher)
    old, new = evidence_rows(chef.id)
    assert old.sha256 == first_hash and b"24.99" in old.html  # what the page said before is never overwritten
    assert b"29.99" in new.html and new.sha256 == _listing(store, "/product/chef-knife").content_hash
    assert evidence.current_evidence([chef.id])[chef.id].id == new.id


def test_a_page_confirmed_unchanged_by_304_points_at_the_kept_page(app, shop, store, fetcher):  # noqa: F811
    shop.set("/product/chef-knife", product_page("Chef Knife", WEAK), etag=True)
    mon.check_store(store.id, fetcher)
    mon.check_store(store.id, fetcher)
    chef = _listing(store, "/product/chef-knife")
    checks = list(mon.db.session.scalars(sa.select(ListingCheck).where(ListingCheck.listing_id == chef.id)
                                         .order_by(ListingCheck.id)))
    assert [c.not_modified for c in checks] == [False, True]
    (kept,) = evidence_rows(chef.id)
    assert checks[0].evidence_id == checks[1].evidence_id == kept.id
    assert kept.last_fetched_at == checks[1].checked_at


def test_findings_are_the_pages_that_want_a_screenshot(app, shop, store, fetcher):  # noqa: F811
    mon.check_store(store.id, fetcher)
    zombie, chef = _listing(store, "/product/zombie-knife"), _listing(store, "/product/chef-knife")
    cleaver = _listing(store, "/product/cleaver")  # from the sitemap, no age wording
    assert zombie.prohibited and chef.age_check == "weak" and cleaver.age_check == "none"
    wanted = set(evidence.screenshots_wanted(store.id))
    current = evidence.current_evidence([zombie.id, chef.id, cleaver.id])
    # The home page and the delivery page are not findings.
    assert wanted == {current[zombie.id].id, current[chef.id].id, current[cleaver.id].id}
    # No browser: each page says why it has no screenshot, and is not tried again every run.
    assert evidence.take_screenshots(sorted(wanted), fetcher, executable="/nonexistent/chromium") == 0
    mon.db.session.expire_all()
    assert all(mon.db.session.get(ListingEvidence, i).screenshot_error for i in wanted)
    assert evidence.screenshots_wanted(store.id) == []


def test_the_evidence_sheet_and_downloads_prove_what_the_page_said(app, client, users, shop, store,  # noqa: F811
                                                                    fetcher):  # noqa: F811
    mon.check_store(store.id, fetcher)
    zombie = _listing(store, "/product/zombie-knife")
    kept = evidence.current_evidence([zombie.id])[zombie.id]
    login_as(client, users[Role.OFFICER])
    page = client.get(f"/stores/{store.id}/monitor/evidence").get_data(as_text=True)
    assert page.count('<section class="sheet">') == 3  # the zombie knife, the weak chef knife, the cleaver
    assert zombie.url in page and kept.sha256 in page and "zombie knife" in page
    assert "Criminal Justice Act 1988 s.141" in page
    assert "No screenshot yet" in page  # screenshots are off in tests; the browser test takes them
    one = client.get(f"/monitor/listings/{zombie.id}/evidence").get_data(as_text=True)
    assert one.count('<section class="sheet">') == 1 and kept.sha256 in one
    download = client.get(f"/monitor/evidence/{kept.id}/page.html.gz")
    assert download.mimetype == "application/gzip" and "attachment" in download.headers["Content-Disposition"]
    assert hashlib.sha256(gzip.decompress(download.data)).hexdigest() == kept.sha256
    assert client.get(f"/monitor/evidence/{kept.id}/screenshot.png").status_code == 404  # none taken


def test_retailers_never_see_the_evidence(app, client, users, shop, store, fetcher):  # noqa: F811
    mon.check_store(store.id, fetcher)
    zombie = _listing(store, "/product/zombie-knife")
    kept = evidence.current_evidence([zombie.id])[zombie.id]
    login_as(client, users[Role.RETAILER])
    for url in (f"/stores/{store.id}/monitor/evidence", f"/monitor/listings/{zombie.id}/evidence",
                f"/monitor/evidence/{kept.id}/page.html.gz", f"/monitor/evidence/{kept.id}/screenshot.png"):
        assert client.get(url).status_code == 403, url
