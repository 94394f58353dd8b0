"""Evidence an officer can put in the online test-purchase file (issue 13 part 5).

Every page the monitor judges is kept exactly as fetched: the body as received, gzip-compressed, with its SHA-256
and the fetch times (`keep_page`). A listing that raises a finding (a prohibited item offered, or a bladed product
with a weak or no age check) also gets a full-page screenshot by headless Chromium (`take_screenshots`).

The screenshot is of the page that was hashed, not a second visit: Chromium is given the stored HTML, with
JavaScript off, and every request it makes (stylesheets, images) is answered by the monitor's own polite,
SSRF-guarded fetcher or refused; Chromium itself never touches the network (see browser.py). So the picture shows
what the hashed HTML says, and a page cannot use the browser to reach an address the monitor would refuse.
"""
from __future__ import annotations

import gzip
import hashlib
import logging
import time
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models.listings import Listing, ListingEvidence, ListingKind
from ..timeutil import utcnow
from .browser import BrowserThread, BrowserUnavailable, answer_with, new_isolated_context, silence_websockets
from .targets import store_verdict

log = logging.getLogger(__name__)

# What a screenshot may load besides the page itself, and how much of it: enough for the page to look as it did.
RESOURCE_TYPES = ("text/css", "image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml", "image/avif",
                  "image/x-icon", "image/vnd.microsoft.icon")
MAX_RESOURCES = 12
RESOURCE_SECONDS = 60.0
MAX_SCREENSHOTS_PER_RUN = 20


def keep_page(listing: Listing, body: bytes, sha256: str, *, final_url: str, status: int | None,
              content_type: str | None, at: datetime, new_listing: bool = False) -> ListingEvidence:
    """The evidence row for this exact page of the listing: made the first time the page is seen, and only its
    last fetch time moves when the same page comes back. `new_listing`: the listing was made just now, so it has no
    evidence yet to look up."""
    evidence = None if new_listing else db.session.scalar(sa.select(ListingEvidence).where(
        ListingEvidence.listing_id == listing.id, ListingEvidence.sha256 == sha256))
    if evidence is None:
        evidence = ListingEvidence(listing_id=listing.id, online_store_id=listing.online_store_id, sha256=sha256,
                                   size=len(body), html_gz=gzip.compress(body, compresslevel=6, mtime=0),
                                   final_url=(final_url or listing.url)[:1000], http_status=status,
                                   content_type=(content_type or "")[:100], first_fetched_at=at, last_fetched_at=at,
                                   screenshot_error="")
        db.session.add(evidence)
        db.session.flush()
    else:
        evidence.last_fetched_at = at
    return evidence


def page_seen_again(listing: Listing, at: datetime) -> ListingEvidence | None:
    """A 304: the page the listing's verdict rests on was confirmed unchanged at `at`."""
    if not listing.content_hash:
        return None
    evidence = db.session.scalar(sa.select(ListingEvidence).where(ListingEvidence.listing_id == listing.id,
                                                                  ListingEvidence.sha256 == listing.content_hash))
    if evidence is not None:
        evidence.last_fetched_at = at
    return evidence


def finding_listing_ids(store_id: int) -> list[int]:
    """The store's listings an online test purchase would rest on, as the store's verdict sees them: any page
    offering a prohibited item, and each bladed listing whose age check (lifted by the store's best policy page)
    is weak or none."""
    verdict = store_verdict(store_id)
    risky = {item.id for item in verdict["bladed"] if verdict["effective"][item.id] in ("weak", "none")}
    offering = {listing_id for listing_id, items in db.session.execute(
        sa.select(Listing.id, Listing.prohibited).where(Listing.online_store_id == store_id,
                                                         Listing.kind != ListingKind.POLICY)) if items}
    return sorted(risky | offering)


def current_evidence(listing_ids: list[int]) -> dict[int, ListingEvidence]:
    """Each listing's evidence for its current verdict (the page whose hash the verdict was made on)."""
    if not listing_ids:
        return {}
    rows = db.session.scalars(sa.select(ListingEvidence).join(
        Listing, sa.and_(Listing.id == ListingEvidence.listing_id, Listing.content_hash == ListingEvidence.sha256))
        .where(Listing.id.in_(listing_ids))).all()
    return {row.listing_id: row for row in rows}


