"""One guarded HTTP exchange under its hard time limit: per-thread sessions, sending, reading capped bodies."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

import requests
from urllib3.exceptions import HTTPError as Urllib3Error

from .address_guard import BlockedAddressError, _AddressGuard, _GuardedAdapter
from .deadlines import STOPPED, _Budget, _Deadline
from .decoding import _gunzip_capped, _looks_like_markup
from .settings import FetchSettings

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Bodies are read one socket read at a time (at most this much), so the time limit is checked as bytes arrive
# rather than after a full buffer, which a server dripping a byte a second would never fill.
_READ_CHUNK = 16 * 1024
_GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip"})


@dataclass
class _Response:
    """One HTTP exchange, already closed; body is set only when we decided to read it."""

    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    truncated: bool = False
    skipped_reason: str | None = None
    error: str | None = None
    retryable: bool = False


class _TransportMixin:
    """Fetcher's HTTP exchanges: a session per thread, and one GET at a time under a hard time limit."""

    settings: FetchSettings
    _guard: _AddressGuard
    _lock: threading.Lock
    _local: threading.local
    _sessions: list[requests.Session]
    _cancelled: threading.Event
    _inflight: set[_Deadline]

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            # Environment proxies would carry our requests past the address guard, and .netrc could leak
            # credentials to shops, so the environment is ignored entirely.
            session.trust_env = False
            session.headers["User-Agent"] = self.settings.user_agent
            session.headers["Accept-Language"] = "en-GB,en;q=0.8"
            adapter = _GuardedAdapter(self._guard)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _send(
        self,
        url: str,
        headers: Mapping[str, str],
        accept: tuple[str, ...] | None,
        max_bytes: int,
        keep_partial: bool,
    ) -> _Response:
        """One GET under the fetch's time limit. Reads the body only if it is a 2xx of an accepted type."""
        settings = self.settings
        if self._cancelled.is_set():
            return _Response(error=STOPPED)
        budget: _Budget | None = getattr(self._local, "budget", None)
        started = settings.clock()
        limit = settings.total_timeout if budget is None else budget.left(started)
        if limit <= 0:
            return _Response(error=f"time limit reached: no time left of this fetch's {settings.total_timeout:g} s")
        deadline = _Deadline(limit, f"time limit reached: no complete answer within {limit:.3g} s")
        with self._lock:
            self._inflight.add(deadline)
        if self._cancelled.is_set():
            deadline.expire(STOPPED)
        self._guard.local.deadline = deadline
        deadline.start()
        try:
            return self._exchange(url, headers, accept, max_bytes, keep_partial, deadline)
        finally:
            deadline.finish()
            self._guard.local.deadline = None
            with self._lock:
                self._inflight.discard(deadline)
            if budget is not None:
                budget.network_left -= settings.clock() - started

    def _exchange(
        self,
        url: str,
        headers: Mapping[str, str],
        accept: tuple[str, ...] | None,
        max_bytes: int,
        keep_partial: bool,
        deadline: _Deadline,
    ) -> _Response:
        settings = self.settings
        try:
            resp = self._session().get(
                url,
                headers=dict(headers),
                stream=True,
                allow_redirects=False,
                timeout=(settings.connect_timeout, settings.read_timeout),
            )
        except BlockedAddressError as exc:
            return _Response(error=str(exc))
        except (requests.RequestException, ValueError, UnicodeError, OSError) as exc:
            if deadline.expired:  # the watchdog shut the socket: not a network blip worth retrying
                return _Response(error=deadline.expired)
            if isinstance(exc, requests.Timeout | requests.ConnectionError):
                return _Response(error=f"connection failed: {_short(exc)}", retryable=True)
            return _Response(error=f"request failed: {_short(exc)}")

        with resp:  # closing a streamed response drops the connection without reading the rest
            out = _Response(status=resp.status_code, headers=resp.headers)
            if resp.status_code in RETRYABLE_STATUSES:
                out.error = f"HTTP {resp.status_code}"
                out.retryable = True
                return out
            if not 200 <= resp.status_code < 300:
                return out

            mime = (resp.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
            sniff_html = False
            if accept is not None and mime not in accept:
                if mime == "text/plain" and "text/html" in accept:
                    sniff_html = True  # some shops serve HTML as text/plain; check before trusting it
                elif mime in _GZIP_TYPES and any("xml" in a for a in accept):
                    pass  # gzipped sitemap: read and inflate below
                elif mime:
                    out.skipped_reason = f"content type {mime}"
                    return out  # a binary is never downloaded

            declared = resp.headers.get("Content-Length", "")
            if not keep_partial and declared.isdigit() and int(declared) > max_bytes:
                out.truncated = True
                out.skipped_reason = f"body over {max_bytes} bytes"
                return out

            body = bytearray()
            try:
                while not deadline.expired:
                    # One socket read each time (urllib3's read1), content-decoded and capped in size.
                    chunk = resp.raw.read1(_READ_CHUNK, decode_content=True)
                    if not chunk:
                        break
                    body += chunk
                    if len(body) > max_bytes:
                        del body[max_bytes:]
                        out.truncated = True
                        out.skipped_reason = f"body over {max_bytes} bytes"
                        break
            except (requests.RequestException, Urllib3Error, OSError) as exc:
                if deadline.expired:
                    out.error = deadline.expired
                    return out
                out.error = f"connection failed while reading body: {_short(exc)}"
                out.retryable = True
                return out
            if deadline.expired:  # a shut-down socket can also look like a clean end of the body
                out.error = deadline.expired
                return out

        data = bytes(body)
        if mime in _GZIP_TYPES and accept is not None and not out.truncated:
            data, out.truncated = _gunzip_capped(data, max_bytes)
            if out.truncated:
                out.skipped_reason = f"body over {max_bytes} bytes"
        elif (
            accept is not None
            and (sniff_html or not mime)
            and not _looks_like_markup(data, html_only=sniff_html)
        ):
            out.skipped_reason = f"content type {mime or '(none)'} does not look like a page"
            return out
        out.body = data
        return out


def _short(exc: BaseException) -> str:
    """A one-line reason from requests' deeply nested exception messages."""
    text = str(exc) or exc.__class__.__name__
    for marker in ("Connection refused", "timed out", "Name or service not known", "Failed to resolve"):
        if marker in text:
            return f"{exc.__class__.__name__}: {marker}"
    return text if len(text) <= 200 else text[:197] + "..."
