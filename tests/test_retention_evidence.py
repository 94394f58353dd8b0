"""Retention of the listing monitor's evidence (the pages as fetched and their screenshots): one London-wide period,
set by London Trading Standards, after which a page is removed unless a monitored listing's verdict rests on it or
the store is held for enforcement.

Brief 2.4 (an online test purchase's evidence: the listing URL and screenshots), 5.2 (the ICO removes company
entries after 2 years; naming too early prejudices proceedings) and 5.3 (the evidence pack; no loss of evidence
while a decision is pending; the naming window looks back 12-24 months).
"""
import gzip
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from retail import purchases as P
from retail import retention
from retail.access import Role
from retail.extensions import db as _db
from retail.models.compliance import CaseStatus, NamingCase
from retail.models.listings import Listing, ListingCheck, ListingEvidence, ListingKind, StoreMonitor
from retail.models.purchases import ActionStatus, ActionType, FollowUpAction
from retail.models.settings import Setting
from retail.timeutil import LONDON, add_months, utcnow
from tests.conftest import csrf_token_from, login_as, make_user
from tests.factories import SAFEGUARDS, create_business, create_store
from tests.test_purchases import TODAY, give_consent, make_operation, make_volunteer

EVIDENCE = retention.EVIDENCE_REPORT_KEY


def _at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A London wall-clock time on `day` (what the period is counted in), as an aware datetime."""
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


LONG_AGO = _at(add_months(TODAY, -30))  # past the default 24 months on TODAY


def _store(name: str, enabled: bool | None = True):
    """An online-only business's store; `enabled` None: the monitor was never set up for it."""
    business = create_business(legal_name=f"{name} Ltd", trading_name=name, business_type="online-only", shop=False)
    store = create_store(business, url=f"https://{name.lower().replace(' ', '')}.example/")
    if enabled is not None:
        _db.session.add(StoreMonitor(online_store_id=store.id, enabled=enabled))
        _db.session.commit()
    return store


def _listing(store, path: str, age_check: str = "none") -> Listing:
    listing = Listing(online_store_id=store.id, url=store.base_url + path, kind=ListingKind.PRODUCT,
                      title=path.rsplit("/", 1)[-1].replace("-", " ").title(), bladed=True, age_check=age_check,
                      first_seen_at=LONG_AGO - timedelta(days=60), last_seen_at=LONG_AGO)
    _db.session.add(listing)
    _db.session.flush()
    return listing


@dataclass(frozen=True)
class Kept:
    """What a test remembers of a page (the ORM row is gone from the session once the job removes it)."""
    id: int
    sha256: str
    last_fetched_at: datetime


def _page(listing: Listing, text: str, last_fetched: datetime, *, current: bool = False,
          screenshot: bool = False) -> Kept:
    """A page of the listing as the monitor kept it (scrapers/evidence.keep_page's row); `current`: the listing's
    verdict rests on it (its content hash is the page's)."""
    body = f"<html><body><h1>{text}</h1></body></html>".encode()
    sha = hashlib.sha256(body).hexdigest()
    row = ListingEvidence(listing_id=listing.id, online_store_id=listing.online_store_id, sha256=sha, size=len(body),
                          html_gz=gzip.compress(body, mtime=0), final_url=listing.url, http_status=200,
                          content_type="text/html", first_fetched_at=last_fetched - timedelta(days=30),
                          last_fetched_at=last_fetched, screenshot_error="")
    if screenshot:
        png = b"\x89PNG fake " + sha.encode()
        row.screenshot_png, row.screenshot_sha256, row.screenshot_at = png, hashlib.sha256(png).hexdigest(), \
            last_fetched
    _db.session.add(row)
    _db.session.flush()
    if current:
        listing.content_hash = sha
        listing.last_checked_at = listing.verdict_at = last_fetched
    return Kept(row.id, sha, last_fetched)


def _check(listing: Listing, page: Kept, age_check: str) -> ListingCheck:
    check = ListingCheck(listing_id=listing.id, online_store_id=listing.online_store_id,
                         checked_at=page.last_fetched_at, http_status=200, content_hash=page.sha256, bladed=True,
                         age_check=age_check, evidence_id=page.id)
    _db.session.add(check)
    _db.session.flush()
    return check


