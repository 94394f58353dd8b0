"""The listing monitor: what is watched for each online store, what each check found, and the alerts it raised.

A store's monitor row (`StoreMonitor`) carries its settings, its current store-level verdict and the lease the
scheduler uses to make sure one process checks it at a time. `Listing` rows are the pages found on the store
(products, policy pages, the category pages they were found on); each fetch of one is a `ListingCheck`.
A failed fetch is recorded as a check with an error and leaves the listing's last good verdict in place.
"""
import gzip
import zlib
from datetime import datetime
from enum import StrEnum
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow
from .base import Audited, Timestamps, Versioned, enum_column

AGE_LEVELS = ("none", "weak", "strong")  # worst first
AGE_RANK = {level: rank for rank, level in enumerate(AGE_LEVELS)}
AGE_LABELS = {"strong": "Strong age check", "weak": "Weak (self-declaration)", "none": "No age check"}

DEFAULT_INTERVAL_HOURS = 24
DEFAULT_LISTING_CAP = 40


class ListingKind(StrEnum):
    PRODUCT = "product"
    POLICY = "policy"
    CATEGORY = "category"


LISTING_KIND_LABELS = {ListingKind.PRODUCT: "Product", ListingKind.POLICY: "Policy page",
                       ListingKind.CATEGORY: "Category / start page"}


class AlertKind(StrEnum):
    AGE_CHECK_WORSE = "age_check_worse"
    PROHIBITED_FOUND = "prohibited_found"


ALERT_LABELS = {AlertKind.AGE_CHECK_WORSE: "Age check got worse",
                AlertKind.PROHIBITED_FOUND: "Prohibited item found"}


class StoreMonitor(Audited, Versioned, Timestamps, db.Model):
    """Monitoring settings and current result for one online store (one row per store)."""

    __tablename__ = "store_monitor"
    # Only the officer-edited settings are audited; the scheduler's bookkeeping would drown them out.
    __audit_exclude__ = frozenset({
        "created_at", "updated_at", "version", "next_due_at", "last_run_at", "last_result", "age_check",
        "bladed_listings", "risky_listings", "prohibited", "prohibited_count", "verdict_listing_id",
        "verdict_policy_id",
        "verdict_reason", "check_requested_at", "check_requested_by", "lease_owner", "lease_expires_at",
        "run_started_at", "progress_done", "progress_total", "verdict_at", "target_group", "target_weight",
        "online_failures", "rra_active"})
    __table_args__ = (
        # The scheduler's "what is due" query, overdue first.
        sa.Index("ix_store_monitor_due", "enabled", "next_due_at"),
        sa.Index("ix_store_monitor_requested", "check_requested_at"),
        sa.Index("ix_store_monitor_lease", "lease_expires_at"),
        # The targets page: stores whose verdict is weak/none or who sell prohibited items.
        sa.Index("ix_store_monitor_verdict", "age_check", "risky_listings"),
        # The targets page's ranking, read from the index alone (issue 15): targets only have a group.
        sa.Index("ix_store_monitor_target_rank", "target_group", "target_weight", "online_failures", "rra_active",
                 "online_store_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    online_store_id: Mapped[int] = mapped_column(sa.ForeignKey("online_store.id", ondelete="CASCADE"),
                                                 nullable=False, unique=True)
    # Settings (edited by officers)
    start_urls: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")  # one per line
    interval_hours: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=DEFAULT_INTERVAL_HOURS)
    listing_cap: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=DEFAULT_LISTING_CAP)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    # The store builds its pages with JavaScript: fetch them with headless Chromium (issue 13 part 6).
    needs_browser: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    # Scheduling
    next_due_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    check_requested_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())  # "check now"
    check_requested_by: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    lease_owner: Mapped[Optional[str]] = mapped_column(sa.String(120))
    lease_expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    run_started_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    progress_done: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    progress_total: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    last_run_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    last_result: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    # Store-level verdict: the weakest age check among its bladed listings, lifted by its policy pages.
    age_check: Mapped[Optional[str]] = mapped_column(sa.String(8))
    bladed_listings: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    risky_listings: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)  # bladed, weak/none
    # A strong verdict whose wording covers every bladed listing at sale (s.141B condition A). False: the only real
    # check is at delivery (condition C), so the store is still a target, after those with no or a weak check.
    check_at_sale: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    prohibited: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    prohibited_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)  # listings with one
    verdict_listing_id: Mapped[Optional[int]] = mapped_column(sa.Integer)  # weakest bladed listing
    verdict_policy_id: Mapped[Optional[int]] = mapped_column(sa.Integer)  # policy page that lifted the verdict
    verdict_reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    verdict_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # The online test purchase targets' ranking, kept by scrapers.targets.refresh_ranking() whenever scores are
    # recomputed (after each commit touching the store, its business, a test purchase or an RRA; nightly for all),
    # so the targets page sorts stored numbers instead of counting failures and RRAs for every store (issue 15).
    # target_group: 0 no age check, 1 weak, 2 a real check only at delivery or prohibited items; NULL: not a target.
    target_group: Mapped[Optional[int]] = mapped_column(sa.SmallInteger)
    target_weight: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0, server_default="0")
    online_failures: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0, server_default="0")
    rra_active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False, server_default=sa.false())

    store = relationship("OnlineStore", lazy="joined")

    @property
    def start_url_list(self) -> list[str]:
        return [line.strip() for line in (self.start_urls or "").splitlines() if line.strip()]

    @property
    def running(self) -> bool:
        return bool(self.lease_expires_at and self.lease_expires_at > utcnow())

    @property
    def age_label(self) -> str:
        return AGE_LABELS.get(self.age_check or "", "Not known yet")


