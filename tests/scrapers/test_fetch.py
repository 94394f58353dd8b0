"""Tests for the polite, SSRF-guarded fetcher, against real HTTP servers on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import gzip
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from retail.scrapers.fetch import (
    SITEMAP_TYPES,
    BlockedAddressError,
    Fetcher,
    FetchSettings,
    decode_body,
    host_key,
    is_public_address,
    normalise_url,
    parse_retry_after,
)

UA_PREFIX = "KnifeRetailComplianceTracker/1.0 (+https://tracker.example.gov.uk/about-our-crawler)"
EPS = 0.02  # timer slack when comparing measured gaps with configured delays


# --------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def server(httpserver_ipv4: HTTPServer) -> HTTPServer:
    """The main test "shop", on 127.0.0.1 so URLs and host keys are unambiguous."""
    return httpserver_ipv4


@pytest.fixture
def make_server() -> Iterator[Callable[..., HTTPServer]]:
    """Extra servers (other "hosts"); threaded ones let us see whether the client overlaps requests."""
    started: list[HTTPServer] = []

    def make(*, threaded: bool = False) -> HTTPServer:
        srv = HTTPServer(host="127.0.0.1", port=0, threaded=threaded)
        srv.start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.clear()
        if srv.is_running():
            srv.stop()


@pytest.fixture
def make_fetcher() -> Iterator[Callable[..., Fetcher]]:
    """Fast settings for tests: loopback allowed, tiny delays and backoff; override per test."""
    fetchers: list[Fetcher] = []

    def make(**overrides: object) -> Fetcher:
        options: dict[str, object] = {
            "contact_url": "https://tracker.example.gov.uk/about-our-crawler",
            "min_host_delay": 0.0,
            "backoff_base": 0.01,
            "max_retries": 3,
            "allow_loopback": True,
            "connect_timeout": 2.0,
            "read_timeout": 5.0,
        }
        options.update(overrides)
        fetcher = Fetcher(FetchSettings(**options))  # type: ignore[arg-type]
        fetchers.append(fetcher)
        return fetcher

    yield make
    for fetcher in fetchers:
        fetcher.close()


def url(srv: HTTPServer, path: str) -> str:
    return f"http://127.0.0.1:{srv.port}{path}"


def no_robots(srv: HTTPServer) -> None:
    # pytest-httpserver answers unknown paths with 500, which a polite crawler reads as "keep out".
    srv.expect_request("/robots.txt").respond_with_data("not found", status=404)


def robots(srv: HTTPServer, body: str) -> None:
    srv.expect_request("/robots.txt").respond_with_data(body, content_type="text/plain")


def paths(srv: HTTPServer) -> list[str]:
    return [request.path for request, _ in srv.log]


def html_page(body: str = "<p>Must be 18 or over. Photo ID required on delivery.</p>") -> str:
    return f"<!doctype html><html><head><title>Knife</title></head><body>{body}</body></html>"


def recording(times: list[float], response: Response) -> Callable[[Request], Response]:
    """A handler that notes when each request arrived, for delay measurements."""

    def handler(request: Request) -> Response:
        times.append(time.monotonic())
        return response

    return handler


def sequence(responses: list[Response], times: list[float] | None = None) -> Callable[[Request], Response]:
    """Serve the responses in order, repeating the last one."""
    calls = {"n": 0}

    def handler(request: Request) -> Response:
        if times is not None:
            times.append(time.monotonic())
        index = min(calls["n"], len(responses) - 1)
        calls["n"] += 1
        return responses[index]

    return handler


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


# --------------------------------------------------------------------------- basics


def test_fetch_html_page(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    no_robots(server)
    server.expect_request("/knife").respond_with_data(
        html_page(), content_type="text/html; charset=utf-8", headers={"ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}
    )
    result = make_fetcher().fetch(url(server, "/knife"))
    assert result.ok and result.error is None and result.skipped_reason is None
    assert result.status == 200
    assert result.content_type == "text/html"
    assert result.encoding == "utf-8"
    assert "Photo ID required on delivery" in (result.text or "")
    assert result.etag == '"v1"'
    assert result.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert result.content_hash and len(result.content_hash) == 64
    assert result.final_url == url(server, "/knife") and result.redirects == []
    assert result.elapsed >= 0
    request = next(req for req, _ in server.log if req.path == "/knife")
    assert request.headers["User-Agent"] == UA_PREFIX


def test_user_agent_without_contact_url() -> None:
    assert FetchSettings().user_agent == "KnifeRetailComplianceTracker/1.0"
    assert FetchSettings(contact_url="https://x.example/bot").user_agent.endswith("(+https://x.example/bot)")


def test_http_error_is_reported_not_raised_and_not_retried(
    server: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    no_robots(server)
    server.expect_request("/gone").respond_with_data("gone", status=404)
    result = make_fetcher().fetch(url(server, "/gone"))
    assert result.status == 404 and result.error == "HTTP 404" and result.text is None
    assert paths(server).count("/gone") == 1


@pytest.mark.parametrize(
    "bad_url", ["file:///etc/passwd", "ftp://example.com/x", "javascript:alert(1)", "gopher://127.0.0.1:70/", "no-scheme"]
)
def test_non_http_scheme_refused_without_network(bad_url: str, make_fetcher: Callable[..., Fetcher]) -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise AssertionError("no DNS lookup should happen for a refused scheme")

    result = make_fetcher(resolver=resolver).fetch(bad_url)
    assert result.error and "unsupported URL scheme" in result.error
    assert result.status is None and result.text is None


def test_invalid_port_refused(make_fetcher: Callable[..., Fetcher]) -> None:
    result = make_fetcher().fetch("http://127.0.0.1:99999/")
    assert result.error and result.error.startswith("refused: invalid URL")
    assert result.status is None and result.text is None


def test_connection_refused_is_an_error_not_an_exception(make_fetcher: Callable[..., Fetcher]) -> None:
    with socket.socket() as sock:  # find a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = make_fetcher(max_retries=1).fetch(f"http://127.0.0.1:{port}/")
    assert result.error is not None and "connection" in result.error.lower()
    assert result.status is None and result.text is None


def test_unresolvable_host_is_an_error(make_fetcher: Callable[..., Fetcher]) -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    result = make_fetcher(resolver=resolver).fetch("http://no-such-shop.invalid/")
    assert result.error and "could not resolve host" in result.error


# --------------------------------------------------------------------------- robots.txt


def test_robots_disallow_means_page_never_requested(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    robots(server, "User-agent: *\nDisallow: /private/\n")
    server.expect_request("/private/knife").respond_with_data(html_page(), content_type="text/html")
    server.expect_request("/public").respond_with_data(html_page(), content_type="text/html")
    fetcher = make_fetcher()

    blocked = fetcher.fetch(url(server, "/private/knife"))
    assert blocked.skipped_reason == "robots.txt disallows"
    assert blocked.error is None and blocked.text is None and blocked.status is None
    assert fetcher.robots_allowed(url(server, "/private/other")) is False
    assert fetcher.robots_allowed(url(server, "/public")) is True
    assert fetcher.fetch(url(server, "/public")).ok

    assert "/private/knife" not in paths(server)
    assert paths(server).count("/robots.txt") == 1  # cached per host


def test_robots_wildcard_rule(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    robots(server, "User-agent: *\nDisallow: /*?sort=\n")
    server.expect_request("/knives").respond_with_data(html_page(), content_type="text/html")
    fetcher = make_fetcher()
    assert fetcher.fetch(url(server, "/knives?sort=price")).skipped_reason == "robots.txt disallows"
    assert fetcher.fetch(url(server, "/knives?page=2")).ok
    assert fetcher.fetch(url(server, "/knives")).ok
    assert [r.query_string for r, _ in server.log if r.path == "/knives"] == [b"page=2", b""]


def test_robots_group_for_our_user_agent(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    robots(server, "User-agent: *\nAllow: /\n\nUser-agent: KnifeRetailComplianceTracker\nDisallow: /\n")
    result = make_fetcher().fetch(url(server, "/anything"))
    assert result.skipped_reason == "robots.txt disallows"


def test_robots_server_error_disallows_for_now(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    server.expect_request("/robots.txt").respond_with_data("oops", status=503)
    server.expect_request("/page").respond_with_data(html_page(), content_type="text/html")
    fetcher = make_fetcher(max_retries=0)
    result = fetcher.fetch(url(server, "/page"))
    assert result.error and "robots.txt unavailable" in result.error and "503" in result.error
    assert fetcher.robots_allowed(url(server, "/page")) is False
    assert "/page" not in paths(server)


def test_robots_expires_after_ttl(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    no_robots(server)
    server.expect_request("/page").respond_with_data(html_page(), content_type="text/html")
    fetcher = make_fetcher(robots_ttl=0.2)
    fetcher.fetch(url(server, "/page"))
    fetcher.fetch(url(server, "/page"))
    assert paths(server).count("/robots.txt") == 1
    time.sleep(0.25)
    fetcher.fetch(url(server, "/page"))
    assert paths(server).count("/robots.txt") == 2


# --------------------------------------------------------------------------- politeness


def test_per_host_delay_between_requests(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    times: list[float] = []
    server.expect_request("/robots.txt").respond_with_handler(recording(times, Response("", status=404)))
    server.expect_request("/a").respond_with_handler(recording(times, Response(html_page(), mimetype="text/html")))
    fetcher = make_fetcher(min_host_delay=0.3)
    assert fetcher.fetch(url(server, "/a")).ok
    assert fetcher.fetch(url(server, "/a")).ok
    assert len(times) == 3  # robots, page, page
    assert all(gap >= 0.3 - EPS for gap in gaps(times)), gaps(times)


def test_crawl_delay_raises_the_host_delay(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    times: list[float] = []
    server.expect_request("/robots.txt").respond_with_handler(
        recording(times, Response("User-agent: *\nCrawl-delay: 0.5\n", mimetype="text/plain"))
    )
    server.expect_request("/a").respond_with_handler(recording(times, Response(html_page(), mimetype="text/html")))
    fetcher = make_fetcher(min_host_delay=0.05)
    fetcher.fetch(url(server, "/a"))
    fetcher.fetch(url(server, "/a"))
    # The gap after robots.txt may still be the configured one: the crawl delay is learned from that response.
    assert gaps(times)[1] >= 0.5 - EPS, gaps(times)


def test_crawl_delay_never_lowers_our_delay(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    times: list[float] = []
    server.expect_request("/robots.txt").respond_with_handler(
        recording(times, Response("User-agent: *\nCrawl-delay: 0.01\n", mimetype="text/plain"))
    )
    server.expect_request("/a").respond_with_handler(recording(times, Response(html_page(), mimetype="text/html")))
    fetcher = make_fetcher(min_host_delay=0.3)
    fetcher.fetch(url(server, "/a"))
    fetcher.fetch(url(server, "/a"))
    assert all(gap >= 0.3 - EPS for gap in gaps(times)), gaps(times)


def test_same_host_requests_from_threads_never_overlap(
    make_server: Callable[..., HTTPServer], make_fetcher: Callable[..., Fetcher]
) -> None:
    shop = make_server(threaded=True)  # a threaded server would happily serve two requests at once
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def slow_page(request: Request) -> Response:
        start = time.monotonic()
        time.sleep(0.2)
        with lock:
            spans.append((start, time.monotonic()))
        return Response(html_page(), mimetype="text/html")

    no_robots(shop)
    shop.expect_request("/p").respond_with_handler(slow_page)
    fetcher = make_fetcher(min_host_delay=0.1)
    results = []
    threads = [threading.Thread(target=lambda: results.append(fetcher.fetch(url(shop, "/p")))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(results) == 3 and all(r.ok for r in results)
    spans.sort()
    for (_, end), (next_start, _) in itertools.pairwise(spans):
        assert next_start - end >= 0.1 - EPS  # serialised, and spaced by the host delay
    assert paths(shop).count("/robots.txt") == 1  # robots.txt fetched once even with racing threads


def test_slow_host_does_not_hold_up_another_host(
    make_server: Callable[..., HTTPServer], make_fetcher: Callable[..., Fetcher]
) -> None:
    slow, fast = make_server(), make_server()
    assert host_key(url(slow, "/")) != host_key(url(fast, "/"))  # same IP, different port = different host
    slow_started, slow_finished = threading.Event(), threading.Event()

    def sleepy(request: Request) -> Response:
        slow_started.set()
        time.sleep(1.5)
        return Response(html_page(), mimetype="text/html")

    no_robots(slow)
    slow.expect_request("/slow").respond_with_handler(sleepy)
    no_robots(fast)
    fast.expect_request("/fast").respond_with_data(html_page(), content_type="text/html")
    fetcher = make_fetcher(min_host_delay=0.2)
    slow_results = []

    def fetch_slow() -> None:
        slow_results.append(fetcher.fetch(url(slow, "/slow")))
        slow_finished.set()

    worker = threading.Thread(target=fetch_slow)
    worker.start()
    assert slow_started.wait(5)
    fast_result = fetcher.fetch(url(fast, "/fast"))
    assert fast_result.ok
    assert not slow_finished.is_set(), "the fast host had to wait for the slow one"
    assert fast_result.elapsed < 1.0
    worker.join(10)
    assert slow_results and slow_results[0].ok


# --------------------------------------------------------------------------- retries


def test_429_with_retry_after_then_success(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    times: list[float] = []
    no_robots(server)
    server.expect_request("/p").respond_with_handler(
        sequence(
            [Response("slow down", status=429, headers={"Retry-After": "1"}), Response(html_page(), mimetype="text/html")],
            times,
        )
    )
    result = make_fetcher().fetch(url(server, "/p"))
    assert result.ok and result.status == 200
    assert len(times) == 2
    assert times[1] - times[0] >= 1.0 - EPS


def test_503_then_success(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    no_robots(server)
    server.expect_request("/p").respond_with_handler(
        sequence([Response("busy", status=503), Response("busy", status=502), Response(html_page(), mimetype="text/html")])
    )
    result = make_fetcher().fetch(url(server, "/p"))
    assert result.ok and result.status == 200
    assert paths(server).count("/p") == 3


def test_503_forever_gives_up_with_error(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    times: list[float] = []
    no_robots(server)
    server.expect_request("/p").respond_with_handler(sequence([Response("down", status=503)], times))
    result = make_fetcher(max_retries=2, backoff_base=0.1).fetch(url(server, "/p"))
    assert result.status == 503 and result.text is None
    assert result.error and "503" in result.error and "gave up after 2 retries" in result.error
    assert len(times) == 3
    # Exponential backoff: 0.1 s then 0.2 s.
    assert gaps(times)[0] >= 0.1 - EPS and gaps(times)[1] >= 0.2 - EPS


def test_retry_after_over_cap_gives_up_without_sleeping(
    server: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    no_robots(server)
    server.expect_request("/p").respond_with_data("later", status=503, headers={"Retry-After": "3600"})
    fetcher = make_fetcher(max_retry_after=120)
    result = fetcher.fetch(url(server, "/p"))
    assert result.error and "3600" in result.error and "cap" in result.error
    assert result.elapsed < 2
    assert paths(server).count("/p") == 1
    # The host asked for an hour's rest: later fetches fail fast instead of knocking again.
    again = fetcher.fetch(url(server, "/p"))
    assert again.error and "wait" in again.error
    assert paths(server).count("/p") == 1


def test_parse_retry_after() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# --------------------------------------------------------------------------- conditional requests


def test_304_with_if_none_match(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    no_robots(server)
    server.expect_request("/p", headers={"If-None-Match": '"abc"'}).respond_with_data("", status=304, headers={"ETag": '"abc"'})
    result = make_fetcher().fetch(url(server, "/p"), etag='"abc"')
    assert result.not_modified is True and result.status == 304
    assert result.error is None and result.text is None and result.etag == '"abc"'


def test_304_with_if_modified_since(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    no_robots(server)
    server.expect_request("/p", headers={"If-Modified-Since": stamp}).respond_with_data("", status=304)
    server.expect_request("/p").respond_with_data(html_page(), content_type="text/html", headers={"Last-Modified": stamp})
    fetcher = make_fetcher()
    first = fetcher.fetch(url(server, "/p"))
    assert first.ok and first.last_modified == stamp
    second = fetcher.fetch(url(server, "/p"), last_modified=first.last_modified)
    assert second.not_modified and second.error is None


# --------------------------------------------------------------------------- redirects and SSRF


def test_redirects_are_followed_and_recorded(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    no_robots(server)
    server.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/mid#frag"})
    server.expect_request("/mid").respond_with_data("", status=302, headers={"Location": url(server, "/new?x=1")})
    server.expect_request("/new").respond_with_data(html_page(), content_type="text/html")
    result = make_fetcher().fetch(url(server, "/old"))
    assert result.ok
    assert result.redirects == [url(server, "/mid"), url(server, "/new?x=1")]
    assert result.final_url == url(server, "/new?x=1")


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{other}/secret",
        "http://localhost:{other}/secret",
        "http://[::1]:{other}/secret",
        "http://10.0.0.1/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://0.0.0.0:{other}/",
    ],
)
def test_redirect_to_private_address_refused(
    target: str, server: HTTPServer, make_server: Callable[..., HTTPServer], make_fetcher: Callable[..., Fetcher]
) -> None:
    internal = make_server()
    internal.expect_request("/secret").respond_with_data("internal secrets")
    target = target.format(other=internal.port)
    no_robots(server)
    server.expect_request("/go").respond_with_data("", status=302, headers={"Location": target})
    # Loopback is private, so only the "shop" server is let through explicitly.
    fetcher = make_fetcher(allow_loopback=False, allowed_loopback_hosts=frozenset({f"127.0.0.1:{server.port}"}))
    result = fetcher.fetch(url(server, "/go"))
    assert result.error and result.error.startswith(f"redirect to {normalise_url(target)} refused")
    assert "not a public address" in result.error or "non-public address" in result.error
    assert result.text is None and result.elapsed < 2
    assert internal.log == []


def test_direct_fetch_of_loopback_refused_when_private_not_allowed(
    server: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    no_robots(server)
    server.expect_request("/").respond_with_data(html_page(), content_type="text/html")
    result = make_fetcher(allow_loopback=False).fetch(url(server, "/"))
    assert result.error == "refused: 127.0.0.1 is not a public address"
    assert server.log == []  # not even robots.txt was requested


def test_connection_is_pinned_to_the_checked_address(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    """The socket layer re-checks the address it connects to, so a DNS answer that changes after the
    pre-check (rebinding) cannot reach a private address."""
    server.expect_request("/").respond_with_data("hello")
    fetcher = make_fetcher(allow_loopback=False, resolver=lambda host, port: ["127.0.0.1"])
    # Bypass the pre-check and go straight to the session, as a rebinding attacker effectively would.
    with pytest.raises(BlockedAddressError):
        fetcher._session().get(f"http://shop.test:{server.port}/", timeout=2)
    assert server.log == []
    # When allowed, the pinned connection goes to the resolver's address and keeps the real Host header.
    allowed = make_fetcher(
        allow_loopback=False,
        allowed_loopback_hosts=frozenset({f"shop.test:{server.port}"}),
        resolver=lambda host, port: ["127.0.0.1"],
    )
    assert allowed._session().get(f"http://shop.test:{server.port}/", timeout=2).text == "hello"
    assert server.log[-1][0].headers["Host"] == f"shop.test:{server.port}"


def test_redirect_loop_is_an_error(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    no_robots(server)
    server.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    server.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/a"})
    result = make_fetcher().fetch(url(server, "/a"))
    assert result.error and "redirect loop" in result.error
    assert paths(server).count("/a") == 1 and paths(server).count("/b") == 1


def test_too_many_redirects(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    no_robots(server)
    for i in range(10):
        server.expect_request(f"/r{i}").respond_with_data("", status=302, headers={"Location": f"/r{i + 1}"})
    result = make_fetcher(max_redirects=3).fetch(url(server, "/r0"))
    assert result.error == "too many redirects (more than 3)"
    assert [p for p in paths(server) if p != "/robots.txt"] == ["/r0", "/r1", "/r2", "/r3"]


def test_redirect_to_other_scheme_refused(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    no_robots(server)
    server.expect_request("/a").respond_with_data("", status=302, headers={"Location": "file:///etc/passwd"})
    result = make_fetcher().fetch(url(server, "/a"))
    assert result.error and "unsupported URL scheme 'file'" in result.error


def test_redirect_target_robots_is_honoured(
    server: HTTPServer, make_server: Callable[..., HTTPServer], make_fetcher: Callable[..., Fetcher]
) -> None:
    other = make_server()
    robots(other, "User-agent: *\nDisallow: /\n")
    other.expect_request("/x").respond_with_data(html_page(), content_type="text/html")
    no_robots(server)
    server.expect_request("/a").respond_with_data("", status=302, headers={"Location": url(other, "/x")})
    result = make_fetcher().fetch(url(server, "/a"))
    assert result.skipped_reason == "robots.txt disallows"
    assert "/x" not in paths(other)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fec0::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::1", False),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 wrapping 169.254.169.254
        ("not-an-ip", False),
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(address) is public


# --------------------------------------------------------------------------- size and content types


def test_huge_streamed_body_is_cut_off(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    sent = {"bytes": 0}
    chunk = b"<p>" + b"x" * (64 * 1024 - 3)

    def endless(request: Request) -> Response:
        def generate() -> Iterator[bytes]:
            for _ in range(20 * 16):  # 20 MB in 64 KB chunks, with no Content-Length
                sent["bytes"] += len(chunk)
                yield chunk

        return Response(generate(), mimetype="text/html")

    no_robots(server)
    server.expect_request("/big").respond_with_handler(endless)
    result = make_fetcher(max_bytes=1024 * 1024).fetch(url(server, "/big"))
    assert result.truncated is True
    assert result.skipped_reason == "body over 1048576 bytes"
    assert result.text is None and result.content_hash is None and result.error is None
    time.sleep(0.2)
    assert sent["bytes"] < 20 * 1024 * 1024  # we hung up; the server never had to send it all


def test_declared_oversize_body_is_not_read(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    no_robots(server)
    server.expect_request("/big").respond_with_data(b"x" * (3 * 1024 * 1024), content_type="text/html")
    result = make_fetcher(max_bytes=1024 * 1024).fetch(url(server, "/big"))
    assert result.truncated and result.text is None
    assert result.skipped_reason == "body over 1048576 bytes"


@pytest.mark.parametrize("content_type", ["application/pdf", "image/png", "application/octet-stream"])
def test_binary_content_is_skipped(
    content_type: str, server: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    no_robots(server)
    server.expect_request("/file").respond_with_data(b"%PDF-1.7\x00\xff" * 1000, content_type=content_type)
    result = make_fetcher().fetch(url(server, "/file"))
    assert result.skipped_reason == f"content type {content_type}"
    assert result.content_type == content_type
    assert result.text is None and result.error is None and result.status == 200


def test_html_served_as_text_plain_is_sniffed(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    no_robots(server)
    server.expect_request("/html").respond_with_data(html_page(), content_type="text/plain")
    server.expect_request("/notes").respond_with_data("just some notes", content_type="text/plain")
    fetcher = make_fetcher()
    assert fetcher.fetch(url(server, "/html")).ok
    notes = fetcher.fetch(url(server, "/notes"))
    assert notes.text is None and notes.skipped_reason and "text/plain" in notes.skipped_reason


def test_sitemap_types_when_asked(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    sitemap = '<?xml version="1.0"?><urlset><url><loc>https://shop.example/p/1</loc></url></urlset>'
    no_robots(server)
    server.expect_request("/sitemap.xml").respond_with_data(sitemap, content_type="application/xml")
    server.expect_request("/sitemap.xml.gz").respond_with_data(gzip.compress(sitemap.encode()), content_type="application/gzip")
    fetcher = make_fetcher()
    assert fetcher.fetch(url(server, "/sitemap.xml")).skipped_reason == "content type application/xml"
    assert "<loc>" in (fetcher.fetch(url(server, "/sitemap.xml"), accept=SITEMAP_TYPES).text or "")
    assert "<loc>" in (fetcher.fetch(url(server, "/sitemap.xml.gz"), accept=SITEMAP_TYPES).text or "")


def test_gzip_bomb_sitemap_is_capped(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (50 * 1024 * 1024))  # ~50 KB on the wire, 50 MB inflated
    no_robots(server)
    server.expect_request("/s.gz").respond_with_data(bomb, content_type="application/gzip")
    result = make_fetcher(max_bytes=1024 * 1024).fetch(url(server, "/s.gz"), accept=SITEMAP_TYPES)
    assert result.truncated and result.text is None


# --------------------------------------------------------------------------- decoding


def test_broken_html_still_returns_text(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    no_robots(server)
    server.expect_request("/broken").respond_with_data(
        b"<html><body><div><p>Must be 18 or over<b>unclosed <table><tr><td>\xff\xfe oops", content_type="text/html"
    )
    result = make_fetcher().fetch(url(server, "/broken"))
    assert result.ok and "Must be 18 or over" in (result.text or "")


def test_windows_1252_from_header(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    text = "£25 – “Must be 18 or over” – café"
    no_robots(server)
    server.expect_request("/p").respond_with_data(html_page(text).encode("cp1252"), content_type="text/html; charset=windows-1252")
    result = make_fetcher().fetch(url(server, "/p"))
    assert result.encoding == "cp1252" and text in (result.text or "")


@pytest.mark.parametrize(
    "meta",
    ['<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">', "<meta charset='ISO-8859-1'>"],
)
def test_iso_8859_1_from_meta_only(meta: str, server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    body = f"<html><head>{meta}<title>Shop</title></head><body>Café – £9.99</body></html>"
    no_robots(server)
    server.expect_request("/p").respond_with_data(body.encode("cp1252"), content_type="text/html")
    result = make_fetcher().fetch(url(server, "/p"))
    # Browsers decode ISO-8859-1 as windows-1252 (WHATWG), which also gets the en dash right.
    assert result.encoding == "cp1252"
    assert "Café – £9.99" in (result.text or "")


def test_shift_jis(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    text = "包丁 18歳以上のみ購入可能"
    no_robots(server)
    server.expect_request("/p").respond_with_data(html_page(text).encode("shift_jis"), content_type="text/html; charset=Shift_JIS")
    result = make_fetcher().fetch(url(server, "/p"))
    assert result.encoding == "shift_jis" and text in (result.text or "")


def test_decode_body_fallbacks() -> None:
    # Undeclared and not UTF-8: windows-1252.
    assert decode_body("£5".encode("cp1252"), "text/html") == ("£5", "cp1252")
    # Undeclared UTF-8.
    assert decode_body("£5".encode(), None) == ("£5", "utf-8")
    # Declared UTF-8 but with a bad byte: replacement character, no exception.
    text, codec = decode_body(b"ok \xff ok", "text/html; charset=utf-8")
    assert codec == "utf-8" and text == "ok \ufffd ok"
    # Unknown or non-text charset labels are ignored.
    assert decode_body(b"plain", "text/html; charset=no-such-codec")[1] == "utf-8"
    assert decode_body(b"plain", "text/html; charset=base64")[1] == "utf-8"
    # A byte-order mark wins over a wrong header.
    assert decode_body(codecs_bom_utf8() + "é".encode(), "text/html; charset=iso-8859-1") == ("é", "utf-8")
    # A meta claiming UTF-16 in ASCII bytes is treated as UTF-8.
    assert decode_body(b'<meta charset="utf-16"><p>hi', None)[1] == "utf-8"


def codecs_bom_utf8() -> bytes:
    return b"\xef\xbb\xbf"


def test_host_key_and_normalise() -> None:
    assert host_key("HTTP://Shop.Example:80/x") == "http://shop.example:80"
    assert host_key("https://shop.example/x") == "https://shop.example:443"
    assert normalise_url("HTTPS://Shop.Example:443?a=1#top") == "https://shop.example/?a=1"
