"""The listing monitor: one check of an online store (its verdict, alerts and targets are read in targets.py, the
bulk import of stores is store_import.py).

One store check: fetch the start pages (and a robots-allowed sitemap), discover product and policy pages up to
the store's cap, fetch each with conditional requests, classify, record a `ListingCheck` per fetch, then work out
the store-level verdict. Network work happens outside database transactions; each page's result is saved in a
short transaction of its own, so a crash loses at most the page in flight.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models.listings import (AGE_LABELS, AGE_RANK, AlertKind, Listing, ListingCheck,
                               ListingKind, MonitorAlert, MonitorRun, StoreMonitor, compress_text)
from ..models.register import OnlineStore
from ..scoring import listings_checked, scoring_paused
from ..timeutil import utcnow
from . import evidence
from .browser import PageRenderer
from .classify import Verdict, classify
from .discover import discover_policy_urls, discover_product_urls, looks_like_policy_page, parse_sitemap
from .fetch import SITEMAP_TYPES, Fetcher, FetchResult, FetchSettings
from .listing_rows import _get_listing, _last_text, _retrying, _title  # noqa: F401  (_retrying: the scheduler's)
from .monitor_settings import (  # noqa: F401  (the settings functions are called through this module)
    add_listing_by_hand, ensure_monitor, in_store_scope, monitor_for, request_check, update_settings,
)
from .targets import store_verdict

log = logging.getLogger(__name__)

MAX_POLICY_PAGES = 6
PROGRESS_EVERY = 1.0  # seconds between progress writes
MAX_CHILD_SITEMAPS = 3

ClassifyFn = Callable[[str, str | None], Verdict]


class LeaseLost(Exception):
    """Another scheduler took over this store (our lease expired); stop without touching its run."""


class _OutOfTime(Exception):
    """The store check's time limit has passed: stop fetching, keep what was checked."""


# --- fetch settings from the app ---------------------------------------------------------------------------------

def fetch_settings(app=None, **overrides) -> FetchSettings:
    """FetchSettings from app config and the authority's settings (the User-Agent names us and how to reach us)."""
    from ..settings import get_setting

    app = app or current_app
    # Whitespace collapsed: a line break saved before the form refused them must not split the header (issue 14).
    contact = " ".join((get_setting("contact_url") or app.config.get("RETAIL_CONTACT_URL", "")).split())
    authority = " ".join((get_setting("authority_name") or "").split())
    values = dict(
        user_agent=f"KnifeRetailComplianceTracker/1.0 ({authority}; +{{contact_url}})",
        contact_url=contact,
        min_host_delay=float(app.config.get("RETAIL_FETCH_MIN_HOST_DELAY", 5.0)),
        allow_loopback=bool(app.config.get("RETAIL_ALLOW_LOOPBACK_FETCH", False)),
        total_timeout=float(app.config.get("RETAIL_FETCH_DEADLINE", 60.0)),
    )
    values.update(overrides)
    return FetchSettings(**values)


def make_fetcher(app=None, **overrides) -> Fetcher:
    return Fetcher(fetch_settings(app, **overrides))


# --- one store check ----------------------------------------------------------------------------------------------

@dataclass
class PageOutcome:
    listing_id: int
    url: str
    kind: str
    status: int | None
    error: str
    changed: bool
    text: str | None = None


@dataclass
class CheckResult:
    store_id: int
    run_id: int
    pages: int = 0
    changed: int = 0
    errors: int = 0
    age_check: str | None = None
    bladed_listings: int = 0
    prohibited: list = field(default_factory=list)
    alerts: int = 0
    out_of_time: bool = False  # the check stopped at its time limit; the pages left keep their last verdicts
    screenshots: int = 0  # pages photographed for the evidence file after the check


