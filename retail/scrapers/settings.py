"""The fetcher's configuration (FetchSettings) and the system DNS resolver it uses by default."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

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
