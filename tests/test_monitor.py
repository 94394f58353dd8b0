"""The listing monitor end to end against a real local HTTP site (never the internet): discovery, verdicts, the
store-level verdict, failed fetches, stored page text, alerts, "check now", bulk import, `scrape run --json` and the
online test purchase targets."""
import csv
import io
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from retail.access import Role
from retail.models.listings import Listing, ListingCheck, ListingKind, MonitorAlert, MonitorRun, StoreMonitor
from retail.scrapers import monitor as mon
from retail.scrapers import targets
from retail.scrapers import scheduler as sched
from retail.timeutil import utcnow
from tests.conftest import login_as
from tests.factories import create_business, create_store, sign_rra
from tests.monitor_site import (PLAIN_DELIVERY, STRONG, STRONG_DELIVERY, WEAK, ZOMBIE, Site, home_page,
                                product_page)


@pytest.fixture
def site():
    s = Site()
    s.set("/robots.txt", "User-agent: *\nDisallow: /secret/\n", ctype="text/plain")
    s.set("/", home_page(["/product/chef-knife", "/product/paring-knife", "/product/santoku",
                          "/secret/hidden-knife"]))
    s.set("/product/chef-knife", product_page("Chef Knife", WEAK))
    s.set("/product/paring-knife", product_page("Paring Knife"))
    s.set("/product/santoku", product_page("Santoku Knife", STRONG))
    s.set("/secret/hidden-knife", product_page("Hidden Knife"))
    s.set("/product/cleaver", product_page("Meat Cleaver"))
    s.set("/sitemap.xml", f"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{s.url('/product/cleaver')}</loc></url></urlset>""", ctype="application/xml")
    s.set("/delivery", PLAIN_DELIVERY)
    yield s
    s.close()


@pytest.fixture
def fast(app, monkeypatch):
    """Tests never wait between requests to the local site."""
    monkeypatch.setitem(app.config, "RETAIL_FETCH_MIN_HOST_DELAY", 0)
    monkeypatch.setitem(app.config, "RETAIL_ALLOW_LOOPBACK_FETCH", True)


@pytest.fixture
def fetcher(app, fast):
    f = mon.make_fetcher(app, sleep=lambda s: None, max_retries=1)
    yield f
    f.close()


@pytest.fixture
def store(app, site):
    business = create_business(legal_name="Test Knives Ltd", trading_name="Test Knives", business_type="online-only",
                               shop=False)
    return create_store(business, url=site.base)


def _listing(store, path_or_url):
    url = path_or_url if path_or_url.startswith("http") else store.base_url.rstrip("/") + path_or_url
    return mon.db.session.scalar(sa.select(Listing).where(Listing.online_store_id == store.id, Listing.url == url))


def test_store_check_discovers_products_and_classifies_them(app, site, store, fetcher):
    result = mon.check_store(store.id, fetcher)

    products = {item.url.rsplit("/", 1)[1]: item for item in mon.db.session.scalars(
        sa.select(Listing).where(Listing.online_store_id == store.id, Listing.kind == ListingKind.PRODUCT))}
    # Links on the home page and the sitemap were both followed.
    assert {"chef-knife", "paring-knife", "santoku", "cleaver"} <= set(products)
    assert products["chef-knife"].age_check == "weak" and products["chef-knife"].bladed
    assert products["paring-knife"].age_check == "none"
    assert products["santoku"].age_check == "strong"
    assert any("Yoti" in c["phrase"] or "Yoti" in c["context"] for c in products["santoku"].cues)
    # robots.txt said keep out of /secret/: never requested.
    assert site.count("/secret/.*") == 0
    assert _listing(store, "/delivery").kind == ListingKind.POLICY
    # The store is only as good as its weakest bladed listing.
    monitor = mon.monitor_for(store.id)
    assert monitor.age_check == "none" and result.age_check == "none"
    assert monitor.bladed_listings == 4 and monitor.risky_listings == 3
    assert monitor.verdict_listing_id in (products["paring-knife"].id, products["cleaver"].id)
    run = mon.db.session.scalar(sa.select(MonitorRun).where(MonitorRun.online_store_id == store.id))
    assert run.finished_at is not None and run.pages == result.pages >= 6


