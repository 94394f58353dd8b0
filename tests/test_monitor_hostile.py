"""The listing monitor against hostile shop servers on 127.0.0.1 (issue 14): every fetch ends within its deadline,
a store check within its own, a page that cannot be read keeps the listing's last good verdict, and
`scrape run --json` prints each store's line as soon as that store is done. Never the internet."""
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from retail.extensions import db
from retail.models.listings import Listing, ListingCheck, MonitorRun
from retail.scrapers import monitor as mon
from retail.scrapers import scheduler as sched
from retail.timeutil import utcnow
from tests.factories import create_business, create_store
from tests.monitor_site import PLAIN_DELIVERY, STRONG, Site, home_page, product_page

ROOT = Path(__file__).resolve().parents[1]
FETCH_DEADLINE = 1.0
SLACK = 2.0  # timers on a loaded CI machine; still far from the minutes (or for ever) a hostile server would take


@pytest.fixture
def short_deadlines(app, monkeypatch):
    monkeypatch.setitem(app.config, "RETAIL_FETCH_MIN_HOST_DELAY", 0)
    monkeypatch.setitem(app.config, "RETAIL_ALLOW_LOOPBACK_FETCH", True)
    monkeypatch.setitem(app.config, "RETAIL_FETCH_DEADLINE", FETCH_DEADLINE)


@pytest.fixture
def fetcher(app, short_deadlines):
    f = mon.make_fetcher(app, sleep=lambda s: None, max_retries=1)
    yield f
    f.close()


def _shop(products: dict[str, str]) -> Site:
    site = Site()
    site.set("/robots.txt", "User-agent: *\nAllow: /\n", ctype="text/plain")
    site.set("/", home_page(list(products)))
    site.set("/delivery", PLAIN_DELIVERY)
    for path, name in products.items():
        site.set(path, product_page(name, STRONG))
    return site


def _store(site: Site):
    business = create_business(legal_name="Hostile Knives Ltd", trading_name="Hostile Knives",
                               business_type="online-only", shop=False)
    return create_store(business, url=site.base)


def _listing(store, path):
    return db.session.scalar(sa.select(Listing).where(Listing.online_store_id == store.id,
                                                      Listing.url == store.base_url.rstrip("/") + path))


@pytest.mark.parametrize("mode", ["drip", "drip-headers", "stall", "silent", "endless", "binary", "mis-declared",
                                  "utf16-as-latin1"])
def test_a_hostile_page_is_a_failed_fetch_and_the_last_good_verdict_stays(app, fetcher, mode):
    site = _shop({"/product/chef-knife": "Chef Knife"})
    try:
        store = _store(site)
        first = mon.check_store(store.id, fetcher)
        assert first.age_check == "strong" and first.errors == 0
        good_check_id = _listing(store, "/product/chef-knife").last_good_check_id

        site.hostile("/product/chef-knife", mode)
        started = time.monotonic()
        second = mon.check_store(store.id, fetcher)
        took = time.monotonic() - started

        # Only the hostile page can be slow, and it is cut off at the fetch deadline.
        assert took < FETCH_DEADLINE + SLACK, f"{mode}: the check took {took:.1f} s"
        assert site.hits["/product/chef-knife"] == 2  # once per check: a hostile answer is not retried
        assert second.errors == 1 and second.age_check == "strong"
        db.session.expire_all()
        chef = _listing(store, "/product/chef-knife")
        assert chef.age_check == "strong" and chef.bladed is True
        assert chef.last_good_check_id == good_check_id
        expected = "not a readable page" if mode in ("binary", "mis-declared", "utf16-as-latin1") else "time limit"
        assert expected in chef.last_error
        latest = db.session.scalar(sa.select(ListingCheck).where(ListingCheck.listing_id == chef.id)
                                   .order_by(ListingCheck.id.desc()).limit(1))
        assert expected in latest.error and latest.age_check is None
        assert mon.monitor_for(store.id).age_check == "strong"
    finally:
        site.close()


def test_a_store_check_stops_at_its_time_limit_and_keeps_what_it_has(app, short_deadlines, monkeypatch):
    """Each page drips within its own deadline, but four of them would outlast the store's: the check stops at
    the store deadline, records the verdict from what it has, and hands the store back."""
    products = {f"/product/knife-{i}": f"Knife {i}" for i in range(4)}
    site = _shop(products)
    try:
        store = _store(site)
        mon.ensure_monitor(store).next_due_at = utcnow()
        db.session.commit()
        with mon.make_fetcher(app, sleep=lambda s: None) as fetcher:
            assert mon.check_store(store.id, fetcher).age_check == "strong"
        for path in products:
            site.hostile(path, "drip")
        monkeypatch.setitem(app.config, "RETAIL_STORE_DEADLINE", 2.5)
        assert sched.claim_due("a", 1) == [store.id]
        with mon.make_fetcher(app, sleep=lambda s: None) as fetcher:
            started = time.monotonic()
            assert sched.run_claimed(store.id, "a", fetcher)
            took = time.monotonic() - started
        assert took < 2.5 + SLACK
        assert site.count("/product/.*") - len(products) < len(products)  # not every page was reached
        db.session.expire_all()
        run = db.session.scalars(sa.select(MonitorRun).order_by(MonitorRun.id.desc())).first()
        assert run.finished_at is not None and "time limit" in run.summary
        monitor = mon.monitor_for(store.id)
        assert monitor.lease_owner is None and monitor.age_check == "strong"
        assert all(_listing(store, path).age_check == "strong" for path in products)
    finally:
        site.close()


def _lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


@pytest.mark.slow
def test_scrape_run_json_prints_each_store_as_it_finishes(app, short_deadlines):
    """One store's answer is held back; the other store's JSON line is already out while it waits."""
    quick, held = _shop({"/product/chef-knife": "Chef Knife"}), _shop({"/product/santoku": "Santoku"})
    try:
        quick_store, held_store = _store(quick), _store(held)
        held.hostile("/", "gate")
        env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"], "RETAIL_ENV": "development",
               "RETAIL_ALLOW_LOOPBACK_FETCH": "1", "RETAIL_FETCH_MIN_HOST_DELAY": "0", "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "scrape", "run", "--json", "--workers", "2",
             "--store-id", str(quick_store.id), "--store-id", str(held_store.id)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
        try:
            first = lines.get(timeout=60)
            assert first is not None, proc.stderr.read()[-3000:]
            assert json.loads(first)["store_id"] == quick_store.id
            assert json.loads(first)["age_check"] == "strong"
            assert not held.gate.is_set()  # the held store has not finished: its line cannot have come yet
            held.gate.set()
            second = lines.get(timeout=60)
            assert second is not None and json.loads(second)["store_id"] == held_store.id
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        quick.close()
        held.close()