def _pages_of(store) -> set[int]:
    _db.session.expire_all()
    return set(_db.session.scalars(sa.select(ListingEvidence.id).where(ListingEvidence.online_store_id == store.id)))


def _stale_store(name: str, enabled: bool | None = False):
    """A store with one listing whose only (and current) page, with a screenshot, was last fetched long ago."""
    store = _store(name, enabled=enabled)
    listing = _listing(store, "product/zombie-knife")
    page = _page(listing, f"{name}: zombie knife", LONG_AGO, current=True, screenshot=True)
    _db.session.commit()
    return store, listing, page


def _apply(as_of: date = TODAY, dry_run: bool = False) -> dict:
    run = retention.apply_retention(as_of, dry_run=dry_run)
    _db.session.commit()
    return run.report[EVIDENCE]


# --- what goes, what stays -------------------------------------------------------------------------------------------

def test_old_superseded_pages_go_but_the_page_a_monitored_verdict_rests_on_stays(app, db):
    """brief 2.4 / 5.2: old pages a verdict no longer rests on are removed after the period (24 months by default);
    the page a monitored listing's current verdict rests on is kept however old, newer pages are kept, and a check
    that pointed at a removed page keeps its verdict with no page."""
    store = _store("Edge Direct")
    # A listing that has gone from the store: its verdict rests on a page last fetched 30 months ago.
    gone = _listing(store, "product/old-cleaver")
    gone_superseded = _page(gone, "Cleaver v1", LONG_AGO - timedelta(days=90), screenshot=True)
    gone_current = _page(gone, "Cleaver v2", LONG_AGO, current=True)
    # A live listing: an old page the verdict moved on from, and this week's page.
    live = _listing(store, "product/chef-knife", age_check="strong")
    live_superseded = _page(live, "Chef knife, tick box only", LONG_AGO)
    old_check = _check(live, live_superseded, "weak")
    live_current = _page(live, "Chef knife, Yoti at checkout", utcnow() - timedelta(days=3), current=True)
    new_check = _check(live, live_current, "strong")
    # A listing whose verdict rests on a page fetched before the monitor kept pages (no row has its hash): its
    # newest kept page is the one to keep.
    unhashed = _listing(store, "product/santoku")
    unhashed.content_hash = hashlib.sha256(b"a page fetched before evidence was kept").hexdigest()
    unhashed_older = _page(unhashed, "Santoku v1", LONG_AGO - timedelta(days=40))
    unhashed_newest = _page(unhashed, "Santoku v2", LONG_AGO)
    db.session.commit()

    report = _apply()
    assert report["months"] == 24
    assert report["evidence_pages_removed"] == 3 and report["evidence_screenshots_removed"] == 1
    assert report["evidence_held_for_enforcement"] == 0
    assert report["removed_before"] == retention.period_start(TODAY, 24).isoformat()
    assert _pages_of(store) == {gone_current.id, live_current.id, unhashed_newest.id}
    assert not {gone_superseded.id, live_superseded.id, unhashed_older.id} & _pages_of(store)

    old_check = db.session.get(ListingCheck, old_check.id)
    assert old_check is not None and old_check.evidence_id is None  # the link goes with the page...
    assert old_check.age_check == "weak" and old_check.content_hash == live_superseded.sha256  # ...the verdict stays
    assert db.session.get(ListingCheck, new_check.id).evidence_id == live_current.id
    listing = db.session.get(Listing, live.id)
    assert listing.age_check == "strong" and listing.content_hash == live_current.sha256
    # The evidence sheet still shows the page behind the live verdict.
    from retail.scrapers.evidence import current_evidence

    assert current_evidence([gone.id, live.id]).keys() == {gone.id, live.id}
    # Run again: nothing more to remove.
    assert _apply()["evidence_pages_removed"] == 0


