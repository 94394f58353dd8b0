"""Polite, SSRF-guarded HTTP fetching for the listing monitor: robots.txt, per-host delays, retries, size caps,
and a hard time limit on every fetch."""

from __future__ import annotations

import codecs
import email.utils
import hashlib
import ipaddress
import logging
import os
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Self
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from protego import Protego
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
)
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util import connection as urllib3_connection

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

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# RFC 9309 asks crawlers to parse at least 500 KiB of robots.txt; more than that is not a real file.
ROBOTS_MAX_BYTES = 512 * 1024
# Bodies are read one socket read at a time (at most this much), so the time limit is checked as bytes arrive
# rather than after a full buffer, which a server dripping a byte a second would never fill.
_READ_CHUNK = 16 * 1024
_GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` to the distinct IP addresses a TCP connection could use."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True, kw_only=True)
class FetchSettings:
    """Everything the fetcher needs; the Flask app builds this from its config so this module stays Flask-free."""

    # "{contact_url}" is filled in from contact_url; with no contact URL the "(+...)" part is dropped.
    user_agent: str = "KnifeRetailComplianceTracker/1.0 (+{contact_url})"
    contact_url: str = ""
    connect_timeout: float = 5.0
    # Per socket read: cuts off a server that goes silent, but not one that drips a byte now and then.
    read_timeout: float = 20.0
    # The hard limit on the network time of one fetch() (connect, TLS, headers and body of every redirect hop,
    # retry and its robots.txt), enforced by shutting the socket down when it passes. Waiting for the host's turn
    # (politeness delays, backoff) is not network time: each wait is bounded by max_host_wait, and by the
    # caller's time_limit when one is given.
    total_timeout: float = 60.0
    max_bytes: int = 5 * 1024 * 1024
    min_host_delay: float = 5.0
    max_retries: int = 3
    backoff_base: float = 1.0
    max_retry_after: float = 120.0
    # If a host asks us (Crawl-delay, Retry-After) to wait longer than this before the next request,
    # the fetch fails fast with an error and the monitor tries again on a later run.
    max_host_wait: float = 300.0
    # Loopback (127.0.0.0/8, ::1) may be fetched: the demo shop and the tests. Every other non-public address
    # is refused whatever this says.
    allow_loopback: bool = False
    # "host:port" pairs (IPv6 as "[::1]:8080") that may resolve to loopback even when allow_loopback is False.
    allowed_loopback_hosts: frozenset[str] = frozenset()
    max_redirects: int = 5
    robots_ttl: float = 24 * 3600.0
    # A robots.txt that failed (5xx, network) blocks the host, but only briefly so a blip does not cost a day.
    robots_error_ttl: float = 15 * 60.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    resolver: Resolver = system_resolver

    def __post_init__(self) -> None:
        if "{contact_url}" in self.user_agent:
            if self.contact_url:
                agent = self.user_agent.replace("{contact_url}", self.contact_url)
            else:
                agent = self.user_agent.replace("(+{contact_url})", "").replace("{contact_url}", "").strip()
            object.__setattr__(self, "user_agent", agent)


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


# --------------------------------------------------------------------------- URLs


def normalise_url(url: str) -> str:
    """Canonical form used for de-duplication and loop detection: drop fragment, keep query."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    path = parts.path or ("/" if scheme in _DEFAULT_PORTS else "")
    try:
        port = parts.port
    except ValueError:  # leave a bad port in place so the fetch refuses it rather than silently using :80
        return urlunsplit((scheme, parts.netloc, path, parts.query, ""))
    netloc = host
    if parts.username or parts.password:
        userinfo = parts.username or ""
        if parts.password:
            userinfo += ":" + parts.password
        netloc = f"{userinfo}@{netloc}"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def host_key(url: str) -> str:
    """Politeness and robots.txt key: scheme://host:port, with the default port filled in.

    Scheme and port are part of the key because robots.txt is per origin (RFC 9309); it also lets tests
    treat two local servers on different ports as two hosts.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    return f"{scheme}://{host}:{port}"


# --------------------------------------------------------------------------- SSRF guard


class BlockedAddressError(Exception):
    """A URL's host resolved to an address we will not contact (deliberately not an OSError, so no retry)."""


# The IANA IPv4 and IPv6 Special-Purpose Address Registries, plus multicast and the reserved ranges: no shop is
# there. An explicit list because ipaddress.is_global has had gaps across Python versions (192.0.0.8 passes it on
# some). Whole blocks are refused even where the registry marks a few addresses in them globally reachable
# (192.0.0.9, AS112, AMT): those are infrastructure, not shops.
SPECIAL_PURPOSE_IPV4 = tuple(ipaddress.IPv4Network(net) for net in (
    "0.0.0.0/8",  # "this network"
    "10.0.0.0/8",  # private (RFC 1918)
    "100.64.0.0/10",  # shared address space, carrier-grade NAT (RFC 6598)
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local, where cloud metadata services live (169.254.169.254)
    "172.16.0.0/12",  # private
    "192.0.0.0/24",  # IETF protocol assignments: 192.0.0.8 dummy, DS-Lite, NAT64 discovery...
    "192.0.2.0/24",  # documentation (TEST-NET-1)
    "192.31.196.0/24",  # AS112-v4
    "192.52.193.0/24",  # AMT
    "192.88.99.0/24",  # deprecated 6to4 relay anycast
    "192.168.0.0/16",  # private
    "192.175.48.0/24",  # AS112 direct delegation
    "198.18.0.0/15",  # benchmarking
    "198.51.100.0/24",  # documentation (TEST-NET-2)
    "203.0.113.0/24",  # documentation (TEST-NET-3)
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, and 255.255.255.255 broadcast
))
SPECIAL_PURPOSE_IPV6 = tuple(ipaddress.IPv6Network(net) for net in (
    "::/128",  # unspecified
    "::1/128",  # loopback
    "::/96",  # IPv4-compatible (deprecated)
    "::ffff:0:0/96",  # IPv4-mapped: would reach any IPv4 address, private ones included
    "64:ff9b::/96",  # NAT64 well-known prefix: reaches IPv4 hosts through a translator
    "64:ff9b:1::/48",  # local-use NAT64
    "100::/64",  # discard-only
    "2001::/23",  # IETF protocol assignments: Teredo, benchmarking, ORCHID...
    "2001:db8::/32",  # documentation
    "2002::/16",  # 6to4: reaches IPv4 hosts through relays
    "3fff::/20",  # documentation
    "5f00::/16",  # segment routing (SRv6) SIDs
    "fc00::/7",  # unique local
    "fe80::/10",  # link-local
    "fec0::/10",  # site-local (deprecated)
    "ff00::/8",  # multicast
))
# Everything else outside global unicast is reserved by the IETF.
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_LOOPBACK = (ipaddress.IPv4Network("127.0.0.0/8"), ipaddress.IPv6Network("::1/128"))


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return None


def is_public_address(address: str) -> bool:
    """True only for globally routable unicast addresses outside every special-purpose range."""
    ip = _ip(address)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip not in _GLOBAL_UNICAST_V6 or any(ip in net for net in SPECIAL_PURPOSE_IPV6):
            return False
    elif any(ip in net for net in SPECIAL_PURPOSE_IPV4):
        return False
    # is_global and the flags below as a second opinion, should a new special range reach Python first.
    return ip.is_global and not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def is_loopback_address(address: str) -> bool:
    """127.0.0.0/8 or ::1 (not an IPv4-mapped form, which the guard refuses outright)."""
    ip = _ip(address)
    return ip is not None and any(ip.version == net.version and ip in net for net in _LOOPBACK)


def _host_port(host: str, port: int) -> str:
    host = host.lower()
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _AddressGuard:
    """Resolves hosts and refuses non-public addresses; shared by the pre-check and the socket connect.

    Also tells the connections of this thread which time limit they run under (``local.deadline``).
    """

    def __init__(self, settings: FetchSettings) -> None:
        self._settings = settings
        self.local = threading.local()

    def deadline(self) -> _Deadline | None:
        return getattr(self.local, "deadline", None)

    def _allowed(self, host: str, port: int, address: str) -> bool:
        if is_public_address(address):
            return True
        if not is_loopback_address(address):
            return False
        return self._settings.allow_loopback or _host_port(host, port) in self._settings.allowed_loopback_hosts

    def resolve_checked(self, host: str, port: int) -> list[str]:
        """Return the addresses to connect to, or raise BlockedAddressError / socket.gaierror."""
        addresses = self._settings.resolver(host, port)
        if not addresses:
            raise socket.gaierror(f"no addresses for {host!r}")
        # Refuse if ANY address is refused: an attacker controlling DNS could otherwise mix a public
        # address with 169.254.169.254 and win whenever the connect falls through to the second one.
        for address in addresses:
            if not self._allowed(host, port, address):
                if address == host.strip("[]"):
                    raise BlockedAddressError(f"refused: {address} is not a public address")
                raise BlockedAddressError(f"refused: {host} resolves to non-public address {address}")
        return addresses


class _GuardedConnectionMixin:
    """Connects to the addresses the guard just approved, so DNS cannot be rebound between check and connect."""

    _address_guard: _AddressGuard
    host: str
    port: int
    timeout: float | None
    source_address: tuple[str, int] | None
    socket_options: list[tuple[int, int, int | bytes]] | None

    def _new_conn(self) -> socket.socket:
        # Mirrors urllib3's HTTPConnection._new_conn, except that resolution and the address check happen
        # here, immediately before connecting to the very address that was checked. TLS still uses self.host
        # for SNI and certificate checks, so pinning the IP does not weaken HTTPS.
        try:
            addresses = self._address_guard.resolve_checked(self.host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        deadline = self._address_guard.deadline()
        last_error: OSError | None = None
        for address in addresses:
            timeout = self.timeout
            if deadline is not None and isinstance(timeout, int | float):
                timeout = max(0.001, min(timeout, deadline.remaining()))
            try:
                sock = urllib3_connection.create_connection(
                    (address, self.port),
                    timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
                if deadline is not None:
                    deadline.watch(sock)  # before TLS: the handshake is under the time limit too
                return sock
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from exc
            except OSError as exc:
                last_error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")  # type: ignore[arg-type]

    def request(self, *args: object, **kwargs: object) -> None:
        # A kept-alive connection from the pool did not pass through _new_conn for this request.
        deadline = self._address_guard.deadline()
        sock = getattr(self, "sock", None)
        if deadline is not None and sock is not None:
            deadline.watch(sock)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connection pools create only guard-checked, IP-pinned connections."""

    def __init__(self, guard: _AddressGuard) -> None:
        # Per-guard subclasses because urllib3 builds connections from classes, not from instances we control.
        http_conn = type("GuardedHTTPConnection", (_GuardedConnectionMixin, HTTPConnection), {"_address_guard": guard})
        https_conn = type(
            "GuardedHTTPSConnection", (_GuardedConnectionMixin, HTTPSConnection), {"_address_guard": guard}
        )
        self._pool_classes = {
            "http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }
        super().__init__(max_retries=0)  # retries are ours: they must respect per-host politeness

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]
        self.poolmanager.pool_classes_by_scheme = self._pool_classes


# --------------------------------------------------------------------------- body decoding

_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)
# WHATWG: browsers decode these labels as windows-1252 (and GB2312 as GBK), so shops rely on it.
_CODEC_ALIASES = {"iso8859-1": "cp1252", "ascii": "cp1252", "latin-1": "cp1252", "gb2312": "gbk"}
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _codec_name(label: str | None, *, from_document: bool = False) -> str | None:
    """Map a charset label to a Python text codec name, or None if unknown or not a text encoding."""
    if not label:
        return None
    try:
        info = codecs.lookup(label.strip().strip("\"'"))
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True):  # e.g. "base64", "rot13"
        return None
    name = _CODEC_ALIASES.get(info.name, info.name)
    # A document that says it is UTF-16 in ASCII-compatible bytes is lying (WHATWG also treats it as UTF-8).
    if from_document and name.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return name


def decode_body(body: bytes, content_type_header: str | None) -> tuple[str, str]:
    """Decode HTML/XML bytes to text; never raises. Returns (text, codec used).

    Order: byte-order mark, Content-Type charset, <meta>/XML declaration in the first 4 KB, then UTF-8,
    falling back to windows-1252 (the commonest legacy encoding on UK shop sites) with replacement characters.
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace").lstrip("\ufeff"), name
    candidates: list[str | None] = []
    if content_type_header:
        match = _HEADER_CHARSET.search(content_type_header)
        candidates.append(_codec_name(match.group(1)) if match else None)
    head = body[:4096]
    for pattern in (_XML_ENCODING, _META_CHARSET):
        match = pattern.search(head)
        if match:
            candidates.append(_codec_name(match.group(1).decode("ascii", "replace"), from_document=True))
    for name in candidates:
        if name:
            try:
                return body.decode(name, errors="replace"), name
            except (LookupError, TypeError, ValueError):  # codec exists but cannot decode str-wise
                continue
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace"), "cp1252"


# What a page of text never has more than a trace of: C0 control characters (other than tab, line breaks, form
# feed and ESC, which ISO-2022 encodings use) and the replacement character that decoding leaves where the bytes
# were not valid in the charset. Random binary is about one in ten of these; a legacy page with a stray byte or
# two (which browsers show with a "?" and we still read) stays well under the limit.
_GARBLED = re.compile("[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\ufffd]")
MAX_GARBLED_SHARE = 0.005


def garbled_reason(text: str, codec: str) -> str | None:
    """Why decoded text is not a readable page (binary, or bytes not in the declared charset), or None."""
    if not text:
        return None
    bad = sum(1 for _ in _GARBLED.finditer(text))
    if bad > len(text) * MAX_GARBLED_SHARE:
        return (f"not a readable page: {bad} of {len(text)} characters are control characters or bytes that "
                f"are not valid {codec}")
    return None


def _looks_like_markup(body: bytes, *, html_only: bool) -> bool:
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if html_only:
        return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head or b"<body" in head
    return head.startswith(b"<")


def _gunzip_capped(data: bytes, max_bytes: int) -> tuple[bytes, bool]:
    """Decompress gzip without trusting its claimed size (a 10 KB file can expand to gigabytes)."""
    decompressor = zlib.decompressobj(wbits=31)
    try:
        out = decompressor.decompress(data, max_bytes + 1)
    except zlib.error:
        return b"", False
    return out[:max_bytes], len(out) > max_bytes


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


class _HostBusy(Exception):
    pass


STOPPED = "fetch stopped: the monitor is shutting down"


class _Deadline:
    """The hard time limit of one HTTP exchange.

    When it passes (or the fetcher is cancelled) every socket the exchange used is shut down, which wakes a
    blocked connect, TLS handshake, header or body read at once: socket timeouts bound each read, not the whole,
    so a server sending a byte every few seconds would otherwise hold the fetch for ever. The sockets are watched
    through duplicates of their descriptors, which stay valid when TLS wraps the original.
    """

    def __init__(self, seconds: float, reason: str) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._watched: dict[int, socket.socket] = {}
        self.expired: str | None = None  # why, once it has passed
        self._timer = threading.Timer(max(0.0, seconds), self.expire, args=(reason,))
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def remaining(self) -> float:
        return self._ends - time.monotonic()

    def watch(self, sock: socket.socket) -> None:
        try:
            fd = sock.fileno()
            if fd < 0:
                return
            with self._lock:
                if fd in self._watched:
                    return
                self._watched[fd] = twin = socket.socket(fileno=os.dup(fd))
                expired = self.expired is not None
        except OSError:
            return
        if expired:
            _shutdown(twin)

    def expire(self, reason: str) -> None:
        with self._lock:
            if self.expired is not None:
                return
            self.expired = reason
            watched = list(self._watched.values())
        for twin in watched:
            _shutdown(twin)

    def finish(self) -> None:
        self._timer.cancel()
        with self._lock:
            watched, self._watched = list(self._watched.values()), {}
            if self.expired is None:
                self.expired = ""  # finished in time: a late timer does nothing (empty, so still falsy)
        for twin in watched:
            twin.close()


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by its owner: nothing left to stop


@dataclass
class _Budget:
    """What one fetch() may still spend: network seconds, and an optional wall-clock end (the caller's limit)."""

    network_left: float
    hard_end: float | None  # settings.clock() value

    def left(self, now: float) -> float:
        if self.hard_end is None:
            return self.network_left
        return min(self.network_left, self.hard_end - now)


class Fetcher:
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


def _short(exc: BaseException) -> str:
    """A one-line reason from requests' deeply nested exception messages."""
    text = str(exc) or exc.__class__.__name__
    for marker in ("Connection refused", "timed out", "Name or service not known", "Failed to resolve"):
        if marker in text:
            return f"{exc.__class__.__name__}: {marker}"
    return text if len(text) <= 200 else text[:197] + "..."
