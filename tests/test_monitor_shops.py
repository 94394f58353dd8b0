"""Issue 13, done-when 1: a local test site of ordinary shop pages (buy button and price only, platform markup, a
prohibited item, a trainer, a category page, a news page) crawled by `scrape run --json`, every store's verdict,
bladed count and prohibited list asserted. Never the internet: each shop is a real HTTP server on 127.0.0.1."""
import json

import pytest

from tests.factories import create_business, create_store
from tests.monitor_shops import SHOPS
from tests.monitor_site import Site


@pytest.fixture
def fast(app, monkeypatch):
    monkeypatch.setitem(app.config, "RETAIL_FETCH_MIN_HOST_DELAY", 0)
    monkeypatch.setitem(app.config, "RETAIL_ALLOW_LOOPBACK_FETCH", True)


@pytest.fixture
def shops(app):
    sites = {}
    try:
        for name, (build, *_expected) in SHOPS.items():
            site = Site()
            site.set("/robots.txt", "User-agent: *\nAllow: /\n", ctype="text/plain")
            build(site)
            sites[name] = site
        yield sites
    finally:
        for site in sites.values():
            site.close()


def test_scrape_run_json_judges_every_ordinary_shop(app, runner, shops, fast):
    stores = {}
    for name, site in shops.items():
        business = create_business(legal_name=f"{name.title()} Ltd", trading_name=name.title(),
                                   business_type="online-only", shop=False)
        stores[name] = create_store(business, url=site.base)
    args = ["scrape", "run", "--json"]
    for store in stores.values():
        args += ["--store-id", str(store.id)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    reports = {json.loads(line)["store_id"]: json.loads(line) for line in result.stdout.splitlines()
               if line.startswith("{")}
    assert len(reports) == len(SHOPS)
    for name, (_build, age_check, bladed, prohibited) in SHOPS.items():
        report = reports[stores[name].id]
        got = (report["age_check"], report["bladed_listings"], sorted(report["prohibited"]))
        assert got == (age_check, bladed, prohibited), (name, report)

    # Prohibited items first (brief 1.4): a strong age check does not hide the zombie knife or the butterfly knife.
    prohibited = reports[stores["prohibited"].id]
    zombie = next(item for item in prohibited["listings"] if item["url"].endswith("/zombie-hunter"))
    assert zombie["bladed"] is True
    # The trainer is not a bladed listing and not a prohibited item.
    trainer = reports[stores["trainer"].id]
    assert all(item["bladed"] is not True for item in trainer["listings"])
