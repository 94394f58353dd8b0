"""Bulk import of online stores to monitor, from a CSV an officer uploads (or `flask import-stores`): each row names
the business (by council reference or name), the store's address and platform; every row is checked before any is
written. Split from monitor.py."""
from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from ..extensions import db
from ..models.register import Business, OnlineStore, Platform
from ..validation import InvalidValue, normalise_url, url_domain
from .monitor import ensure_monitor, monitor_for


class StoreImportError(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


_PLATFORMS = {p.value: p for p in Platform} | {
    "": Platform.OWN_WEBSITE, "own website": Platform.OWN_WEBSITE, "website": Platform.OWN_WEBSITE,
    "marketplace": Platform.OTHER_MARKETPLACE, "other marketplace": Platform.OTHER_MARKETPLACE}


def _find_business(ref: str) -> tuple[Business | None, str]:
    ref = ref.strip()
    if not ref:
        return None, "the business column is empty"
    from ..register import council_ref_matches

    found = db.session.scalars(sa.select(Business).where(council_ref_matches(Business.external_ref == ref))
                               .limit(2)).all()
    if len(found) > 1:
        return None, f"two authorities use the council reference {ref!r}: give the business's exact name instead"
    if found:
        return found[0], ""
    from ..models.register import name_key

    key = name_key(ref)
    matches = list(db.session.scalars(sa.select(Business).where(
        sa.or_(Business.legal_name_key == key, Business.trading_name_key == key)).limit(3)))
    if len(matches) == 1:
        return matches[0], ""
    if len(matches) > 1:
        return None, f"'{ref}' matches more than one business; use its council reference instead"
    return None, f"no business with reference or name '{ref}'"


def import_stores(text: str) -> dict:
    """Import online stores from CSV text, all or nothing. Raises StoreImportError listing every bad row.

    Columns: business (external_ref or exact name), url, platform, start_urls (space-separated). A row whose URL is
    already registered for the same business updates it instead of adding a duplicate.
    """
    from .. import register as reg

    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headings = {(h or "").strip().lower() for h in (reader.fieldnames or [])}
    missing = {"business", "url"} - headings
    if missing:
        raise StoreImportError([f"The file needs the column(s): {', '.join(sorted(missing))} "
                                "(expected business, url, platform, start_urls)."])
    errors: list[str] = []
    plans = []
    seen_urls: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        problems = []
        business, problem = _find_business(row.get("business", ""))
        if problem:
            problems.append(problem)
        try:
            url = normalise_url(row.get("url"))
        except InvalidValue as exc:
            url = None
            problems.append(f"url: {exc}")
        platform = _PLATFORMS.get(row.get("platform", "").lower())
        if platform is None:
            problems.append(f"platform '{row.get('platform')}' is not one of {', '.join(p.value for p in Platform)}")
        starts = []
        for start in row.get("start_urls", "").split():
            try:
                start = normalise_url(start)
            except InvalidValue as exc:
                problems.append(f"start_urls: {exc}")
                continue
            if url and url_domain(start) != url_domain(url):
                problems.append(f"start URL {start} is not on {url_domain(url)}")
            starts.append(start)
        if url:
            if url in seen_urls:
                problems.append(f"url {url} is already on line {seen_urls[url]} of this file")
            seen_urls.setdefault(url, line)
            existing = db.session.scalar(sa.select(OnlineStore).where(OnlineStore.base_url == url))
            if existing and business and existing.business_id != business.id:
                problems.append(f"{url} is already registered for {existing.business.display_name}")
        else:
            existing = None
        if problems:
            errors.append(f"Line {line}: " + "; ".join(problems))
            continue
        plans.append((business, url, platform, starts, existing))
    if errors:
        db.session.rollback()
        raise StoreImportError(errors)
    if not plans:
        raise StoreImportError(["The file has no rows to import."])
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    try:
        for business, url, platform, starts, existing in plans:
            if existing is None:
                store = reg.add_online_store(business, {"base_url": url, "platform": platform.value})
                counts["created"] += 1
            else:
                store = existing
                changed = False
                if store.platform != platform:
                    store.platform = platform
                    changed = True
                monitor = monitor_for(store.id)
                if starts and (monitor is None or monitor.start_url_list != starts):
                    changed = True
                counts["updated" if changed else "unchanged"] += 1
            monitor = ensure_monitor(store)
            if starts:
                monitor.start_urls = "\n".join(starts)
        db.session.flush()
    except InvalidValue as exc:
        db.session.rollback()
        raise StoreImportError([str(exc)]) from exc
    return counts
