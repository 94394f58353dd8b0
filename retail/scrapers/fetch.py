"""Polite, SSRF-guarded HTTP fetching for the listing monitor: robots.txt, per-host delays, retries, size caps,
and a hard time limit on every fetch.

The parts live in sibling modules, lowest first: `settings` (FetchSettings), `urls`, `deadlines` (time limits),
`decoding` (charsets), `address_guard` (the SSRF guard) and `transport` (one HTTP exchange); this module keeps the
Fetcher's policy (redirects, retries, per-host politeness, robots.txt) and re-exports their public names.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Self
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from protego import Protego

from .address_guard import (
    SPECIAL_PURPOSE_IPV4,
    SPECIAL_PURPOSE_IPV6,
    BlockedAddressError,
    _AddressGuard,
    is_loopback_address,
    is_public_address,
)
from .deadlines import STOPPED, _Budget, _Deadline
from .decoding import MAX_GARBLED_SHARE, decode_body, garbled_reason
from .settings import FetchSettings, Resolver, system_resolver
from .transport import RETRYABLE_STATUSES, _Response, _TransportMixin
from .urls import _DEFAULT_PORTS, host_key, normalise_url

__all__ = [
    "HTML_TYPES",
    "MAX_GARBLED_SHARE",
    "REDIRECT_STATUSES",
    "RETRYABLE_STATUSES",
    "ROBOTS_MAX_BYTES",
    "SITEMAP_TYPES",
    "SPECIAL_PURPOSE_IPV4",
    "SPECIAL_PURPOSE_IPV6",
    "STOPPED",
    "BlockedAddressError",
    "FetchResult",
    "FetchSettings",
    "Fetcher",
    "Resolver",
    "decode_body",
    "garbled_reason",
    "host_key",
    "is_loopback_address",
    "is_public_address",
    "normalise_url",
    "parse_retry_after",
    "system_resolver",
]

log = logging.getLogger(__name__)

#: Content types a page fetch keeps text for, unless the caller asks for others.
HTML_TYPES: tuple[str, ...] = ("text/html", "application/xhtml+xml")
#: Content types worth keeping when fetching a sitemap (plain, XML or gzipped XML).
SITEMAP_TYPES: tuple[str, ...] = (
    "application/xml",
    "text/xml",
    "text/plain",
    "application/gzip",
    "application/x-gzip",
)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# RFC 9309 asks crawlers to parse at least 500 KiB of robots.txt; more than that is not a real file.
ROBOTS_MAX_BYTES = 512 * 1024


@dataclass
class FetchResult:
    """The outcome of one fetch. Problems are reported in ``error``/``skipped_reason``; fetches never raise."""

    url: str
    final_url: str
    status: int | None = None
    content_type: str | None = None  # media type only, lower-case, no parameters
    encoding: str | None = None  # Python codec actually used to decode ``text``
    text: str | None = None
    content_hash: str | None = None  # sha256 hex of the (content-decoded) body; None unless fully read
    body: bytes | None = field(default=None, repr=False)  # that body, kept as evidence of what the page said
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    truncated: bool = False
    skipped_reason: str | None = None
    error: str | None = None
    elapsed: float = 0.0
    redirects: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the fetch produced usable text."""
        return self.error is None and self.text is not None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None if absent/garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


# --------------------------------------------------------------------------- fetcher internals


@dataclass
class _HostState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_allowed: float = 0.0  # clock value before which no request to this host may start
    crawl_delay: float = 0.0  # from robots.txt; only ever raises the configured minimum


@dataclass
class _RobotsEntry:
    parser: Protego | None  # None means "allow everything"
    unavailable: str | None  # reason when robots.txt could not be read: everything is disallowed
    expires: float


class _HostBusy(Exception):
    pass