def test_policy_page_promising_id_on_delivery_lifts_every_listing(app, client, users, site, store, fetcher):
    site.set("/delivery", STRONG_DELIVERY)
    mon.check_store(store.id, fetcher)
    monitor = mon.monitor_for(store.id)
    assert monitor.age_check == "strong"
    policy = _listing(store, "/delivery")
    assert monitor.verdict_policy_id == policy.id
    assert "covers every listing" in monitor.verdict_reason
    # ID on delivery is s.141B condition C: the listings it lifts have no check at sale (the santoku's Yoti does).
    assert _listing(store, "/delivery").conditions == ["C"] and _listing(store, "/product/santoku").conditions
    assert monitor.check_at_sale is False and "condition C" in monitor.verdict_reason
    # The officer sees which policy page led to it and the listings' own wording.
    login_as(client, users[Role.OFFICER])
    html = client.get(f"/stores/{store.id}").get_data(as_text=True)
    assert "counts for every listing of this store" in html
    assert "Delivery information" in html and "Paring Knife" in html
    assert "photo ID will be required on delivery" in html  # the cue, with its context


def test_failed_fetch_records_the_error_and_keeps_the_last_good_verdict(app, site, store, fetcher):
    mon.check_store(store.id, fetcher)
    before = _listing(store, "/product/santoku")
    good_check = before.last_good_check_id
    site.set("/product/santoku", "Service Unavailable", status=503, ctype="text/plain")
    mon.check_store(store.id, fetcher)
    listing = _listing(store, "/product/santoku")
    mon.db.session.refresh(listing)
    assert listing.age_check == "strong" and listing.bladed is True
    assert listing.last_good_check_id == good_check
    assert "503" in listing.last_error
    last = mon.db.session.scalar(sa.select(ListingCheck).where(ListingCheck.listing_id == listing.id)
                                 .order_by(ListingCheck.id.desc()).limit(1))
    assert last.http_status == 503 and "503" in last.error and last.age_check is None
    assert mon.monitor_for(store.id).age_check == "none"  # unchanged store verdict


def test_page_text_is_kept_only_when_the_page_changed(app, site, store, fetcher):
    site.set("/product/santoku", product_page("Santoku Knife", STRONG), etag=True)
    mon.check_store(store.id, fetcher)
    mon.check_store(store.id, fetcher)
    chef = _listing(store, "/product/chef-knife")
    checks = list(mon.db.session.scalars(sa.select(ListingCheck).where(ListingCheck.listing_id == chef.id)
                                         .order_by(ListingCheck.id)))
    assert [c.page_text is not None for c in checks] == [True, False]
    assert "Chef Knife" in checks[0].text and checks[1].changed is False
    # A page with an ETag costs a 304 the second time, and keeps its verdict.
    santoku = _listing(store, "/product/santoku")
    second = mon.db.session.scalars(sa.select(ListingCheck).where(ListingCheck.listing_id == santoku.id)
                                    .order_by(ListingCheck.id)).all()[1]
    assert second.not_modified and second.http_status == 304 and second.age_check == "strong"
    # Changed content is stored again.
    site.set("/product/chef-knife", product_page("Chef Knife", WEAK, price="19.99"))
    mon.check_store(store.id, fetcher)
    third = mon.db.session.scalars(sa.select(ListingCheck).where(ListingCheck.listing_id == chef.id)
                                   .order_by(ListingCheck.id.desc())).first()
    assert third.page_text is not None and "19.99" in third.text