class StoreChecker:
    """Checks one store. `heartbeat()` is called around each page and raises LeaseLost to stop early.

    `time_limit` (seconds, wall clock) bounds the whole check: each fetch gets only the time that is left, and
    when none is left the check stops fetching and works out the verdict from what it has.
    """

    def __init__(self, store_id: int, fetcher: Fetcher, *, classify_fn: ClassifyFn | None = None,
                 trigger: str = "cli", worker: str = "", heartbeat: Callable[[], None] | None = None,
                 progress: Callable[[int, int], None] | None = None, time_limit: float | None = None):
        self.store_id = store_id
        self.time_limit = time_limit
        self._ends = None if time_limit is None else time.monotonic() + time_limit
        self.fetcher = fetcher
        self.classify = classify_fn or classify
        self.trigger = trigger
        self.worker = worker
        self.heartbeat = heartbeat or (lambda: None)
        self.progress = progress
        self.alerts = 0
        self._progress_at = 0.0
        self.renderer: PageRenderer | None = None  # set for a store marked as needing a browser
        self._states: dict[str, tuple[int, str | None, str | None]] | None = None  # see _listing_state

    # The page pipeline -------------------------------------------------------------------------------------------

    def _listing_state(self, url: str) -> tuple[int, str | None, str | None] | None:
        """(id, etag, last_modified) of the store's listing for `url`, for a conditional request. Read for every
        listing of the store at the first page, in one statement: this checker holds the store's lease, so no
        one else changes them while it runs, and its own saves update the table (`_save`)."""
        if self._states is None:
            self._states = {row.url: (row.id, row.etag, row.last_modified) for row in db.session.execute(
                sa.select(Listing.url, Listing.id, Listing.etag, Listing.last_modified).where(
                    Listing.online_store_id == self.store_id))}
            db.session.commit()  # no transaction stays open during the network request
        return self._states.get(url)

    def _time_left(self) -> float | None:
        if self._ends is None:
            return None
        left = self._ends - time.monotonic()
        if left <= 0:
            raise _OutOfTime()
        return left

    def _fetch_listing(self, url: str, kind: ListingKind, *, want_text: bool = False) -> PageOutcome:
        left = self._time_left()
        state = self._listing_state(url)
        # A page built by scripts can change while its HTML does not: a browser store's pages are fetched whole.
        conditional = state is not None and self.renderer is None
        result = self.fetcher.fetch(url, etag=state[1] if conditional else None,
                                    last_modified=state[2] if conditional else None, time_limit=left)
        # Stopping (or the lease gone) while the page was in flight: nothing of it is recorded.
        self.heartbeat()
        if self.renderer is not None and result.ok and result.content_type in (None, "text/html",
                                                                                "application/xhtml+xml"):
            # A store that builds its pages with JavaScript: judge what a buyer's browser shows.
            left = None if self._ends is None else max(1.0, self._ends - time.monotonic())
            result = self.renderer.render(result, time_limit=left)
            self.heartbeat()
        verdict = self.classify(result.text, result.final_url) if result.ok else None
        outcome = _retrying(lambda: self._save(url, kind, result, verdict))
        if want_text and outcome is not None and outcome.text is None and result.not_modified:
            outcome.text = _last_text(outcome.listing_id)
            db.session.commit()
        self.heartbeat()
        return outcome

    def _save(self, url: str, kind: ListingKind, result: FetchResult, verdict: Verdict | None) -> PageOutcome:
        now = utcnow()
        listing, created = _get_listing(self.store_id, url, kind, checked_at=now, status=result.status)
        check = ListingCheck(listing_id=listing.id, online_store_id=self.store_id, checked_at=now,
                             final_url=result.final_url[:1000], http_status=result.status, etag=result.etag,
                             last_modified=result.last_modified, not_modified=result.not_modified,
                             prohibited=[], cues=[], rules_version="")
        changed, data, reason = False, None, ""
        # The check is written whole first, then the listing once (with the check's id): at national scale the
        # crawl is bound by the statements each page costs, and this is five or six instead of ten.
        with db.session.no_autoflush:
            if result.not_modified:
                # Unchanged since the last good check: the page costs the retailer a 304 and keeps its verdict.
                check.content_hash = listing.content_hash
                seen = evidence.page_seen_again(listing, now)
                check.evidence_id = seen.id if seen is not None else None
                check.bladed, check.age_check = listing.bladed, listing.age_check
                check.prohibited, check.cues = list(listing.prohibited or []), list(listing.cues or [])
                check.rules_version = listing.rules_version
            elif verdict is not None:
                changed = result.content_hash != listing.content_hash
                check.content_hash = result.content_hash
                check.changed = changed
                if changed:
                    check.page_text = compress_text(result.text)
                data = verdict.to_dict()
                check.bladed, check.age_check = data["bladed"], data["age_check"]
                check.prohibited, check.cues = data["prohibited"], data["cues"]
                check.rules_version = data["rules_version"]
                if result.body is not None and result.content_hash:
                    check.evidence_id = evidence.keep_page(
                        listing, result.body, result.content_hash, final_url=result.final_url,
                        status=result.status, content_type=result.content_type, at=now, new_listing=created).id
            else:
                # A failed fetch: record why, keep the last good verdict and validators.
                reason = result.error or (f"Skipped: {result.skipped_reason}" if result.skipped_reason
                                          else "No content")
                check.error = reason[:2000]
                check.content_hash = result.content_hash
        db.session.add(check)
        db.session.flush()
        listing.last_seen_at = now
        listing.last_checked_at = now
        listing.last_status = result.status
        listing.last_error = reason[:2000]
        if data is not None:
            before = set(listing.prohibited or [])
            new_items = [p for p in data["prohibited"] if p not in before]
            listing.bladed, listing.age_check = data["bladed"], data["age_check"]
            listing.prohibited, listing.cues = data["prohibited"], data["cues"]
            listing.conditions = list(data.get("conditions") or [])
            listing.rules_version = data["rules_version"]
            listing.verdict_at = now
            listing.content_hash = result.content_hash
            listing.etag, listing.last_modified = result.etag, result.last_modified
            title = _title(result.text)
            if title:
                listing.title = title
            listing.last_good_check_id = check.id
            if new_items and listing.kind != ListingKind.POLICY:
                db.session.add(MonitorAlert(
                    online_store_id=self.store_id, listing_id=listing.id, kind=AlertKind.PROHIBITED_FOUND,
                    before=", ".join(sorted(before))[:200], after=", ".join(data["prohibited"])[:200],
                    detail=f"{', '.join(new_items)} offered at {listing.url}", raised_at=now))
                self.alerts += 1
        db.session.flush()
        self._states[url] = (listing.id, listing.etag, listing.last_modified)
        return PageOutcome(listing.id, url, listing.kind.value, result.status, check.error, changed,
                           result.text if verdict is not None else None)

    # Discovery ---------------------------------------------------------------------------------------------------

    def _sitemap_urls(self, store: OnlineStore, start_urls: list[str]) -> list[str]:
        candidates = [u for u in start_urls if urlsplit(u).path.lower().endswith((".xml", ".xml.gz", ".txt"))]
        candidates.append(urljoin(store.base_url, "sitemap.xml"))
        pages: list[str] = []
        seen: set[str] = set()
        queue = list(dict.fromkeys(candidates))
        fetched = 0
        while queue and fetched < 1 + MAX_CHILD_SITEMAPS + len(candidates):
            url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            fetched += 1
            # fetch() honours robots.txt: a disallowed sitemap comes back skipped and is left alone.
            result = self.fetcher.fetch(url, accept=SITEMAP_TYPES, time_limit=self._time_left())
            self.heartbeat()
            if not result.ok:
                continue
            found, children = parse_sitemap(result.text, store.base_url)
            pages.extend(u for u in found if u not in pages)
            queue.extend(children[:MAX_CHILD_SITEMAPS])
        return pages

    def run(self) -> CheckResult:
        # Page-by-page saves do not each trigger the risk rescore; the store's business is rescored once at the end.
        with scoring_paused():
            result = self._run()
        _rescore(self.store_id)
        if current_app.config.get("RETAIL_MONITOR_SCREENSHOTS") and not result.out_of_time:
            result.screenshots = self._screenshots()
        return result

    def _screenshots(self) -> int:
        """Photograph the pages behind this store's findings that have no screenshot yet (issue 13 part 5)."""
        wanted = evidence.screenshots_wanted(self.store_id)
        if not wanted:
            return 0
        return evidence.take_screenshots(wanted, self.fetcher, between=self.heartbeat)

    def _run(self) -> CheckResult:
        store = db.session.get(OnlineStore, self.store_id)
        if store is None:
            raise LookupError(f"no online store {self.store_id}")
        db.session.commit()

        def start() -> MonitorRun:
            ensure_monitor(store)
            new_run = MonitorRun(online_store_id=store.id, trigger=self.trigger, worker=self.worker[:120],
                                 prohibited=[])
            db.session.add(new_run)
            db.session.flush()
            return new_run

        run = _retrying(start)
        monitor = monitor_for(store.id)
        result = CheckResult(store_id=store.id, run_id=run.id)
        cap = max(1, monitor.listing_cap)
        start_urls = monitor.start_url_list or [store.base_url]
        html_starts = [u for u in start_urls if not urlsplit(u).path.lower().endswith((".xml", ".xml.gz", ".txt"))]
        hand = list(db.session.scalars(sa.select(Listing.url).where(Listing.online_store_id == store.id,
                                                                    Listing.added_by_hand.is_(True))))
        known = list(db.session.scalars(sa.select(Listing.url).where(
            Listing.online_store_id == store.id, Listing.kind == ListingKind.PRODUCT,
            Listing.added_by_hand.is_(False)).order_by(Listing.id)))
        known_policy = list(db.session.scalars(sa.select(Listing.url).where(
            Listing.online_store_id == store.id, Listing.kind == ListingKind.POLICY).order_by(Listing.id)))
        db.session.commit()
        self._set_progress(0, len(html_starts) + cap)
        outcomes: list[PageOutcome] = []
        if monitor.needs_browser:
            self.renderer = PageRenderer(self.fetcher)
        try:
            self._crawl(store, start_urls, html_starts, hand, known, known_policy, cap, outcomes)
        except _OutOfTime:
            result.out_of_time = True
            log.warning("store %s: stopped at the check's time limit (%.0f s) after %d pages", store.id,
                        self.time_limit, len(outcomes))
        finally:
            if self.renderer is not None:
                self.renderer.close()
                self.renderer = None

        result.pages = len(outcomes)
        result.changed = sum(1 for o in outcomes if o.changed)
        result.errors = sum(1 for o in outcomes if o.error)
        verdict = _retrying(lambda: self._finish(store.id, run.id, result))
        result.age_check = verdict["age_check"]
        result.bladed_listings = verdict["bladed_listings"]
        result.prohibited = verdict["prohibited"]
        result.alerts = self.alerts
        return result

    def _crawl(self, store: OnlineStore, start_urls: list[str], html_starts: list[str], hand: list[str],
               known: list[str], known_policy: list[str], cap: int, outcomes: list[PageOutcome]) -> None:
        """Fetch the start pages, discover, then fetch policy and product pages; appends to `outcomes`."""
        products: list[str] = []
        policies: list[str] = []
        done = 0
        for url in html_starts:
            kind = ListingKind.POLICY if looks_like_policy_page(url) else ListingKind.CATEGORY
            outcome = self._fetch_listing(url, kind, want_text=True)
            outcomes.append(outcome)
            done += 1
            if outcome.text:
                for found in discover_product_urls(url, outcome.text, limit=cap * 2):
                    if found not in products:
                        products.append(found)
                for found in discover_policy_urls(url, outcome.text, limit=MAX_POLICY_PAGES):
                    if found not in policies:
                        policies.append(found)
        for found in self._sitemap_urls(store, start_urls):
            bucket = policies if looks_like_policy_page(found) else products
            if found not in bucket:
                bucket.append(found)
        starts = set(html_starts)
        in_scope = [u for u in products if in_store_scope(u, store) and u not in starts]
        policy_urls = [u for u in dict.fromkeys(policies + known_policy) if in_store_scope(u, store)
                       and u not in starts][:MAX_POLICY_PAGES]
        product_urls = list(dict.fromkeys(hand + in_scope + known))
        product_urls = [u for u in product_urls if u not in policy_urls][:max(cap, len(hand))]
        total = done + len(policy_urls) + len(product_urls)
        self._set_progress(done, total)
        for url in policy_urls:
            outcomes.append(self._fetch_listing(url, ListingKind.POLICY))
            done += 1
            self._set_progress(done, total)
        for url in product_urls:
            outcomes.append(self._fetch_listing(url, ListingKind.PRODUCT))
            done += 1
            self._set_progress(done, total)

    def _set_progress(self, done: int, total: int, *, force: bool = False) -> None:
        if self.progress:
            self.progress(done, total)
        now = time.monotonic()
        if not force and done < total and now - self._progress_at < PROGRESS_EVERY:
            return  # the store page polls every few seconds; a write per page would only slow the crawl
        self._progress_at = now
        _retrying(lambda: db.session.execute(sa.update(StoreMonitor.__table__).where(
            StoreMonitor.online_store_id == self.store_id).values(progress_done=done, progress_total=total)))

    def _finish(self, store_id: int, run_id: int, result: CheckResult) -> dict:
        now = utcnow()
        monitor = monitor_for(store_id)
        before = monitor.age_check
        verdict = store_verdict(store_id)
        worse = (before is not None and verdict["age_check"] is not None
                 and AGE_RANK[verdict["age_check"]] < AGE_RANK[before])
        if worse:
            weakest = verdict["weakest"]
            db.session.add(MonitorAlert(
                online_store_id=store_id, listing_id=weakest.id if weakest else None,
                kind=AlertKind.AGE_CHECK_WORSE, before=before, after=verdict["age_check"],
                detail=verdict["reason"][:2000], raised_at=now))
            self.alerts += 1
        summary = (f"{result.pages} pages checked, {result.changed} changed, {result.errors} failed; "
                   f"{verdict['bladed_listings']} bladed listings; "
                   f"store verdict: {AGE_LABELS.get(verdict['age_check'] or '', 'no bladed listings found')}")
        if result.out_of_time:
            summary += (f"; stopped at the check's time limit ({self.time_limit:.0f} s), so pages not reached "
                        "keep their last verdict")
        db.session.execute(sa.update(StoreMonitor.__table__).where(StoreMonitor.id == monitor.id).values(
            age_check=verdict["age_check"], bladed_listings=verdict["bladed_listings"],
            check_at_sale=verdict["check_at_sale"],
            risky_listings=verdict["risky_listings"], prohibited=verdict["prohibited"],
            prohibited_count=verdict["prohibited_count"],
            verdict_listing_id=verdict["weakest"].id if verdict["weakest"] else None,
            verdict_policy_id=verdict["policy"].id if verdict["policy"] else None,
            verdict_reason=verdict["reason"], verdict_at=now, last_run_at=now,
            last_result={"run_id": run_id, "pages": result.pages, "changed": result.changed,
                         "errors": result.errors, "alerts": self.alerts, "summary": summary,
                         "trigger": self.trigger, "finished_at": now.isoformat()}))
        run = db.session.get(MonitorRun, run_id)
        run.finished_at = now
        run.pages, run.changed, run.errors = result.pages, result.changed, result.errors
        run.age_check, run.bladed_listings = verdict["age_check"], verdict["bladed_listings"]
        run.prohibited = verdict["prohibited"]
        run.summary = summary
        return verdict


def _rescore(store_id: int) -> None:
    try:
        listings_checked(store_id)
        db.session.commit()
    except Exception:  # noqa: BLE001 - a scoring problem must never undo or fail the check
        db.session.rollback()
        log.exception("rescore after the check of store %s failed", store_id)


def check_store(store_id: int, fetcher: Fetcher, **kwargs) -> CheckResult:
    """Run one check of a store now (in this thread), outside the scheduler's lease bookkeeping."""
    return StoreChecker(store_id, fetcher, **kwargs).run()


def due_monitor_count(now: datetime | None = None) -> int:
    now = now or utcnow()
    return db.session.scalar(sa.select(sa.func.count()).select_from(StoreMonitor).where(
        StoreMonitor.enabled.is_(True),
        sa.or_(StoreMonitor.next_due_at <= now, StoreMonitor.check_requested_at.is_not(None))))
