"""The fetcher against hostile servers on 127.0.0.1 (time limits, binary and mis-declared pages, cancelling) and the
SSRF deny list: only public addresses, and loopback when allowed, are ever contacted. Never the internet."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from retail.scrapers.fetch import (
    STOPPED,
    Fetcher,
    FetchSettings,
    decode_body,
    garbled_reason,
    is_loopback_address,
    is_public_address,
    system_resolver,
)
from tests.monitor_site import STRONG, Site, product_page

DEADLINE = 1.0
SLACK = 1.5  # a loaded CI machine wakes timers late; still far below the minutes a dripping server would take


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    s.set("/robots.txt", "User-agent: *\nAllow: /\n", ctype="text/plain")
    s.set("/good", product_page("Chef Knife", STRONG))
    yield s
    s.close()


def fetcher(**overrides: object) -> Fetcher:
    options: dict[str, object] = {"min_host_delay": 0.0, "backoff_base": 0.01, "allow_loopback": True,
                                  "total_timeout": DEADLINE, "read_timeout": 20.0, "max_retries": 2}
    options.update(overrides)
    return Fetcher(FetchSettings(**options))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- time limits


@pytest.mark.parametrize("mode", ["drip", "drip-headers", "stall", "silent", "endless"])
def test_a_hostile_body_ends_within_the_fetch_deadline(site: Site, mode: str) -> None:
    """A byte a second under a 1 MB Content-Length, dripped headers, a stall, silence or an endless body: each
    fetch ends at its deadline (not at the 20 s read timeout, and not never), as a failed fetch, not retried."""
    site.hostile("/page", mode)
    with fetcher() as f:
        started = time.monotonic()
        result = f.fetch(site.url("/page"))
        took = time.monotonic() - started
    assert took < DEADLINE + SLACK, f"{mode}: {took:.1f} s"
    assert result.error is not None and result.error.startswith("time limit reached"), result.error
    assert result.text is None and result.content_hash is None
    assert site.hits["/page"] == 1  # a time limit is not a blip to retry


def test_a_good_page_after_a_hostile_one_has_its_own_full_limit(site: Site) -> None:
    site.hostile("/slow", "drip")
    with fetcher() as f:
        assert "time limit" in (f.fetch(site.url("/slow")).error or "")
        assert f.fetch(site.url("/good")).ok


def test_a_time_limit_from_the_caller_cuts_the_fetch_shorter(site: Site) -> None:
    site.hostile("/page", "drip")
    with fetcher(total_timeout=30.0) as f:
        started = time.monotonic()
        result = f.fetch(site.url("/page"), time_limit=0.8)
    assert time.monotonic() - started < 0.8 + SLACK
    assert result.error and result.error.startswith("time limit reached")


def test_a_wait_for_the_host_past_the_callers_time_limit_fails_at_once(site: Site) -> None:
    with fetcher(min_host_delay=30.0, total_timeout=30.0, sleep=lambda seconds: None) as f:
        assert f.fetch(site.url("/good")).ok
        started = time.monotonic()
        result = f.fetch(site.url("/good"), time_limit=2.0)
    assert time.monotonic() - started < 1.0
    assert result.error and "past the time limit" in result.error


def test_cancel_ends_a_fetch_in_flight_and_refuses_new_ones(site: Site) -> None:
    site.hostile("/page", "drip")
    with fetcher(total_timeout=60.0) as f:
        results = []
        worker = threading.Thread(target=lambda: results.append(f.fetch(site.url("/page"))))
        worker.start()
        assert site.wait_for("/page", 5)
        time.sleep(0.2)
        cancelled_at = time.monotonic()
        f.cancel()
        worker.join(5)
        assert not worker.is_alive() and time.monotonic() - cancelled_at < 1.0
        assert results[0].error == STOPPED
        assert f.fetch(site.url("/good")).error == STOPPED
    assert site.hits["/good"] == 0


def test_a_good_page_is_unaffected_by_the_deadline_machinery(site: Site) -> None:
    with fetcher() as f:
        results = [f.fetch(site.url("/good")) for _ in range(3)]  # kept-alive connections are watched too
    assert all(r.ok and "Yoti" in (r.text or "") for r in results)


# --------------------------------------------------------------------------- pages that are not text


@pytest.mark.parametrize("mode", ["binary", "mis-declared", "utf16-as-latin1"])
def test_binary_or_mis_declared_pages_are_failed_fetches(site: Site, mode: str) -> None:
    site.hostile("/page", mode)
    with fetcher() as f:
        result = f.fetch(site.url("/page"))
    assert result.status == 200
    assert not result.ok and result.text is None
    assert result.error and result.error.startswith("not a readable page"), result.error


def test_a_stray_legacy_byte_is_still_read() -> None:
    """A UTF-8 page with one windows-1252 pound sign shows a replacement character in browsers: still a page.
    Binary and pages in another charset are garbled throughout."""
    page = product_page("Chef Knife", STRONG).replace("&pound;", "\N{POUND SIGN}").encode("utf-8")
    stray = page.replace("\N{POUND SIGN}".encode(), b"\xa3")
    text, codec = decode_body(stray, "text/html; charset=utf-8")
    assert codec == "utf-8" and text.count("\ufffd") == 1 and garbled_reason(text, codec) is None
    text, codec = decode_body(random.Random(1).randbytes(5000), "text/html")
    assert garbled_reason(text, codec)


# --------------------------------------------------------------------------- SSRF: the deny list


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("1.1.1.1", True),
        ("2606:4700:4700::1111", True),
        ("2a00:1450:4009:81f::200e", True),
        ("192.0.0.8", False),  # IPv4 dummy address: passes ipaddress.is_global on some Pythons
        ("192.0.0.9", False),  # IETF protocol assignment (PCP anycast), not a shop
        ("192.0.0.170", False),  # NAT64 discovery
        ("169.254.169.254", False),  # cloud metadata
        ("10.0.0.1", False),
        ("172.31.255.254", False),
        ("192.168.0.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("127.0.0.1", False),
        ("127.10.20.30", False),
        ("0.0.0.0", False),
        ("0.1.2.3", False),
        ("192.0.2.1", False),
        ("198.18.0.1", False),  # benchmarking
        ("198.19.255.255", False),
        ("198.51.100.7", False),
        ("203.0.113.9", False),
        ("192.88.99.1", False),  # 6to4 relay anycast
        ("192.31.196.1", False),
        ("192.52.193.1", False),
        ("192.175.48.1", False),
        ("224.0.0.1", False),
        ("233.252.0.1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::", False),
        ("::1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:8.8.8.8", False),  # IPv4-mapped: refused outright, whatever it wraps
        ("::10.0.0.1", False),  # IPv4-compatible
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("64:ff9b::808:808", False),  # NAT64 of a public address: still a translator, not a shop
        ("64:ff9b:1::1", False),
        ("100::1", False),
        ("2001::1", False),  # Teredo
        ("2001:2::1", False),
        ("2001:db8::1", False),
        ("2002:808:808::1", False),  # 6to4
        ("3fff::1", False),
        ("5f00::1", False),
        ("fc00::1", False),
        ("fd12:3456:789a::1", False),
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("fec0::1", False),
        ("ff02::1", False),
        ("4000::1", False),  # outside global unicast 2000::/3
        ("not-an-ip", False),
    ],
)
def test_special_purpose_addresses_are_not_public(address: str, public: bool) -> None:
    assert is_public_address(address) is public


@pytest.mark.parametrize(("address", "loopback"), [("127.0.0.1", True), ("127.255.0.9", True), ("::1", True),
                                                   ("::ffff:127.0.0.1", False), ("10.0.0.1", False)])
def test_loopback_addresses(address: str, loopback: bool) -> None:
    assert is_loopback_address(address) is loopback


REFUSED = ["192.0.0.8", "169.254.169.254", "10.0.0.1", "100.64.0.1", "198.18.0.1", "::ffff:10.0.0.1",
           "::ffff:127.0.0.1", "fc00::1", "fe80::1", "64:ff9b::a9fe:a9fe", "0.0.0.0", "224.0.0.1"]


def _no_connect(*args: object, **kwargs: object) -> socket.socket:
    raise AssertionError("a refused address must never be connected to")


@pytest.mark.parametrize("address", REFUSED)
def test_loopback_allowed_still_refuses_every_other_address(address: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """RETAIL_ALLOW_LOOPBACK_FETCH opens loopback only: a name resolving to anything else is refused, untouched."""
    import urllib3.util.connection

    monkeypatch.setattr(urllib3.util.connection, "create_connection", _no_connect)
    with fetcher(resolver=lambda host, port: [address]) as f:
        result = f.fetch("http://shop.test/")
    assert result.error == f"refused: shop.test resolves to non-public address {address}"


@pytest.mark.parametrize("address", ["10.0.0.1", "169.254.169.254", "192.0.0.8", "fc00::1", "::ffff:10.0.0.1"])
def test_address_literals_refused(address: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib3.util.connection

    monkeypatch.setattr(urllib3.util.connection, "create_connection", _no_connect)
    host = f"[{address}]" if ":" in address else address
    with fetcher() as f:
        result = f.fetch(f"http://{host}/")
    assert result.error == f"refused: {address} is not a public address"


def test_a_name_with_one_private_address_among_public_ones_is_refused() -> None:
    with fetcher(resolver=lambda host, port: ["8.8.8.8", "10.0.0.1"]) as f:
        assert f.fetch("http://mixed.test/").error == "refused: mixed.test resolves to non-public address 10.0.0.1"


def test_loopback_refused_unless_allowed(site: Site) -> None:
    with fetcher(allow_loopback=False) as f:
        assert f.fetch(site.url("/good")).error == "refused: 127.0.0.1 is not a public address"
    assert site.count() == 0
    with fetcher(allow_loopback=True) as f:
        assert f.fetch(site.url("/good")).ok


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://192.0.0.8/",
        "http://[fc00::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://metadata.test/computeMetadata/v1/",  # a name the resolver maps to 169.254.169.254
        "http://intranet.test/",  # a name the resolver maps to 10.1.2.3
    ],
)
def test_redirect_from_loopback_to_a_private_address_is_refused(
    site: Site, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = {"metadata.test": "169.254.169.254", "intranet.test": "10.1.2.3"}
    # monitor_site's pages carry no Location header: answer /go by hand.
    original = site.server.RequestHandlerClass.do_GET

    def do_get(handler):  # type: ignore[no-untyped-def]
        if handler.path == "/go":
            handler.send_response(302)
            handler.send_header("Location", target)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return None
        return original(handler)

    monkeypatch.setattr(site.server.RequestHandlerClass, "do_GET", do_get)

    def resolver(host: str, port: int) -> list[str]:
        return [names[host]] if host in names else system_resolver(host, port)

    with fetcher(resolver=resolver) as f:
        result = f.fetch(site.url("/go"))
    assert result.error and result.error.startswith(f"redirect to {target} refused"), result.error
    assert result.text is None and result.redirects == [target]