def test_the_period_is_counted_in_london_days_like_every_other_period(app, db):
    """brief 5.2: a page last fetched on the day the period ran out goes; one fetched the next London day stays,
    even when that was still the day before in UTC (00:30 BST)."""
    as_of = date(2031, 7, 15)
    store = _store("Boundary Blades", enabled=False)
    listing = _listing(store, "product/machete")
    last_day = _page(listing, "fetched 15 Jul 2029, 23:30 London", _at(date(2029, 7, 15), 23, 30))
    next_day = _page(listing, "fetched 16 Jul 2029, 00:30 London", _at(date(2029, 7, 16), 0, 30))
    db.session.commit()
    assert next_day.last_fetched_at.astimezone(UTC).date() == date(2029, 7, 15)

    report = _apply(as_of)
    assert report["removed_before"] == "2029-07-16"
    assert _pages_of(store) == {next_day.id} and last_day.id not in _pages_of(store)


def test_a_store_no_longer_monitored_loses_its_old_pages_even_the_current_one(app, db):
    """brief 5.2: once the monitor stops checking a store, no verdict rests on its pages any more: the old ones are
    removed, the current page included; its recent pages stay until their own period runs out."""
    store, listing, current = _stale_store("Former Knives", enabled=False)
    recent = _page(_listing(store, "product/bowie"), "Bowie knife", utcnow() - timedelta(days=10), current=True)
    never_monitored, _listing_2, its_page = _stale_store("Never Watched", enabled=None)
    watched, _listing_3, kept = _stale_store("Still Watched", enabled=True)
    db.session.commit()

    report = _apply()
    assert report["evidence_pages_removed"] == 2 and report["evidence_screenshots_removed"] == 2
    assert _pages_of(store) == {recent.id}
    assert _pages_of(never_monitored) == set()
    assert _pages_of(watched) == {kept.id}  # the same page of a store still checked stays
    # The listing and its verdict stay; only the copy of the page is gone.
    listing = db.session.get(Listing, listing.id)
    assert listing is not None and listing.age_check == "none" and listing.content_hash == current.sha256


# --- held for enforcement (brief 5.3: no loss of evidence while enforcement may follow) ------------------------------

def _online_purchase(store, failed: bool = False):
    """An online test purchase of `store` (Hackney's), ordered two days ago; `failed`: concluded as a failure, which
    schedules a retest (a pending follow-up)."""
    op = make_operation()
    volunteer = make_volunteer()
    give_consent(op, volunteer)
    tp = P.create_online({**SAFEGUARDS, "kind": "underage", "operation_id": op.id, "online_store_id": store.id,
                          "listing_url": store.base_url + "product/zombie-knife",
                          "purchase_date": TODAY - timedelta(days=2), "volunteer_id": volunteer.id,
                          "item_category": "kitchen", "checkout_av_run": "no", "checkout_id_upload": "no",
                          "order_cancelled": "no"})
    _db.session.commit()
    if failed:
        P.record_dispatch(tp, {"dispatched_on": TODAY - timedelta(days=1), "parcel_marked": "no",
                               "age_verified_service": "yes"}, tp.version)
        P.record_delivery(tp, {"delivered_on": TODAY, "delivered_to": "not-delivered", "delivery_id_asked": "yes"},
                          tp.version)
        P.conclude_online(tp, tp.version)
        _db.session.commit()
        assert tp.failed
    return tp


def test_a_recent_online_test_purchase_holds_the_store_evidence(app, db):
    """brief 2.4 / 5.3: the pages an online test purchase rests on are kept while it is within the enforcement
    period (24 months), however old the pages; then they go like any other."""
    store, _listing_, page = _stale_store("Blade Direct")
    other, _other_listing, other_page = _stale_store("No Purchase Here")
    _online_purchase(store)

    report = _apply(TODAY)
    assert report["evidence_held_for_enforcement"] == 1 and report["evidence_pages_removed"] == 1
    assert _pages_of(store) == {page.id}
    assert _pages_of(other) == set()

    # 25 months on, the purchase is outside the enforcement period and nothing else holds the store.
    report = _apply(add_months(TODAY, 25))
    assert report["evidence_held_for_enforcement"] == 0 and report["evidence_pages_removed"] == 1
    assert _pages_of(store) == set()


