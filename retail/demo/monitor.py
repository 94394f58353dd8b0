"""Demo data for the listing monitor.

Small scale: every seeded online store points at the demo shop site (`flask --app wsgi demo-shop`, port 5050), is
due now so the scheduler crawls it within a minute of `make run`, and has some check history from two days ago
(classified from the same demo pages) so the pages are not empty before the first crawl. Shop 2's history says its
listings used to promise a strong check, so the first crawl raises an "age check got worse" alert; shop 3's zombie
knife raises a "prohibited item found" alert. Shop 15 builds its pages with JavaScript and is marked as needing a
browser, so its products appear only when the monitor reads it with headless Chromium.

London and UK scales: monitor rows and synthetic listings, checks and verdicts for every store, bulk inserted (no
fetching), with next checks spread over the coming day.
"""
import os
from datetime import timedelta

import click

from ..extensions import db
from ..models.listings import (AlertKind, Listing, ListingCheck, MonitorAlert, MonitorRun, StoreMonitor,
                               compress_text)
from ..scrapers.classify import classify
from ..scrapers.demo_shop import SITE
from ..timeutil import utcnow
from . import DemoContext, bulk_insert, generator, next_id

DEMO_BASE = "http://127.0.0.1:5050"
JS_SHOP = 15


def _demo_pages(shop: int) -> list[tuple[str, str, str]]:
    """(url, kind, html) for the pages of one demo shop, as the crawler will find them."""
    folder = os.path.join(SITE, "shops", f"shop{shop}")
    if not os.path.isdir(folder):
        return []
    base = f"{DEMO_BASE}/shops/shop{shop}/"
    pages = [(base, "category", "index.html"), (base + "delivery.html", "policy", "delivery.html"),
             (base + "terms.html", "policy", "terms.html")]
    products = os.path.join(folder, "products")
    for name in sorted(os.listdir(products)) if os.path.isdir(products) else []:
        pages.append((base + "products/" + name, "product", os.path.join("products", name)))
    result = []
    for url, kind, rel in pages:
        with open(os.path.join(folder, rel), encoding="utf-8") as handle:
            result.append((url, kind, handle.read()))
    return result


def _store_verdict_rows(listings: list[dict]) -> dict:
    rank = {"none": 0, "weak": 1, "strong": 2}
    policy = max((item for item in listings if item["kind"] == "policy" and item["age_check"] != "none"),
                 key=lambda item: rank[item["age_check"]], default=None)
    bladed = [item for item in listings if item["kind"] == "product" and item["bladed"]]
    if not bladed:
        return {"age_check": None, "bladed_listings": 0, "risky_listings": 0, "verdict_listing_id": None,
                "verdict_policy_id": policy["id"] if policy else None}
    floor = rank[policy["age_check"]] if policy else 0
    effective = {item["id"]: max(rank[item["age_check"]], floor) for item in bladed}
    weakest = min(bladed, key=lambda item: (effective[item["id"]], item["id"]))
    level = {v: k for k, v in rank.items()}[effective[weakest["id"]]]
    return {"age_check": level, "bladed_listings": len(bladed),
            "risky_listings": sum(1 for v in effective.values() if v < 2), "verdict_listing_id": weakest["id"],
            "verdict_policy_id": policy["id"] if policy else None}