def test_alerts_when_age_check_gets_worse_or_a_prohibited_item_appears(app, client, users, site, store, fetcher):
    site.set("/delivery", STRONG_DELIVERY)
    mon.check_store(store.id, fetcher)
    assert mon.monitor_for(store.id).age_check == "strong"
    assert mon.db.session.scalar(sa.select(sa.func.count()).select_from(MonitorAlert)) == 0
    # The shop drops its ID-on-delivery promise and lists a zombie knife.
    site.set("/delivery", PLAIN_DELIVERY)
    site.set("/", home_page(["/product/chef-knife", "/product/paring-knife", "/product/santoku",
                             "/product/zombie-knife"]))
    site.set("/product/zombie-knife", ZOMBIE)
    mon.check_store(store.id, fetcher)
    alerts = {a.kind.value: a for a in mon.db.session.scalars(sa.select(MonitorAlert))}
    assert set(alerts) == {"age_check_worse", "prohibited_found"}
    assert (alerts["age_check_worse"].before, alerts["age_check_worse"].after) == ("strong", "none")
    assert "zombie knife" in alerts["prohibited_found"].after
    # Seen again: no new alert for the same item.
    mon.check_store(store.id, fetcher)
    assert mon.db.session.scalar(sa.select(sa.func.count()).select_from(MonitorAlert)) == 2
    # The officer's home page shows them; acknowledging removes them from the panel.
    login_as(client, users[Role.OFFICER])
    home = client.get("/").get_data(as_text=True)
    assert "Prohibited item found" in home and "Age check got worse" in home
    timeline = client.get(f"/businesses/{store.business_id}").get_data(as_text=True)
    assert "Prohibited item found: " in timeline
    for alert in alerts.values():
        assert client.post(f"/monitor/alerts/{alert.id}/acknowledge").status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "No new alerts from the listing monitor" in home
    assert mon.db.session.get(MonitorAlert, alerts["prohibited_found"].id).acknowledged_by_id == users[Role.OFFICER].id


def test_check_now_queues_a_check_the_scheduler_takes_first(app, client, users, site, store, fast):
    other = create_store(store.business, url="http://127.0.0.2:9/")
    mon.ensure_monitor(other)
    monitor = mon.ensure_monitor(store)
    monitor.next_due_at = utcnow() + timedelta(days=1)  # not due by the clock
    mon.db.session.commit()
    login_as(client, users[Role.OFFICER])
    response = client.post(f"/stores/{store.id}/monitor/check")
    assert response.status_code == 302
    page = client.get(f"/stores/{store.id}").get_data(as_text=True)
    assert "Check queued" in page
    claimed = sched.claim_due("worker-a", 1)
    assert claimed == [store.id]  # requested first, ahead of the overdue store
    worker = sched.MonitorScheduler(app, workers=1, owner="worker-a", fetcher=mon.make_fetcher(app))
    try:
        assert sched.run_claimed(store.id, "worker-a", worker.fetcher) is True
    finally:
        worker.shutdown()
    mon.db.session.expire_all()
    monitor = mon.monitor_for(store.id)
    assert monitor.check_requested_at is None and monitor.lease_owner is None
    assert monitor.next_due_at > utcnow() + timedelta(hours=23)
    run = mon.db.session.scalar(sa.select(MonitorRun).where(MonitorRun.online_store_id == store.id))
    assert run.trigger == "check-now"
    status = client.get(f"/stores/{store.id}/monitor/status.json").get_json()
    assert status["running"] is False and status["queued"] is False and status["age_check"] == "none"


def test_officer_adds_a_listing_by_hand_only_on_the_stores_domain(app, client, users, site, store, fetcher):
    login_as(client, users[Role.OFFICER])
    client.get(f"/stores/{store.id}")
    bad = client.post(f"/stores/{store.id}/monitor/listings", data={"listing-url": "https://elsewhere.example/x"},
                      follow_redirects=True)
    assert "not on this store" in bad.get_data(as_text=True)
    ok = client.post(f"/stores/{store.id}/monitor/listings",
                     data={"listing-url": store.base_url + "hand/added-knife"})
    assert ok.status_code == 302
    site.set("/hand/added-knife", product_page("Hand Added Knife"))
    mon.check_store(store.id, fetcher)
    listing = _listing(store, "/hand/added-knife")
    assert listing.added_by_hand and listing.bladed and listing.age_check == "none"
    page = client.get(f"/monitor/listings/{listing.id}").get_data(as_text=True)
    assert "Hand Added Knife" in page and "added by hand" in page