def test_a_pending_follow_up_holds_the_store_evidence(app, db):
    """brief 5.3 ("no naming while a prosecution or caution decision is pending"; the evidence pack): a follow-up
    still pending keeps the store's pages after the purchase itself has left the enforcement period."""
    store, _listing_, page = _stale_store("Retest Pending")
    tp = _online_purchase(store, failed=True)
    retest = db.session.scalar(sa.select(FollowUpAction).where(FollowUpAction.test_purchase_id == tp.id,
                                                               FollowUpAction.action_type == ActionType.RETEST))
    assert retest.status == ActionStatus.PENDING

    later = add_months(TODAY, 25)
    report = _apply(later)
    assert report["evidence_held_for_enforcement"] == 1 and report["evidence_pages_removed"] == 0
    assert _pages_of(store) == {page.id}

    retest = db.session.get(FollowUpAction, retest.id)
    retest.status, retest.completed_on = ActionStatus.COMPLETED, TODAY
    db.session.commit()
    report = _apply(later)
    assert report["evidence_held_for_enforcement"] == 0 and report["evidence_pages_removed"] == 1
    assert _pages_of(store) == set()


def test_a_naming_case_of_the_business_holds_its_store_evidence(app, db):
    """brief 5.3 (evidence pack; publish only facts with evidence, 5.2): an open naming case of the store's business
    keeps the store's pages whenever it was opened; a closed one, while it closed within the enforcement period."""
    store, _listing_, page = _stale_store("Named Blades")
    case = NamingCase(business_id=store.business_id, status=CaseStatus.PROPOSED)
    db.session.add(case)
    db.session.commit()

    later = add_months(TODAY, 25)
    report = _apply(later)
    assert report["evidence_held_for_enforcement"] == 1 and _pages_of(store) == {page.id}

    case = db.session.get(NamingCase, case.id)
    case.status, case.removed_on = CaseStatus.REMOVED, TODAY
    db.session.commit()
    assert _apply(add_months(TODAY, 6))["evidence_held_for_enforcement"] == 1  # closed 6 months ago: still held
    assert _pages_of(store) == {page.id}
    report = _apply(later)  # closed 25 months ago
    assert report["evidence_held_for_enforcement"] == 0 and report["evidence_pages_removed"] == 1
    assert _pages_of(store) == set()


def test_a_dry_run_counts_but_changes_nothing(app, db):
    """brief 5.2: the admin sees what would go before it goes; nothing is removed or unlinked."""
    store, listing, page = _stale_store("Dry Run Knives")
    check = _check(listing, page, "none")
    held, _held_listing, held_page = _stale_store("Held Knives")
    _online_purchase(held)
    db.session.commit()

    run = retention.apply_retention(TODAY, dry_run=True)
    db.session.commit()
    report = run.report[EVIDENCE]
    assert report["evidence_pages_removed"] == 1 and report["evidence_screenshots_removed"] == 1
    assert report["evidence_held_for_enforcement"] == 1
    assert _pages_of(store) == {page.id} and _pages_of(held) == {held_page.id}
    assert db.session.get(ListingCheck, check.id).evidence_id == page.id
    assert retention.last_run(dry_run=None).dry_run and retention.last_run(dry_run=False) is None


# --- who sets the period ---------------------------------------------------------------------------------------------

def _form(page: str, **values) -> dict:
    data = {"csrf_token": csrf_token_from(page), "retention_volunteer_months": "12",
            "retention_enforcement_months": "24", "retention_naming_months": "24", "retention_evidence_months": "24"}
    data.update(values)
    return data