def _small(ctx: DemoContext, now) -> None:
    listing_id, check_id, run_id = next_id(Listing.__table__), next_id(ListingCheck.__table__), \
        next_id(MonitorRun.__table__)
    monitors, listings, checks, runs, alerts = [], [], [], [], []
    before = now - timedelta(days=2, hours=3)
    for n, store_id in enumerate(ctx.store_ids, start=1):
        history = n in (1, 2, 4, 6, 7, 10)  # some stores already have a check from two days ago
        store_listings = []
        if history:
            for url, kind, page in _demo_pages(n):
                verdict = classify(page, url).to_dict()
                if n == 2 and kind == "product":
                    # Two days ago shop 2 still promised an age-verified checkout; it has since dropped it.
                    verdict["age_check"] = "strong"
                    verdict["cues"] = [{"phrase": "age verified at checkout", "kind": "strong",
                                        "context": "Your age is verified at checkout by an age verification service"}]
                row = dict(id=listing_id, online_store_id=store_id, url=url, kind=kind, title="",
                           first_seen_at=before, last_seen_at=before, added_by_hand=False, added_by="",
                           bladed=verdict["bladed"], age_check=verdict["age_check"], prohibited=verdict["prohibited"],
                           cues=verdict["cues"], rules_version=verdict["rules_version"], verdict_at=before,
                           last_good_check_id=check_id, last_checked_at=before, last_status=200, last_error="",
                           etag=None, last_modified=None, content_hash=None)
                listings.append(row)
                store_listings.append(row)
                checks.append(dict(id=check_id, listing_id=listing_id, online_store_id=store_id, checked_at=before,
                                   final_url=url, http_status=200, not_modified=False, changed=True,
                                   content_hash=None, etag=None, last_modified=None, bladed=verdict["bladed"],
                                   age_check=verdict["age_check"], prohibited=verdict["prohibited"],
                                   cues=verdict["cues"], rules_version=verdict["rules_version"], error="",
                                   page_text=compress_text(page)))
                listing_id += 1
                check_id += 1
        verdict = _store_verdict_rows(store_listings) if history else {}
        if history:
            runs.append(dict(id=run_id, online_store_id=store_id, trigger="schedule", worker="demo",
                             started_at=before, finished_at=before + timedelta(seconds=40),
                             pages=len(store_listings), changed=len(store_listings), errors=0,
                             age_check=verdict["age_check"], bladed_listings=verdict["bladed_listings"], prohibited=[],
                             summary=f"{len(store_listings)} pages checked (demo history)"))
            run_id += 1
        monitors.append(dict(
            online_store_id=store_id, start_urls=f"{DEMO_BASE}/shops/shop{n}/", interval_hours=24, listing_cap=40,
            # Shop 15 builds its pages with JavaScript: read with headless Chromium (issue 13 part 6).
            needs_browser=n == JS_SHOP,
            # Due now, shops 2 and 3 first (their first crawl raises the demo's alerts), then in order.
            enabled=True, next_due_at=now - timedelta(minutes=60 if n in (2, 3) else 30 - n),
            check_requested_at=None, check_requested_by="",
            lease_owner=None, lease_expires_at=None, run_started_at=None, progress_done=0, progress_total=0,
            last_run_at=before if history else None,
            last_result={"summary": "demo history", "pages": len(store_listings)} if history else {},
            age_check=verdict.get("age_check"), bladed_listings=verdict.get("bladed_listings", 0),
            risky_listings=verdict.get("risky_listings", 0), prohibited=[], prohibited_count=0,
            verdict_listing_id=verdict.get("verdict_listing_id"), verdict_policy_id=verdict.get("verdict_policy_id"),
            verdict_reason="From the check two days ago (demo history)." if history else "",
            verdict_at=before if history else None, created_at=now, updated_at=now, version=1))
        if n == 7 and history:
            alerts.append(dict(online_store_id=store_id, listing_id=None, kind=AlertKind.AGE_CHECK_WORSE.value,
                               before="strong", after="none", raised_at=before,
                               detail="A bread knife listing has no age wording (demo history).",
                               acknowledged_by_id=ctx.users.get("hackney:officer"),
                               acknowledged_at=before + timedelta(hours=5)))
    click.echo(f"Monitor: {len(monitors)} stores on the demo shop site, {len(listings)} listings with history")
    bulk_insert(StoreMonitor.__table__, monitors)
    bulk_insert(Listing.__table__, listings)
    bulk_insert(ListingCheck.__table__, checks)
    bulk_insert(MonitorRun.__table__, runs)
    bulk_insert(MonitorAlert.__table__, alerts)


PRODUCT_WORDS = ["chef-knife", "paring-knife", "lock-knife", "pocket-knife", "multi-tool", "bread-knife", "cleaver",
                 "axe", "craft-knife", "santoku", "kettle", "chopping-board"]
CUES = {
    "strong": [{"phrase": "Yoti", "kind": "strong", "context": "we use Yoti to verify your age at checkout"},
               {"phrase": "photo ID will be required on delivery", "kind": "strong",
                "context": "photo ID will be required on delivery and the parcel is not left in a safe place"}],
    "weak": [{"phrase": "you confirm that you are 18", "kind": "weak",
              "context": "By placing an order you confirm that you are 18 years of age or over"}],
    "none": [],
}