def screenshots_wanted(store_id: int, limit: int = MAX_SCREENSHOTS_PER_RUN) -> list[int]:
    """Evidence rows behind this store's findings whose page has not been photographed (or tried) yet."""
    ids = finding_listing_ids(store_id)
    if not ids:
        return []
    return list(db.session.scalars(
        sa.select(ListingEvidence.id).join(Listing, sa.and_(Listing.id == ListingEvidence.listing_id,
                                                            Listing.content_hash == ListingEvidence.sha256))
        .where(Listing.id.in_(ids), ListingEvidence.screenshot_png.is_(None), ListingEvidence.screenshot_error == "")
        .order_by(ListingEvidence.id).limit(limit)))


def capture(browser, fetcher, url: str, html: bytes, content_type: str = "text/html") -> bytes:
    """A full-page PNG of `html` as the page at `url` (in the browser's own thread)."""
    context = new_isolated_context(browser, javascript=False)
    budget = {"count": 0, "ends": time.monotonic() + RESOURCE_SECONDS, "page_served": False}

    def answer(route, request) -> None:
        if request.is_navigation_request():
            # The stored page, once; any other navigation (a meta refresh, a frame) is refused.
            if budget["page_served"]:
                route.abort()
            else:
                budget["page_served"] = True
                route.fulfill(status=200, body=html, content_type=content_type or "text/html")
            return
        left = budget["ends"] - time.monotonic()
        if request.resource_type not in ("stylesheet", "image") or budget["count"] >= MAX_RESOURCES or left <= 0:
            route.abort()
            return
        budget["count"] += 1
        answer_with(route, fetcher.fetch(request.url, accept=RESOURCE_TYPES, time_limit=left))

    try:
        page = context.new_page()
        silence_websockets(page)
        page.route("**/*", answer)
        page.goto(url, wait_until="load", timeout=int((RESOURCE_SECONDS + 30) * 1000))
        return page.screenshot(full_page=True, type="png", timeout=30_000)
    finally:
        context.close()


def take_screenshots(evidence_ids: list[int], fetcher, *, executable: str | None = None,
                     between: Callable[[], None] | None = None) -> int:
    """Photograph these pages; each is tried once (a failure is recorded on the row, not retried every run).
    `between` runs before and after the batch (the scheduler's lease check: it raises to stop). No transaction
    stays open while the browser works, and the browser runs in a thread of its own, so the sync Playwright API
    works wherever this is called from (a scheduler thread, a command, a test with its own browser)."""
    if not evidence_ids:
        return 0
    pages = [(row.id, row.final_url, row.content_type, row.html_gz) for row in db.session.scalars(
        sa.select(ListingEvidence).where(ListingEvidence.id.in_(evidence_ids)).order_by(ListingEvidence.id))]
    db.session.commit()
    if between is not None:
        between()
    try:
        browser = BrowserThread(executable).start()
    except BrowserUnavailable as exc:  # no Chromium, or it would not start: say so on each page, once
        log.warning("screenshots not taken: %s", exc)
        for evidence_id, *_rest in pages:
            _record(evidence_id, error=str(exc)[:500])
        return 0
    shots: dict[int, bytes | str] = {}
    try:
        for evidence_id, url, content_type, html_gz in pages:
            try:
                shots[evidence_id] = browser.call(lambda b, u=url, h=html_gz, c=content_type: capture(
                    b, fetcher, u, gzip.decompress(h), c or "text/html"))
            except Exception as exc:  # noqa: BLE001 - a page that will not render must not stop the others
                log.warning("screenshot of %s failed: %s", url, exc)
                shots[evidence_id] = str(exc)[:300] or type(exc).__name__
    finally:
        browser.close()
    if between is not None:
        between()
    taken = 0
    for evidence_id, shot in shots.items():
        if isinstance(shot, bytes):
            _record(evidence_id, png=shot)
            taken += 1
        else:
            _record(evidence_id, error=f"The page could not be rendered: {shot}")
    return taken


def _record(evidence_id: int, *, png: bytes | None = None, error: str = "") -> None:
    row = db.session.get(ListingEvidence, evidence_id)
    if row is None or row.screenshot_png is not None:
        return
    if png is not None:
        row.screenshot_png = png
        row.screenshot_sha256 = hashlib.sha256(png).hexdigest()
        row.screenshot_at = utcnow()
    else:
        row.screenshot_error = error or "The page could not be rendered"
    db.session.commit()


__all__ = ["capture", "current_evidence", "finding_listing_ids", "keep_page", "page_seen_again",
           "screenshots_wanted", "take_screenshots"]