def test_london_trading_standards_sets_the_evidence_period_for_everyone(client, app, db):
    """brief 5.2: one period for the London-wide evidence, set by the partnership (London Trading Standards); a
    borough's admin sees it read-only and cannot change it; a value out of bounds is refused next to the field."""
    lts_admin = make_user(Role.ADMIN, "admin@lts.example", authority="lts")
    hackney_admin = make_user(Role.ADMIN, "admin@hackney.example", authority="hackney")

    login_as(client, lts_admin)
    page = client.get("/admin/retention").get_data(as_text=True)
    assert 'name="retention_evidence_months"' in page and 'value="24"' in page
    bad = client.post("/admin/retention", data=_form(page, retention_evidence_months="6",
                                                      retention_volunteer_months="6"))
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    # The error is under the evidence field, which is marked invalid and keeps what was typed.
    assert re.search(r'<input class="form-control is-invalid" id="retention_evidence_months"[^>]*value="6"[^>]*>\s*'
                     r'<div class="invalid-feedback">Enter a whole number of months from 12 to 72.</div>', html)
    assert retention.evidence_months() == 24
    assert retention.schedule(lts_admin.authority_id)["retention_volunteer_months"] == 12  # nothing saved

    saved = client.post("/admin/retention", data=_form(page, retention_evidence_months="36"))
    assert saved.status_code == 302
    assert retention.evidence_months() == 36
    row = db.session.scalar(sa.select(Setting).where(Setting.key == "retention_evidence_months"))
    assert row.authority_id is None and row.value == "36"  # the deployment's, not London Trading Standards' own
    assert _apply()["months"] == 36
    client.post("/logout")

    login_as(client, hackney_admin)
    page = client.get("/admin/retention").get_data(as_text=True)
    assert 'name="retention_evidence_months"' not in page
    assert '<strong id="retention_evidence_months">36</strong>' in page and "set by London Trading Standards" in page
    assert "Listing monitor evidence (London-wide) removed" in page  # the last run's line
    response = client.post("/admin/retention", data=_form(page, retention_evidence_months="48",
                                                          retention_volunteer_months="6"))
    assert response.status_code == 302  # the borough's own periods are saved...
    assert retention.schedule(hackney_admin.authority_id)["retention_volunteer_months"] == 6
    assert retention.evidence_months() == 36  # ...the London-wide one is not theirs to change
    assert db.session.scalars(sa.select(Setting.value).where(Setting.key == "retention_evidence_months")).all() \
        == ["36"]
    page = client.get("/admin/retention").get_data(as_text=True)
    assert '<strong id="retention_evidence_months">36</strong>' in page


# --- what the user sees ----------------------------------------------------------------------------------------------

def test_the_cli_reports_the_evidence_removed(app, db, runner):
    """brief 5.2: `flask apply-retention` says what it removed (or would) of the monitor's evidence."""
    store, _listing_, page = _stale_store("Cli Knives")
    held, _held_listing, held_page = _stale_store("Cli Held")
    _online_purchase(held)
    removed_before = retention.period_start(TODAY, 24).isoformat()

    dry = runner.invoke(args=["apply-retention", "--as-of", TODAY.isoformat(), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert (f"Listing monitor evidence (London-wide, 24 months): would remove 1 page(s) with 1 screenshot(s) "
            f"last fetched before {removed_before} (1 kept for enforcement)") in dry.output
    assert _pages_of(store) == {page.id}

    result = runner.invoke(args=["apply-retention", "--as-of", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert (f"Listing monitor evidence (London-wide, 24 months): removed 1 page(s) with 1 screenshot(s) "
            f"last fetched before {removed_before} (1 kept for enforcement)") in result.output
    assert _pages_of(store) == set() and _pages_of(held) == {held_page.id}


def test_the_evidence_sheet_says_why_an_unmonitored_store_page_is_gone(client, app, db):
    """brief 2.4: the evidence sheet is what goes in the online test-purchase file; when the page behind a verdict
    has been removed it says so and why, rather than showing nothing."""
    store, listing, page = _stale_store("Sheet Knives", enabled=False)
    sha = page.sha256
    login_as(client, make_user(Role.OFFICER, "officer@sheet.example"))
    before = client.get(f"/monitor/listings/{listing.id}/evidence").get_data(as_text=True)
    assert sha in before and "no longer checks this store" not in before

    _apply()
    response = client.get(f"/monitor/listings/{listing.id}/evidence")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and sha not in html
    assert "No copy of the page behind this verdict is kept: the monitor no longer checks this store" in html
    assert "removed 24 months after its last fetch" in html
    assert listing.url in html and "No age check" in html  # the verdict itself is still on the sheet