def test_monitor_settings_are_edited_with_version_check(app, client, users, store):
    login_as(client, users[Role.OFFICER])
    form = client.get(f"/stores/{store.id}/monitor/settings").get_data(as_text=True)
    assert "Start pages" in form
    with mon.db.engine.connect() as conn:  # opening the form wrote nothing
        assert conn.execute(sa.select(sa.func.count()).select_from(StoreMonitor.__table__)).scalar() == 0
    data = {"start_urls": store.base_url + "\n" + store.base_url + "category/knives", "interval_hours": 6,
            "listing_cap": 10, "enabled": "y", "version": 1}
    assert client.post(f"/stores/{store.id}/monitor/settings", data=data).status_code == 302
    mon.db.session.expire_all()
    monitor = mon.monitor_for(store.id)
    assert (monitor.interval_hours, monitor.listing_cap, len(monitor.start_url_list)) == (6, 10, 2)
    stale = client.post(f"/stores/{store.id}/monitor/settings", data=data)  # same old version again
    assert "changed by someone else" in stale.get_data(as_text=True)
    data["version"] = monitor.version
    data["start_urls"] = "https://elsewhere.example/"
    assert "not on the store" in client.post(f"/stores/{store.id}/monitor/settings",
                                             data=data).get_data(as_text=True)


def test_import_stores_is_all_or_nothing_and_does_not_duplicate(app, runner, tmp_path):
    create_business(legal_name="Blades Online Ltd", trading_name="Blades Online", external_ref="TS-101", shop=False)
    create_business(legal_name="Knife Hub Ltd", trading_name="Knife Hub", shop=False)
    bad = tmp_path / "bad.csv"
    bad.write_text("business,url,platform,start_urls\n"
                   "TS-101,https://blades-online.example/,own-website,https://blades-online.example/knives\n"
                   "Nobody Ltd,https://nobody.example/,own-website,\n"
                   "Knife Hub,not a url,carrier-pigeon,\n")
    result = runner.invoke(args=["import-stores", str(bad)])
    assert result.exit_code != 0
    assert "Line 3" in result.output and "no business" in result.output
    assert "Line 4" in result.output and "platform" in result.output
    assert mon.db.session.scalar(sa.select(sa.func.count()).select_from(mon.OnlineStore)) == 0

    good = tmp_path / "good.csv"
    good.write_text("business,url,platform,start_urls\n"
                    "TS-101,https://blades-online.example/,own-website,"
                    "https://blades-online.example/knives https://blades-online.example/delivery\n"
                    "Knife Hub,https://www.ebay.example/str/knifehub,ebay,\n")
    result = runner.invoke(args=["import-stores", str(good)])
    assert result.exit_code == 0, result.output
    assert "2 added" in result.output
    result = runner.invoke(args=["import-stores", str(good)])
    assert result.exit_code == 0 and "0 added" in result.output and "2 unchanged" in result.output
    assert mon.db.session.scalar(sa.select(sa.func.count()).select_from(mon.OnlineStore)) == 2
    blades = mon.db.session.scalar(sa.select(mon.OnlineStore).where(mon.OnlineStore.domain == "blades-online.example"))
    assert mon.monitor_for(blades.id).start_url_list == ["https://blades-online.example/knives",
                                                         "https://blades-online.example/delivery"]