class Listing(db.Model):
    """A page of an online store the monitor watches, with its current (last good) verdict."""

    __tablename__ = "listing"
    __table_args__ = (
        sa.UniqueConstraint("online_store_id", "url", name="uq_listing_store_url"),
        sa.Index("ix_listing_store_kind", "online_store_id", "kind"),
        sa.Index("ix_listing_targets", "online_store_id", "bladed", "age_check"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    online_store_id: Mapped[int] = mapped_column(sa.ForeignKey("online_store.id", ondelete="CASCADE"),
                                                 nullable=False)
    url: Mapped[str] = mapped_column(sa.String(1000), nullable=False)
    kind: Mapped[ListingKind] = mapped_column(enum_column(ListingKind, name="listing_kind"), nullable=False,
                                              default=ListingKind.PRODUCT)
    title: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    added_by_hand: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    added_by: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    # Current verdict: from the last check that produced one (a failed fetch leaves it alone).
    bladed: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    age_check: Mapped[Optional[str]] = mapped_column(sa.String(8))
    prohibited: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    cues: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    # The s.141B conditions a strong age check covers: "A" (a check at sale), "C" (delivery into an adult's hands).
    conditions: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    rules_version: Mapped[str] = mapped_column(sa.String(32), nullable=False, default="")
    verdict_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    last_good_check_id: Mapped[Optional[int]] = mapped_column(sa.Integer)
    # The most recent fetch, good or bad, and the validators for the next conditional request.
    last_checked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    last_status: Mapped[Optional[int]] = mapped_column(sa.Integer)
    last_error: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    etag: Mapped[Optional[str]] = mapped_column(sa.String(300))
    last_modified: Mapped[Optional[str]] = mapped_column(sa.String(100))
    content_hash: Mapped[Optional[str]] = mapped_column(sa.String(64))

    store = relationship("OnlineStore")

    @property
    def kind_label(self) -> str:
        return LISTING_KIND_LABELS[self.kind]

    @property
    def age_label(self) -> str:
        return AGE_LABELS.get(self.age_check or "", "Not checked yet")


class ListingCheck(db.Model):
    """One fetch of a listing: what came back and what the classifier made of it."""

    __tablename__ = "listing_check"
    __table_args__ = (sa.Index("ix_listing_check_listing", "listing_id", "checked_at"),
                      sa.Index("ix_listing_check_store", "online_store_id", "checked_at"),
                      # Removing old evidence sets this NULL on the checks that pointed at it (ON DELETE SET NULL):
                      # without an index, each removed page would scan the whole table.
                      sa.Index("ix_listing_check_evidence", "evidence_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(sa.ForeignKey("listing.id", ondelete="CASCADE"), nullable=False)
    online_store_id: Mapped[int] = mapped_column(sa.ForeignKey("online_store.id", ondelete="CASCADE"),
                                                 nullable=False)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    final_url: Mapped[str] = mapped_column(sa.String(1000), nullable=False, default="")
    http_status: Mapped[Optional[int]] = mapped_column(sa.Integer)
    not_modified: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    changed: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    content_hash: Mapped[Optional[str]] = mapped_column(sa.String(64))
    etag: Mapped[Optional[str]] = mapped_column(sa.String(300))
    last_modified: Mapped[Optional[str]] = mapped_column(sa.String(100))
    bladed: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    age_check: Mapped[Optional[str]] = mapped_column(sa.String(8))
    prohibited: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    cues: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    rules_version: Mapped[str] = mapped_column(sa.String(32), nullable=False, default="")
    error: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    # zlib-compressed page text, kept only when the content changed since the previous check.
    page_text: Mapped[Optional[bytes]] = mapped_column(sa.LargeBinary)
    # The exact page this check saw (or, for a 304, the page it confirmed unchanged): issue 13 part 5.
    evidence_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("listing_evidence.id", ondelete="SET NULL"))

    listing = relationship(Listing)

    @property
    def text(self) -> str | None:
        return zlib.decompress(self.page_text).decode("utf-8") if self.page_text else None

    @property
    def ok(self) -> bool:
        return not self.error


class ListingEvidence(db.Model):
    """A page exactly as the monitor fetched it, for the online test-purchase file (issue 13 part 5).

    One row per distinct page of a listing: the body as received (gzip-compressed), its SHA-256 (of the
    uncompressed bytes, so `gunzip | sha256sum` checks it), when it was first and last fetched; for a listing with a
    finding, a full-page screenshot by headless Chromium of that same HTML, with its own hash. Never updated once
    written, except the last fetch time and the screenshot being added.
    """

    __tablename__ = "listing_evidence"
    __table_args__ = (sa.UniqueConstraint("listing_id", "sha256", name="uq_listing_evidence_page"),
                      sa.Index("ix_listing_evidence_store", "online_store_id", "first_fetched_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(sa.ForeignKey("listing.id", ondelete="CASCADE"), nullable=False)
    online_store_id: Mapped[int] = mapped_column(sa.ForeignKey("online_store.id", ondelete="CASCADE"),
                                                 nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    html_gz: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    final_url: Mapped[str] = mapped_column(sa.String(1000), nullable=False, default="")
    http_status: Mapped[Optional[int]] = mapped_column(sa.Integer)
    content_type: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    first_fetched_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    last_fetched_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    screenshot_png: Mapped[Optional[bytes]] = mapped_column(sa.LargeBinary)
    screenshot_sha256: Mapped[Optional[str]] = mapped_column(sa.String(64))
    screenshot_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # Why there is no screenshot (Chromium missing, the page would not render): tried once per page.
    screenshot_error: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    listing = relationship(Listing)

    @property
    def html(self) -> bytes:
        return gzip.decompress(self.html_gz)


class MonitorRun(db.Model):
    """One check of a whole store (start pages, discovery, every listing): its progress and result."""

    __tablename__ = "monitor_run"
    __table_args__ = (sa.Index("ix_monitor_run_store", "online_store_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    online_store_id: Mapped[int] = mapped_column(sa.ForeignKey("online_store.id", ondelete="CASCADE"),
                                                 nullable=False)
    trigger: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="schedule")
    worker: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    pages: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    changed: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    errors: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    age_check: Mapped[Optional[str]] = mapped_column(sa.String(8))
    bladed_listings: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    prohibited: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    summary: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")


class MonitorAlert(db.Model):
    """A change an officer should look at: a store's age check got worse, or a prohibited item appeared."""

    __tablename__ = "monitor_alert"
    __table_args__ = (sa.Index("ix_monitor_alert_open", "acknowledged_at", "raised_at"),
                      sa.Index("ix_monitor_alert_store", "online_store_id", "raised_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    online_store_id: Mapped[int] = mapped_column(sa.ForeignKey("online_store.id", ondelete="CASCADE"),
                                                 nullable=False)
    listing_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("listing.id", ondelete="SET NULL"))
    kind: Mapped[AlertKind] = mapped_column(enum_column(AlertKind, name="alert_kind"), nullable=False)
    before: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    after: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    detail: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    acknowledged_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    acknowledged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    store = relationship("OnlineStore")
    listing = relationship(Listing)
    acknowledged_by = relationship("User")

    @property
    def kind_label(self) -> str:
        return ALERT_LABELS[self.kind]


class SchedulerJob(db.Model):
    """Once-a-day jobs shared by every scheduler process: whoever moves `last_run_on` forward runs the job."""

    __tablename__ = "scheduler_job"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    last_run_on: Mapped[Optional[str]] = mapped_column(sa.String(10))  # ISO date, Europe/London
    last_owner: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    last_started_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")


def compress_text(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), 6)
