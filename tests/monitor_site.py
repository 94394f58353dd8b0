"""A tiny local shop site for monitor and scheduler tests: pages in a dict, served on 127.0.0.1, hits counted.

Pages can be changed between checks; ETag-aware pages answer 304 to a matching If-None-Match. A path can also be
made hostile (`Site.hostile(path, mode)`): a body dripped a byte a second under a large Content-Length, headers
dripped, a stall after the headers, silence, an endless body, random binary as text/html, a page in another
charset than it declares, or an answer held back until the test opens a gate.
"""
from __future__ import annotations

import hashlib
import random
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def product_page(name: str, extra: str = "", price: str = "24.99") -> str:
    return f"""<!doctype html><html><head><title>{name}</title></head><body>
<nav><a href="/">Home</a> <a href="/delivery">Delivery information</a></nav>
<main><h1>{name}</h1><p class="price">&pound;{price}</p>
<p>A stainless steel kitchen knife with a 20cm blade.</p>
<form action="/basket" method="post"><button>Add to basket</button></form>
{extra}</main></body></html>"""


STRONG = "<p>Age verification: we use Yoti to verify your age at checkout; unverified orders are cancelled.</p>"
WEAK = "<p>By placing an order you confirm that you are 18 years of age or over.</p>"
ZOMBIE = product_page("Zombie Knife 18in", "<p>Zombie knife with serrated edge and slogan.</p>")
STRONG_DELIVERY = """<!doctype html><html><head><title>Delivery information</title></head><body><main>
<h1>Delivery information</h1><p>Knives are sent by age verified delivery: photo ID will be required on delivery,
and the parcel is never left in a safe place or with a neighbour.</p></main></body></html>"""
PLAIN_DELIVERY = """<!doctype html><html><head><title>Delivery information</title></head><body><main>
<h1>Delivery information</h1><p>We deliver with Royal Mail Tracked 48.</p></main></body></html>"""


def home_page(links: list[str]) -> str:
    items = "".join(f'<li class="product-card"><a href="{href}">{href}</a></li>' for href in links)
    return f"""<!doctype html><html><head><title>Test Knives</title></head><body><main><h1>Test Knives</h1>
<ul class="product-grid">{items}</ul></main>
<footer><a href="/delivery">Delivery information</a></footer></body></html>"""


HOSTILE_MODES = ("drip", "drip-headers", "stall", "silent", "endless", "binary", "mis-declared", "utf16-as-latin1")
# Cyrillic shop text in windows-1251: hardly any of its bytes are valid UTF-8.
_CYRILLIC = ("<!doctype html><html><head><title>Нож</title></head><body><h1>Кухонный нож</h1>"
             + "<p>Нож из нержавеющей стали с лезвием 20 см. Доставка по всей стране.</p>" * 20 + "</body></html>")


class Site:
    """Pages by path -> (status, body, content type, use_etag). Thread-safe hit counter per path."""

    def __init__(self, delay: float = 0.0, drip_every: float = 1.0):
        self.pages: dict[str, tuple[int, str, str, bool]] = {}
        self.modes: dict[str, str] = {}
        self.hits: Counter = Counter()
        self.lock = threading.Lock()
        self.delay = delay
        self.drip_every = drip_every
        self.closing = threading.Event()  # hostile answers give up when the site closes
        self.gate = threading.Event()  # "gate" answers wait for this
        self.arrived: dict[str, threading.Event] = {}  # path -> set when a request for it arrives
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                with site.lock:
                    site.hits[path] += 1
                    page = site.pages.get(path)
                    mode = site.modes.get(path)
                    site.arrived.setdefault(path, threading.Event()).set()
                if mode is not None:
                    try:
                        site._hostile_answer(self, mode, page)
                    except OSError:  # the client hung up: what a hostile server hopes will not happen
                        self.close_connection = True
                    return
                if site.delay:
                    time.sleep(site.delay)
                if page is None:
                    self.send_response(404)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", "9")
                    self.end_headers()
                    self.wfile.write(b"not found")
                    return
                status, body, ctype, use_etag = page
                data = body.encode("utf-8")
                etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
                if use_etag and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                if use_etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def url(self, path: str) -> str:
        return self.base.rstrip("/") + path

    def set(self, path: str, body: str, status: int = 200, ctype: str = "text/html; charset=utf-8",
            etag: bool = False) -> None:
        with self.lock:
            self.pages[path] = (status, body, ctype, etag)

    def hostile(self, path: str, mode: str | None) -> None:
        """Make `path` answer in a hostile `mode` (one of HOSTILE_MODES, or "gate"); None makes it normal again."""
        assert mode is None or mode in HOSTILE_MODES or mode == "gate", mode
        with self.lock:
            if mode is None:
                self.modes.pop(path, None)
            else:
                self.modes[path] = mode

    def wait_for(self, path: str, timeout: float) -> bool:
        with self.lock:
            event = self.arrived.setdefault(path, threading.Event())
        return event.wait(timeout)

    def _hostile_answer(self, handler: BaseHTTPRequestHandler, mode: str, page) -> None:
        out = handler.wfile
        body = (page[1] if page else product_page("Dripped Knife")).encode("utf-8")
        handler.close_connection = True
        if mode == "gate":
            self.gate.wait(60)
            mode = ""
        if mode == "drip":  # a large Content-Length, then one byte every drip_every seconds
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            handler.send_header("Content-Length", str(1_000_000))
            handler.end_headers()
            for byte in body * 1000:
                out.write(bytes([byte]))
                if self.closing.wait(self.drip_every):
                    return
        elif mode == "drip-headers":
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + b"X-Slow: " + b"a" * 5000 + b"\r\n\r\n"
            for byte in head:
                out.write(bytes([byte]))
                if self.closing.wait(self.drip_every):
                    return
        elif mode == "stall":  # headers and the start of the page, then nothing
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            out.write(body[:100])
            self.closing.wait(120)
        elif mode == "silent":  # not even a status line
            self.closing.wait(120)
        elif mode == "endless":  # no Content-Length, a little more page every 50 ms, for ever
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            handler.end_headers()
            out.write(body[: body.index(b"</main>")])
            while not self.closing.wait(0.05):
                out.write(b"<p>More knives.</p>" * 50)
        else:
            ctype, data = "text/html; charset=utf-8", body
            if mode == "binary":
                ctype, data = "text/html", random.Random(14).randbytes(20_000)
            elif mode == "mis-declared":
                data = _CYRILLIC.encode("cp1251")
            elif mode == "utf16-as-latin1":
                ctype, data = "text/html; charset=iso-8859-1", body.decode("utf-8").encode("utf-16-le")
            handler.send_response(200)
            handler.send_header("Content-Type", ctype)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            out.write(data)

    def count(self, pattern: str = ".*") -> int:
        with self.lock:
            return sum(n for path, n in self.hits.items() if re.fullmatch(pattern, path))

    def close(self) -> None:
        self.closing.set()
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()