class Fetcher(_TransportMixin):
    """Fetches pages politely: robots.txt, one request at a time per host, delays, retries, SSRF checks.

    Thread-safe: share one instance across a thread pool. Different hosts run in parallel; requests to the
    same host are serialised and spaced out.
    """

    def __init__(self, settings: FetchSettings | None = None) -> None:
        self.settings = settings or FetchSettings()
        self._guard = _AddressGuard(self.settings)
        self._lock = threading.Lock()  # guards the dictionaries below, never held during I/O
        self._hosts: dict[str, _HostState] = {}
        self._robots: dict[str, _RobotsEntry] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        # requests.Session is not documented as thread-safe, so each worker thread gets its own.
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._cancelled = threading.Event()
        self._inflight: set[_Deadline] = set()

    # ----------------------------------------------------------------- public API

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: tuple[str, ...] = HTML_TYPES,
        time_limit: float | None = None,
    ) -> FetchResult:
        """Fetch ``url`` following redirects by hand; never raises for network or HTTP trouble.

        Spends at most ``settings.total_timeout`` seconds on the network; ``time_limit`` (the time left for the
        caller's whole job) also bounds the waits for the host's turn.
        """
        clock = self.settings.clock
        started = clock()
        result = FetchResult(url=url, final_url=url)
        try:
            with self._budget(time_limit):
                self._fetch_into(result, etag=etag, last_modified=last_modified, accept=accept)
        except Exception as exc:  # last line of defence: one odd page must not kill a monitoring run
            log.exception("unexpected error fetching %s", url)
            result.error = f"unexpected error: {exc!r}"
            result.text = None
        result.elapsed = clock() - started
        return result

    def robots_allowed(self, url: str) -> bool:
        """True if robots.txt for the URL's origin lets us fetch it (fetching robots.txt if not cached)."""
        if self._check_url(url) is not None:
            return False
        with self._budget(None):
            return self._robots_verdict(url) is None

    def cancel(self) -> None:
        """Stop for good: requests in flight end at once, waits are cut short, and later fetches fail at once."""
        self._cancelled.set()
        with self._lock:
            inflight = list(self._inflight)
        for deadline in inflight:
            deadline.expire(STOPPED)

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @contextmanager
    def _budget(self, time_limit: float | None) -> Iterator[_Budget]:
        budget: _Budget | None = getattr(self._local, "budget", None)
        if budget is not None:  # robots.txt fetched on the way: part of the same fetch
            yield budget
            return
        hard_end = None if time_limit is None else self.settings.clock() + time_limit
        budget = self._local.budget = _Budget(self.settings.total_timeout, hard_end)
        try:
            yield budget
        finally:
            self._local.budget = None

    def _wait(self, seconds: float) -> None:
        # The real clock's sleep is replaced by a wait that cancel() interrupts; tests inject their own sleep.
        if self.settings.sleep is time.sleep:
            self._cancelled.wait(seconds)
        else:
            self.settings.sleep(seconds)

    def close(self) -> None:
        """Close the connection pools of every thread's session."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----------------------------------------------------------------- fetch pipeline

    def _fetch_into(
        self, result: FetchResult, *, etag: str | None, last_modified: str | None, accept: tuple[str, ...]
    ) -> None:
        headers: dict[str, str] = {"Accept": ", ".join((*accept, "*/*;q=0.1"))}
        # Sent on every hop: the stored validators belong to the final page, which is where they matter.
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified

        url, response, failure = self._follow(
            result.url, headers, accept=accept, check_robots=True, redirects=result.redirects,
            max_bytes=self.settings.max_bytes, keep_partial=False,
        )
        result.final_url = url
        if failure is not None:
            kind, message = failure
            if kind == "skip":
                result.skipped_reason = message
            else:
                result.error = message
        if response is None:
            return

        result.status = response.status
        headers_in = response.headers
        content_type_header = headers_in.get("Content-Type")
        if content_type_header:
            result.content_type = content_type_header.split(";", 1)[0].strip().lower() or None
        result.etag = headers_in.get("ETag")
        result.last_modified = headers_in.get("Last-Modified")
        result.truncated = response.truncated
        if response.skipped_reason and not result.skipped_reason:
            result.skipped_reason = response.skipped_reason
        if response.error and not result.error:
            result.error = response.error

        if response.status == 304:
            result.not_modified = True
            return
        if result.error is None and response.status is not None and not 200 <= response.status < 300:
            result.error = f"HTTP {response.status}"
        if result.error or response.body is None:
            return
        # A truncated page is dropped rather than half-classified: a missing delivery policy in the cut-off
        # part would look like "no age check". The flag and skipped_reason tell the officer why.
        if response.truncated:
            return
        body = response.body
        result.content_hash = hashlib.sha256(body).hexdigest()
        result.body = body
        text, result.encoding = decode_body(body, content_type_header)
        # Binary sent as text/html, or a page in another charset than it declares, would be classified as a
        # page without age-check wording; as a failed fetch it leaves the listing's last good verdict alone.
        problem = garbled_reason(text, result.encoding)
        if problem is not None:
            result.error = problem
            return
        result.text = text

    def _follow(
        self,
        url: str,
        headers: Mapping[str, str],
        *,
        accept: tuple[str, ...] | None,
        check_robots: bool,
        redirects: list[str],
        max_bytes: int,
        keep_partial: bool,
    ) -> tuple[str, _Response | None, tuple[str, str] | None]:
        """Follow redirects manually, re-checking scheme, SSRF and robots.txt on every hop.

        Returns (final url, last response or None, failure) where failure is ("skip"|"error", message).
        """
        current = normalise_url(url) if urlsplit(url.strip()).scheme.lower() in _DEFAULT_PORTS else url
        seen = {current}
        while True:
            problem = self._check_url(current)
            if problem is not None:
                prefix = f"redirect to {current} " if redirects else ""
                return current, None, ("error", prefix + problem)
            if check_robots:
                verdict = self._robots_verdict(current)
                if verdict is not None:
                    return current, None, verdict
            response = self._request_with_retries(current, headers, accept, max_bytes, keep_partial)
            if response.status not in REDIRECT_STATUSES:
                return current, response, None
            location = response.headers.get("Location")
            if not location:
                return current, response, ("error", f"HTTP {response.status} redirect without a Location header")
            target = urljoin(current, location.strip())
            if urlsplit(target).scheme.lower() in _DEFAULT_PORTS:
                target = normalise_url(target)
            if len(redirects) >= self.settings.max_redirects:
                return current, response, ("error", f"too many redirects (more than {self.settings.max_redirects})")
            if target in seen:
                return current, response, ("error", f"redirect loop back to {target}")
            seen.add(target)
            redirects.append(target)
            current = target

    def _check_url(self, url: str) -> str | None:
        """Why we will not request this URL at all, or None. Makes no network access beyond DNS."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            return f"refused: invalid URL ({exc})"
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            return f"refused: unsupported URL scheme {scheme or '(none)'!r}; only http and https are fetched"
        host = parts.hostname
        if not host:
            return "refused: URL has no host"
        # Credentials and backslashes are where URL parsers disagree about the real host; no shop needs them.
        if parts.username is not None or parts.password is not None or "\\" in parts.netloc:
            return "refused: URL contains credentials or a backslash in the host part"
        try:
            self._guard.resolve_checked(host, port or _DEFAULT_PORTS[scheme])
        except BlockedAddressError as exc:
            return str(exc)
        except (OSError, UnicodeError, ValueError) as exc:
            return f"could not resolve host {host!r}: {exc}"
        return None

    def _request_with_retries(
        self,
        url: str,
        headers: Mapping[str, str],
        accept: tuple[str, ...] | None,
        max_bytes: int,
        keep_partial: bool,
    ) -> _Response:
        settings = self.settings
        key = host_key(url)
        response = _Response()
        for attempt in range(settings.max_retries + 1):
            try:
                with self._host_slot(key) as state:
                    response = self._send(url, headers, accept, max_bytes, keep_partial)
                    if not response.retryable:
                        return response
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    if retry_after is not None and retry_after > settings.max_retry_after:
                        # Still honour it for everyone else using this host, but do not block on it.
                        state.next_allowed = max(state.next_allowed, settings.clock() + retry_after)
                        response.error = (
                            f"{response.error}; server asked to retry after {retry_after:.0f} s, "
                            f"more than the {settings.max_retry_after:.0f} s cap, so giving up for now"
                        )
                        return response
                    wait = retry_after if retry_after is not None else settings.backoff_base * 2**attempt
                    # Pushing the host's next slot (not sleeping here) makes every thread respect the backoff.
                    state.next_allowed = max(state.next_allowed, settings.clock() + wait)
            except _HostBusy as exc:
                response.error = str(exc)
                response.retryable = False
                return response
        response.error = f"{response.error} (gave up after {settings.max_retries} retries)"
        return response

    @contextmanager
    def _host_slot(self, key: str) -> Iterator[_HostState]:
        """Hold the host's lock for one request, after waiting out its delay; reschedule the host afterwards."""
        settings = self.settings
        with self._lock:
            state = self._hosts.setdefault(key, _HostState())
        budget: _Budget | None = getattr(self._local, "budget", None)
        hard_end = budget.hard_end if budget is not None else None
        # Another thread holds the host for one request at most (its own time limit), plus its wait.
        lock_timeout = -1.0 if hard_end is None else max(0.0, hard_end - settings.clock())
        if not state.lock.acquire(timeout=lock_timeout):
            raise _HostBusy(f"host {key} stayed busy until the time limit of this check")
        try:
            wait = state.next_allowed - settings.clock()
            if wait > settings.max_host_wait:
                raise _HostBusy(
                    f"host {key} asks us to wait {wait:.0f} s (over the {settings.max_host_wait:.0f} s limit); "
                    "try again later"
                )
            if hard_end is not None and wait > hard_end - settings.clock():
                raise _HostBusy(f"host {key} asks us to wait {wait:.0f} s, past the time limit of this check")
            if wait > 0:
                self._wait(wait)
            if self._cancelled.is_set():
                raise _HostBusy(STOPPED)
            try:
                yield state
            finally:
                # Measured from the end of the request, and never shortened by errors or retries.
                delay = max(settings.min_host_delay, state.crawl_delay)
                state.next_allowed = max(state.next_allowed, settings.clock() + delay)
        finally:
            state.lock.release()

    # ----------------------------------------------------------------- robots.txt

    def _robots_verdict(self, url: str) -> tuple[str, str] | None:
        """None if robots.txt allows the URL, else ("skip"|"error", message).

        A rule that forbids the page is a deliberate skip; an unreadable robots.txt is an error, because
        the monitor should try again later rather than record the page as off limits.
        """
        entry = self._robots_entry(host_key(url), url)
        if entry.unavailable is not None:
            return "error", f"robots.txt unavailable ({entry.unavailable}); not fetching from this host for now"
        if entry.parser is not None and not entry.parser.can_fetch(url, self.settings.user_agent):
            return "skip", "robots.txt disallows"
        return None

    def _robots_entry(self, key: str, url: str) -> _RobotsEntry:
        clock = self.settings.clock
        with self._lock:
            entry = self._robots.get(key)
            if entry is not None and entry.expires > clock():
                return entry
            robots_lock = self._robots_locks.setdefault(key, threading.Lock())
        # One fetch per origin even when several threads ask at once; the others wait and reuse it.
        with robots_lock:
            with self._lock:
                entry = self._robots.get(key)
            if entry is not None and entry.expires > clock():
                return entry
            entry = self._load_robots(key, url)
            with self._lock:
                self._robots[key] = entry
            return entry

    def _load_robots(self, key: str, url: str) -> _RobotsEntry:
        settings = self.settings
        parts = urlsplit(url)
        robots_url = urlunsplit((parts.scheme.lower(), parts.netloc, "/robots.txt", "", ""))
        _, response, failure = self._follow(
            robots_url, {"Accept": "text/plain, */*;q=0.1"}, accept=None, check_robots=False,
            redirects=[], max_bytes=ROBOTS_MAX_BYTES, keep_partial=True,
        )
        now = settings.clock()
        status = response.status if response is not None else None
        if failure is not None or response is None or response.error:
            # Google's rule: an unreachable robots.txt means "do not crawl for now".
            reason = failure[1] if failure is not None else (response.error if response else "no response")
            return _RobotsEntry(None, reason, now + settings.robots_error_ttl)
        if status is not None and 400 <= status < 500:
            return _RobotsEntry(None, None, now + settings.robots_ttl)  # no robots.txt: everything allowed
        if status is None or not 200 <= status < 300:
            return _RobotsEntry(None, f"HTTP {status}", now + settings.robots_error_ttl)
        text = (response.body or b"").decode("utf-8", errors="replace")
        parser = Protego.parse(text)
        delay = parser.crawl_delay(settings.user_agent) or 0.0
        rate = parser.request_rate(settings.user_agent)
        if rate is not None and rate.requests:
            delay = max(delay, rate.seconds / rate.requests)
        with self._lock:
            state = self._hosts.setdefault(key, _HostState())
        state.crawl_delay = float(delay)  # effective delay is max(min_host_delay, this): it never lowers ours
        return _RobotsEntry(parser, None, now + settings.robots_ttl)
