"""The listing monitor's rows and settings: a store's monitor row, its start pages, interval and cap, "check now",
listings added by hand, and which addresses are on the store's site (monitor.py does the checks)."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from ..audit import record_event
from ..extensions import db
from ..models.listings import DEFAULT_INTERVAL_HOURS, Listing, ListingKind, StoreMonitor
from ..models.register import OnlineStore, Platform
from ..timeutil import utcnow
from ..validation import InvalidValue, normalise_url, url_domain
from .discover import is_same_site


def ensure_monitor(store: OnlineStore, *, due_now: bool = True) -> StoreMonitor:
    monitor = db.session.scalar(sa.select(StoreMonitor).where(StoreMonitor.online_store_id == store.id))
    if monitor is None:
        monitor = StoreMonitor(online_store_id=store.id, start_urls=store.base_url,
                               interval_hours=DEFAULT_INTERVAL_HOURS, next_due_at=utcnow() if due_now else None,
                               last_result={}, prohibited=[])
        db.session.add(monitor)
        db.session.flush()
    return monitor


def monitor_for(store_id: int) -> StoreMonitor | None:
    return db.session.scalar(sa.select(StoreMonitor).where(StoreMonitor.online_store_id == store_id))


def _port(url: str) -> int | None:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return -1
    return None if port in (None, 80, 443) else port


def in_store_scope(url: str, store: OnlineStore) -> bool:
    """Is `url` on the store's site? Same host (and port); own websites under a path must stay under that path."""
    if not is_same_site(url, store.base_url) or _port(url) != _port(store.base_url):
        return False
    base_path = urlsplit(store.base_url).path or "/"
    if store.platform == Platform.OWN_WEBSITE and base_path != "/":
        path = urlsplit(url).path or "/"
        return path.startswith(base_path.rstrip("/") + "/") or path == base_path.rstrip("/")
    return True


def _clean_start_urls(text: str, store: OnlineStore) -> str:
    urls = []
    for line in (text or "").replace(" ", "\n").splitlines():
        line = line.strip()
        if not line:
            continue
        url = normalise_url(line)
        if url_domain(url) != store.domain and not is_same_site(url, store.base_url):
            raise InvalidValue(f"{url} is not on the store's site ({store.domain}).")
        if url not in urls:
            urls.append(url)
    return "\n".join(urls)


def update_settings(monitor: StoreMonitor, data: dict, version=None) -> StoreMonitor:
    from ..register import check_version

    check_version(monitor, version)
    store = db.session.get(OnlineStore, monitor.online_store_id)
    monitor.start_urls = _clean_start_urls(data.get("start_urls", monitor.start_urls), store) or store.base_url
    interval = int(data.get("interval_hours") or monitor.interval_hours)
    cap = int(data.get("listing_cap") or monitor.listing_cap)
    if not 1 <= interval <= 24 * 90:
        raise InvalidValue("The interval must be between 1 hour and 90 days.")
    if not 1 <= cap <= 1000:
        raise InvalidValue("The listing cap must be between 1 and 1,000.")
    if interval != monitor.interval_hours and monitor.last_run_at:
        monitor.next_due_at = monitor.last_run_at + timedelta(hours=interval)
    monitor.interval_hours = interval
    monitor.listing_cap = cap
    if "enabled" in data:
        monitor.enabled = bool(data["enabled"])
    if "needs_browser" in data:
        monitor.needs_browser = bool(data["needs_browser"])
    db.session.flush()
    return monitor


def request_check(store: OnlineStore, requested_by: str) -> StoreMonitor:
    """Queue a check for the scheduler ("check now"): it is claimed ahead of the overdue ones."""
    monitor = ensure_monitor(store)
    db.session.execute(sa.update(StoreMonitor.__table__).where(StoreMonitor.id == monitor.id).values(
        check_requested_at=utcnow(), check_requested_by=requested_by[:254], enabled=True))
    db.session.flush()
    db.session.refresh(monitor)
    return monitor


def add_listing_by_hand(store: OnlineStore, url: str, added_by: str) -> Listing:
    url = normalise_url(url)
    if url_domain(url) != store.domain and not is_same_site(url, store.base_url):
        raise InvalidValue(f"That address is not on this store's site ({store.domain}).")
    existing = db.session.scalar(sa.select(Listing).where(Listing.online_store_id == store.id, Listing.url == url))
    if existing:
        if not existing.added_by_hand:
            existing.added_by_hand = True
            existing.added_by = added_by
        listing = existing
    else:
        listing = Listing(online_store_id=store.id, url=url, kind=ListingKind.PRODUCT, added_by_hand=True,
                          added_by=added_by, prohibited=[], cues=[])
        db.session.add(listing)
    db.session.flush()
    record_event("OnlineStore", store.id, f"Listing added by hand: {url}")
    ensure_monitor(store)
    return listing
