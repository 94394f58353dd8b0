"""A tiny local shop site for monitor and scheduler tests: pages in a dict, served on 127.0.0.1, hits counted.

Pages can be changed between checks; ETag-aware pages answer 304 to a matching If-None-Match.
"""
from __future__ import annotations

import hashlib
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


class Site:
    """Pages by path -> (status, body, content type, use_etag). Thread-safe hit counter per path."""

    def __init__(self, delay: float = 0.0):
        self.pages: dict[str, tuple[int, str, str, bool]] = {}
        self.hits: Counter = Counter()
        self.lock = threading.Lock()
        self.delay = delay
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                with site.lock:
                    site.hits[path] += 1
                    page = site.pages.get(path)
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

    def count(self, pattern: str = ".*") -> int:
        with self.lock:
            return sum(n for path, n in self.hits.items() if re.fullmatch(pattern, path))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