def _synthetic(ctx: DemoContext, now) -> None:
    rng = ctx.rng
    listing_id, check_id = next_id(Listing.__table__), next_id(ListingCheck.__table__)
    monitors, listings, checks, alerts = [], [], [], []
    with ctx.progress(ctx.store_ids, label="Monitor history") as bar:
        for store_id in bar:
            roll = rng.random()
            level = "strong" if roll < 0.55 else "weak" if roll < 0.8 else "none"
            checked = now - timedelta(hours=rng.randint(1, 47))
            n_listings = rng.randint(2, 5)
            store_rows = []
            prohibited_store = rng.random() < 0.01
            for i in range(n_listings):
                word = rng.choice(PRODUCT_WORDS)
                bladed = word not in ("kettle", "chopping-board")
                own = level if rng.random() < 0.8 else rng.choice(["strong", "weak", "none"])
                prohibited = ["zombie knife"] if prohibited_store and i == 0 else []
                row = dict(id=listing_id, online_store_id=store_id, url=f"/p/{word}-{i + 1}", kind="product",
                           title=word.replace("-", " ").title(), first_seen_at=checked - timedelta(days=30),
                           last_seen_at=checked, added_by_hand=False, added_by="", bladed=bladed,
                           age_check=own if bladed else "none", prohibited=prohibited, cues=CUES[own] if bladed else [],
                           rules_version="synthetic", verdict_at=checked, last_good_check_id=check_id,
                           last_checked_at=checked, last_status=200, last_error="", etag=None, last_modified=None,
                           content_hash=None)
                store_rows.append(row)
                checks.append(dict(id=check_id, listing_id=listing_id, online_store_id=store_id, checked_at=checked,
                                   final_url="", http_status=200, not_modified=False, changed=True, content_hash=None,
                                   etag=None, last_modified=None, bladed=bladed, age_check=row["age_check"],
                                   prohibited=prohibited, cues=row["cues"], rules_version="synthetic", error="",
                                   page_text=None))
                listing_id += 1
                check_id += 1
            listings.extend(store_rows)
            verdict = _store_verdict_rows(store_rows)
            prohibited = sorted({p for r in store_rows for p in r["prohibited"]})
            monitors.append(dict(
                online_store_id=store_id, start_urls="", interval_hours=24, listing_cap=40, enabled=True,
                next_due_at=now + timedelta(seconds=rng.randint(600, 86400)), check_requested_at=None,
                check_requested_by="", lease_owner=None, lease_expires_at=None, run_started_at=None, progress_done=0,
                progress_total=0, last_run_at=checked, last_result={"summary": "synthetic demo data"},
                age_check=verdict["age_check"], bladed_listings=verdict["bladed_listings"],
                risky_listings=verdict["risky_listings"], prohibited=prohibited,
                prohibited_count=1 if prohibited else 0, verdict_listing_id=verdict["verdict_listing_id"],
                verdict_policy_id=None, verdict_reason="Synthetic demo verdict.", verdict_at=checked,
                created_at=now, updated_at=now, version=1))
            if prohibited:
                alerts.append(dict(online_store_id=store_id, listing_id=store_rows[0]["id"],
                                   kind=AlertKind.PROHIBITED_FOUND.value, before="", after="zombie knife",
                                   detail="zombie knife offered (synthetic)", raised_at=checked,
                                   acknowledged_by_id=None, acknowledged_at=None))
    # Listing URLs are made absolute once the stores' base URLs are known.
    from ..models.register import OnlineStore
    import sqlalchemy as sa

    bases = dict(db.session.execute(sa.select(OnlineStore.id, OnlineStore.base_url).where(
        OnlineStore.id.in_(ctx.store_ids))).all()) if len(ctx.store_ids) < 30000 else {}
    for row in listings:
        base = bases.get(row["online_store_id"], "https://store.example/").rstrip("/")
        row["url"] = base + row["url"]
    for row in monitors:
        row["start_urls"] = bases.get(row["online_store_id"], "")
    click.echo(f"Monitor: {len(monitors)} stores, {len(listings)} synthetic listings")
    bulk_insert(StoreMonitor.__table__, monitors)
    bulk_insert(Listing.__table__, listings)
    bulk_insert(ListingCheck.__table__, checks)
    bulk_insert(MonitorAlert.__table__, alerts)


@generator
def generate_monitor(ctx: DemoContext) -> None:
    now = utcnow()
    if ctx.scale == "small":
        _small(ctx, now)
    else:
        _synthetic(ctx, now)