def test_scrape_run_json_prints_each_store(app, runner, site, store, fast):
    result = runner.invoke(args=["scrape", "run", "--store-id", str(store.id), "--json"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert set(report) == {"store_id", "url", "age_check", "bladed_listings", "prohibited", "listings"}
    assert report["store_id"] == store.id and report["url"] == store.base_url
    assert report["age_check"] == "none" and report["bladed_listings"] == 4 and report["prohibited"] == []
    assert all(set(item) == {"url", "bladed", "age_check", "status", "error"} for item in report["listings"])
    chef = next(item for item in report["listings"] if item["url"].endswith("/product/chef-knife"))
    assert chef == {"url": store.base_url + "product/chef-knife", "bladed": True, "age_check": "weak",
                    "status": 200, "error": None}
    assert "Checked 1 store(s)" in result.output


def _target(business, url, age_check, risky, prohibited=(), conditions=("A",)):
    store = create_store(business, url=url)
    monitor = mon.ensure_monitor(store)
    for i in range(max(risky, 1)):
        mon.db.session.add(Listing(online_store_id=store.id, url=f"{url}p/{i}", kind=ListingKind.PRODUCT,
                                   title=f"Knife {i}", bladed=True, age_check=age_check,
                                   prohibited=list(prohibited) if i == 0 else [], cues=[],
                                   conditions=list(conditions) if age_check == "strong" else []))
    mon.db.session.flush()
    verdict = targets.store_verdict(store.id)
    monitor.check_at_sale, monitor.verdict_reason = verdict["check_at_sale"], verdict["reason"]
    monitor.age_check, monitor.bladed_listings = verdict["age_check"], verdict["bladed_listings"]
    monitor.risky_listings, monitor.prohibited = verdict["risky_listings"], verdict["prohibited"]
    monitor.prohibited_count, monitor.last_run_at = verdict["prohibited_count"], utcnow()
    mon.db.session.commit()
    return store


def test_targets_are_ranked_and_exported(app, client, users):
    b = {name: create_business(legal_name=f"{name} Ltd", trading_name=name, shop=name == "Signed", postcode="E8 2AA")
         for name in ("One", "Weak", "Many", "Signed", "Strong", "Banned")}
    sign_rra(b["Signed"])
    one = _target(b["One"], "https://one.example/", "none", 1)
    weak = _target(b["Weak"], "https://weak.example/", "weak", 3)
    many = _target(b["Many"], "https://many.example/", "none", 3)
    signed = _target(b["Signed"], "https://signed.example/", "none", 3)
    _target(b["Strong"], "https://strong.example/", "strong", 3)
    banned = _target(b["Banned"], "https://banned.example/", "strong", 1, prohibited=["zombie knife"])
    login_as(client, users[Role.OFFICER])
    html = client.get("/monitor/targets").get_data(as_text=True)
    order = [html.index(s.display_name) for s in (many, signed, one, weak, banned)]
    assert order == sorted(order), "none before weak, more listings first, non-signatories first"
    assert "strong.example" not in html
    if "purchases.new_online" in app.view_functions:  # the online test purchase form, pre-filled from the listing
        assert (f"/purchases/new-online?store={many.id}&amp;online_store_id={many.id}"
                f"&amp;listing_url=https://many.example/p/0") in html
    else:
        assert "Plan test purchase" not in html
    rows = list(csv.DictReader(io.StringIO(client.get("/monitor/targets.csv").get_data(as_text=True))))
    assert [r["store_id"] for r in rows] == [str(s.id) for s in (many, signed, one, weak, banned)]
    assert rows[1]["rra_signatory"] == "yes" and rows[0]["rra_signatory"] == "no"
    assert rows[4]["prohibited"] == "zombie knife" and rows[0]["example_listing"].startswith("https://many.example/")


def test_a_strong_check_only_at_delivery_is_a_target_after_no_or_weak_checks(app, client, users):
    """Issue 13 part 3 / brief 1.2 (s.141B): the verdict names condition A (a check at sale) and C (delivery into an
    adult's hands); a store whose only real check is at delivery has no check at sale, so it is a target, ranked
    after stores with no or a weak check; a check at sale (alone or with delivery) is not a target."""
    b = {name: create_business(legal_name=f"{name} Ltd", trading_name=name, shop=False)
         for name in ("Weak", "Delivery", "AtSale", "Both")}
    weak = _target(b["Weak"], "https://weak.example/", "weak", 1)
    delivery = _target(b["Delivery"], "https://delivery.example/", "strong", 4, conditions=["C"])
    _target(b["AtSale"], "https://atsale.example/", "strong", 2, conditions=["A"])
    _target(b["Both"], "https://both.example/", "strong", 2, conditions=["A", "C"])
    monitor = mon.monitor_for(delivery.id)
    assert monitor.check_at_sale is False and "condition C" in monitor.verdict_reason
    assert mon.monitor_for(weak.id).check_at_sale is False
    login_as(client, users[Role.OFFICER])
    html = client.get("/monitor/targets").get_data(as_text=True)
    assert html.index("weak.example") < html.index("delivery.example")
    assert "Checked only at delivery (s.141B condition C)" in html
    assert "atsale.example" not in html and "both.example" not in html


def test_targets_rank_previous_online_failures(app, client, users):
    purchases = pytest.importorskip("retail.models.purchases")
    model = getattr(purchases, "TestPurchase", None)
    if model is None or not hasattr(model, "failed"):
        pytest.skip("the purchases area has no TestPurchase.failed yet")
    a = _target(create_business(legal_name="A Ltd", trading_name="Alpha", shop=False), "https://a.example/", "weak", 2)
    b = _target(create_business(legal_name="B Ltd", trading_name="Bravo", shop=False), "https://b.example/", "weak", 2)
    assert [r[1].id for r in mon.db.session.execute(targets.targets_query())] == [a.id, b.id]
    # Bravo failed an online test purchase before: it moves up. An in-store failure does not count.
    from datetime import date

    # Added as the app adds them (the ORM): the commit refreshes the targets' ranking with the scores.
    for store, channel in ((b, "online"), (a, "in-store")):
        mon.db.session.add(model(kind="underage", channel=channel, stage="concluded", business_id=store.business_id,
                                 online_store_id=store.id, purchase_date=date(2026, 1, 5), failed=True))
    mon.db.session.commit()
    rows = mon.db.session.execute(targets.targets_query()).all()
    assert [r[1].id for r in rows] == [b.id, a.id]
    assert rows[0].failures == 1 and rows[1].failures == 0
    login_as(client, users[Role.OFFICER])
    html = client.get("/monitor/targets").get_data(as_text=True)
    assert "1 failed online test purchase" in html
    assert html.index("Bravo") < html.index("Alpha")


def test_monitor_pages_are_for_staff_only(app, client, users, store):
    login_as(client, users[Role.RETAILER])
    assert client.get("/monitor/targets").status_code == 403
    assert client.get("/monitor/targets.csv").status_code == 403
    assert client.post(f"/stores/{store.id}/monitor/check").status_code == 403
    assert mon.monitor_for(store.id) is None


def test_listing_cap_limits_the_products_checked(app, site, store, fetcher):
    monitor = mon.ensure_monitor(store)
    monitor.listing_cap = 2
    mon.db.session.commit()
    mon.check_store(store.id, fetcher)
    products = mon.db.session.scalars(sa.select(Listing).where(Listing.online_store_id == store.id,
                                                               Listing.kind == ListingKind.PRODUCT)).all()
    assert len(products) == 2
    assert site.count("/product/.*") == 2


def test_fetch_settings_come_from_config_and_settings(app, monkeypatch):
    from retail.settings import save_settings

    save_settings({"contact_url": "https://council.example/monitor"})
    mon.db.session.commit()
    monkeypatch.setitem(app.config, "RETAIL_ALLOW_LOOPBACK_FETCH", False)
    monkeypatch.setitem(app.config, "RETAIL_FETCH_MIN_HOST_DELAY", 7.5)
    settings = mon.fetch_settings(app)
    assert "KnifeRetailComplianceTracker" in settings.user_agent
    assert "https://council.example/monitor" in settings.user_agent
    assert settings.allow_loopback is False and settings.min_host_delay == 7.5


def test_private_addresses_are_refused_unless_allowed(app, site, store, monkeypatch):
    monkeypatch.setitem(app.config, "RETAIL_ALLOW_LOOPBACK_FETCH", False)
    monkeypatch.setitem(app.config, "RETAIL_FETCH_MIN_HOST_DELAY", 0)
    fetcher = mon.make_fetcher(app, sleep=lambda s: None, max_retries=0)
    mon.check_store(store.id, fetcher)
    fetcher.close()
    assert site.count() == 0  # nothing was requested from 127.0.0.1
    home = _listing(store, "/")
    assert home.last_error and home.bladed is None


def test_the_targets_page_reads_its_ranked_rows_and_their_total_in_one_statement(app, client, users):
    """Issue 15: the ranking sorted on columns computed for every store (previous failures, RRA), and the page ran
    that query three times (db.paginate's rows and count, then the rows again). Now the ranking is kept on
    store_monitor: one statement reads the page's store ids and the total from its index, whatever the number of
    targets, then those stores' rows are loaded; page 2 continues the ranking."""
    from tests.querycount import counted_statements

    login_as(client, users[Role.OFFICER])
    stores = [_target(create_business(legal_name=f"Target {n} Ltd", trading_name=f"Target {n}", shop=False),
                      f"https://target{n}.example/", "none", 30 - n) for n in range(1)]
    client.get("/monitor/targets")
    with counted_statements() as one:
        html = client.get("/monitor/targets").get_data(as_text=True)
    assert "Target 0" in html
    stores += [_target(create_business(legal_name=f"Target {n} Ltd", trading_name=f"Target {n}", shop=False),
                       f"https://target{n}.example/", "none", 30 - n) for n in range(1, 30)]
    client.get("/monitor/targets")  # warm, as above: the signed-in user is read again after the commits
    with counted_statements() as thirty:
        html = client.get("/monitor/targets").get_data(as_text=True)
    assert len(thirty) == len(one), (len(one), len(thirty))
    ranking = [s for s in thirty if "OVER ()" in s]
    assert len(ranking) == 1 and "FROM store_monitor" in ranking[0]
    assert "test_purchase" not in ranking[0] and "rra_signature" not in ranking[0], "the ranking is stored, not counted"
    assert "#25" in html and "#26" not in html and "Target 24" in html and ">Target 25<" not in html
    second = client.get("/monitor/targets?page=2").get_data(as_text=True)
    assert "#26" in second and "#30" in second and "#31" not in second
    assert "Target 25" in second and "Target 29" in second and "Target 24<" not in second
    past_the_end = client.get("/monitor/targets?page=9")
    assert past_the_end.status_code == 200 and "#1<" not in past_the_end.get_data(as_text=True)


def test_the_targets_ranking_follows_an_rra_signed_later_and_the_nightly_rescore_repairs_it(app, client, users):
    """Issue 15: the ranking is kept on store_monitor (group, weight, failed online test purchases, RRA) so the
    page reads an index. It must still follow the records it ranks by: an RRA signed after the store became a target
    moves it below an equal non-signatory at once, and the nightly rescore rewrites a ranking that went stale."""
    from retail import scoring

    first = _target(create_business(legal_name="First Ltd", trading_name="First", shop=False),
                    "https://first.example/", "none", 2)
    second = _target(create_business(legal_name="Second Ltd", trading_name="Second", shop=False),
                     "https://second.example/", "none", 2)
    ranked = lambda: [store_id for (store_id,) in mon.db.session.execute(targets.ranked_store_ids_query())]  # noqa: E731
    assert ranked() == [first.id, second.id]
    sign_rra(mon.db.session.get(type(first), first.id).business)  # the first store's business signs: it moves down
    assert ranked() == [second.id, first.id]
    login_as(client, users[Role.OFFICER])
    html = client.get("/monitor/targets").get_data(as_text=True)
    assert html.index("second.example") < html.index("first.example")
    # Something wrote the ranking behind the app's back: the nightly full rescore puts it right.
    mon.db.session.execute(sa.update(StoreMonitor.__table__).values(target_group=None))
    mon.db.session.commit()
    assert ranked() == []
    scoring.rescore_all()
    assert ranked() == [second.id, first.id]
    # A refresh with nothing changed writes no row (nightly, 20,000 rewritten rows cost 0.7 s on PostgreSQL).
    assert targets.refresh_ranking() == 0
    mon.db.session.execute(sa.update(StoreMonitor.__table__).where(StoreMonitor.online_store_id == first.id)
                           .values(online_failures=7))
    assert targets.refresh_ranking() == 1 and ranked() == [second.id, first.id]


def test_the_targets_csv_streams_in_rank_order_a_batch_at_a_time(app, client, users):
    """Issue 15 part 2: the targets download streams, and reads the stores a batch at a time (ranked ids first, then
    the rows of each batch), so its memory and its statements do not grow with every target."""
    from tests.querycount import counted_statements

    stores = [_target(create_business(legal_name=f"Csv {n} Ltd", trading_name=f"Csv {n}", shop=False),
                      f"https://csv{n}.example/", "none", 10 - n) for n in range(7)]
    login_as(client, users[Role.OFFICER])
    response = client.get("/monitor/targets.csv")
    assert "Content-Length" not in response.headers  # streamed: sent as it is written, its length unknown up front
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["store_id"] for r in rows] == [str(s.id) for s in stores]
    assert [r["rank"] for r in rows] == [str(n) for n in range(1, 8)]
    with app.test_request_context(), counted_statements() as small_batches:
        assert len(list(targets.target_csv_rows(batch=2))) == 8  # the heading and 7 stores
    with app.test_request_context(), counted_statements() as one_batch:
        list(targets.target_csv_rows(batch=10))
    assert len(small_batches) > len(one_batch)  # one ids query, then a fixed few per batch


def test_each_checked_page_costs_a_handful_of_statements(app, site, store, fetcher, monkeypatch):
    """Issue 15 (crawl at 2x changedetection.io): on PostgreSQL the crawl is bound by what each page costs in
    statements, not by the fetch. A page is saved as: the listing (read, or made), its evidence, the check, and one
    update of the listing; the store's conditional-request validators are read once per check, not once a page.
    It was ten statements a page, with three updates of the same listing row."""
    from tests.querycount import counted_statements

    site.set("/product/santoku", product_page("Santoku Knife", STRONG), etag=True)
    pages: list[tuple[str, list[str]]] = []
    original = mon.StoreChecker._fetch_listing

    def counted(self, url, kind, **kwargs):
        with counted_statements() as statements:
            outcome = original(self, url, kind, **kwargs)
        if kind == ListingKind.PRODUCT:
            pages.append((url.rsplit("/", 1)[1], list(statements)))
        return outcome

    monkeypatch.setattr(mon.StoreChecker, "_fetch_listing", counted)
    mon.check_store(store.id, fetcher)
    first = dict(pages)
    pages.clear()
    mon.check_store(store.id, fetcher)
    second = dict(pages)
    assert {"chef-knife", "santoku", "cleaver"} <= set(first) and set(first) == set(second)
    # New listings: read, made, evidence kept, check written, listing updated once (a page robots.txt keeps us from
    # has no evidence: four).
    fetched = ("chef-knife", "paring-knife", "santoku", "cleaver")
    assert [len(first[name]) for name in fetched] == [5, 5, 5, 5] and len(first["hidden-knife"]) == 4, first
    # Seen again (a 304 for the santoku, the same page for the others): the evidence's fetch time moves.
    assert all(len(s) <= 6 for s in second.values()), second
    for statements in (*first.values(), *second.values()):
        assert sum(s.lstrip().upper().startswith("UPDATE LISTING ") for s in statements) == 1
    # The validators are still used: the santoku's ETag made its second fetch a 304.
    assert _listing(store, "/product/santoku").last_status == 304
