"""The listing rows one store check writes: a listing read or made, a short write transaction retried while SQLite
is busy, the page title kept on the listing, the last stored text of a page. Moved verbatim from monitor.py, whose
StoreChecker calls them."""
from __future__ import annotations

import html
import random
import re
import time
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from ..extensions import db
from ..models.listings import Listing, ListingCheck, ListingKind

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


def _retrying(fn, attempts: int = 6):
    """Run a short write transaction, retrying when SQLite reports the file busy (several processes share it)."""
    for attempt in range(attempts):
        try:
            result = fn()
            db.session.commit()
            return result
        except OperationalError as exc:
            db.session.rollback()
            if "locked" not in str(exc).lower() and "busy" not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1) + random.random() * 0.05)
    return None


def _title(document: str | None) -> str:
    if not document:
        return ""
    match = _TITLE.search(document[:200_000]) or _H1.search(document[:200_000])
    if not match:
        return ""
    return " ".join(html.unescape(_TAGS.sub(" ", match.group(1))).split())[:300]


def _get_listing(store_id: int, url: str, kind: ListingKind, *, checked_at: datetime,
                 status: int | None) -> tuple[Listing, bool]:
    """The store's listing for `url` (made if new, already marked as checked now), and whether it was made."""
    listing = db.session.scalar(sa.select(Listing).where(Listing.online_store_id == store_id, Listing.url == url))
    if listing is None:
        listing = Listing(online_store_id=store_id, url=url, kind=kind, prohibited=[], cues=[],
                          last_seen_at=checked_at, last_checked_at=checked_at, last_status=status)
        db.session.add(listing)
        db.session.flush()
        return listing, True
    if listing.kind != kind and not listing.added_by_hand and kind != ListingKind.CATEGORY:
        listing.kind = kind
    return listing, False


def _last_text(listing_id: int) -> str | None:
    check = db.session.scalar(sa.select(ListingCheck).where(ListingCheck.listing_id == listing_id,
                                                            ListingCheck.page_text.is_not(None))
                              .order_by(ListingCheck.id.desc()).limit(1))
    return check.text if check else None
