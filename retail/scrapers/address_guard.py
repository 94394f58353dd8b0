"""The SSRF guard: which addresses may be contacted, and connections pinned to the addresses it approved."""

from __future__ import annotations

import ipaddress
import socket
import threading

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
)
from urllib3.util import connection as urllib3_connection

from .deadlines import _Deadline
from .settings import FetchSettings


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
