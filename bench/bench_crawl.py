"""Crawl throughput: 1,000 product pages across 20 local hosts, per-host delay 0, through the real scheduler path.

A separate process serves 20 shops on 20 ports of 127.0.0.1 (one store each, a home page linking 50 product pages of
about 50 KB). The crawler runs MonitorScheduler.drain() (claiming, fetching, classifying, storing checks) twice on a
fresh SQLite database (or BENCH_DATABASE_URL):

- threads: classification in the crawl threads (the GIL keeps parsing on one core);
- process pool: classification in a pool of worker processes (--processes, default: the number of cores).

Prints pages/second and how much CPU the crawler used (1.0 = one core busy).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER = r"""
import sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
hosts, products = int(sys.argv[1]), int(sys.argv[2])
repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 220  # 220 sentences = a page of about 40-50 KB
SENTENCE = ("This chef's knife is forged from high-carbon stainless steel with a full tang, a riveted handle and a "
            "20cm blade honed to a 15 degree edge for precise slicing of vegetables and meat.")
filler = " ".join([SENTENCE] * repeat)
AGE = ["<p>By placing an order you confirm that you are 18 or over.</p>",
       "<p>We use Yoti to verify your age at checkout; unverified orders are cancelled.</p>", ""]
def product(h, i):
    return (f"<!doctype html><html><head><title>Knife {i} | Shop {h}</title></head><body><nav>"
            f"<a href='/'>Home</a> <a href='/delivery'>Delivery</a></nav><main><h1>Chef Knife {i}</h1>"
            f"<p class='price'>&pound;{20 + i}.99</p><form action='/basket'><button>Add to basket</button></form>"
            f"{AGE[i % 3]}<p>{filler}</p></main></body></html>").encode()
def home(h):
    links = "".join(f"<li class='product-card'><a href='/product/knife-{i}'>Knife {i}</a></li>"
                    for i in range(products))
    return f"<!doctype html><html><head><title>Shop {h}</title></head><body><ul>{links}</ul></body></html>".encode()
servers = []
for h in range(hosts):
    pages = {"/": home(h), "/robots.txt": b"User-agent: *\nAllow: /\n"}
    pages.update({f"/product/knife-{i}": product(h, i) for i in range(products)})
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        table = pages
        def log_message(self, *a): pass
        def do_GET(self):
            body = self.table.get(self.path.split("?")[0])
            if body is None:
                self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers(); return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain" if self.path.endswith(".txt") else "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers(); self.wfile.write(body)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    servers.append(srv)
print(" ".join(str(s.server_address[1]) for s in servers), flush=True)
sys.stdin.read()
"""


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(mode: str, ports: list[int], products: int, workers: int, processes: int, screenshots: bool = False) -> dict:
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/crawl.sqlite3"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("RETAIL_ENV", "development")
    from retail import create_app
    from retail.extensions import db
    from retail.models.listings import ListingCheck, StoreMonitor
    from retail.scrapers import monitor as mon
    from retail.scrapers.scheduler import MonitorScheduler
    from tests.factories import create_business, create_store

    # Screenshots of listings with a finding (headless Chromium, up to 20 a store a run) are off by default here: the
    # comparison is with changedetection.io's checks, which take none; --screenshots measures them too.
    app = create_app({"RETAIL_ALLOW_LOOPBACK_FETCH": True, "RETAIL_FETCH_MIN_HOST_DELAY": 0,
                      "RETAIL_MONITOR_SCREENSHOTS": screenshots})
    if os.environ.get("BENCH_SQLITE_SYNC_NORMAL"):  # experiment: fewer fsyncs (safe with WAL)
        import sqlalchemy as sa

        with app.app_context():
            sa.event.listen(db.engine, "connect", lambda conn, rec: conn.execute("PRAGMA synchronous=NORMAL"))
    with app.app_context():
        db.drop_all()
        db.create_all()
        business = create_business(legal_name="Bench Ltd", trading_name="Bench", shop=False)
        for port in ports:
            store = create_store(business, url=f"http://127.0.0.1:{port}/")
            mon.ensure_monitor(store).listing_cap = products
        db.session.commit()
    scheduler = MonitorScheduler(app, workers=workers, classify_processes=processes if mode == "pool" else 0)
    if scheduler._classify_pool is not None:  # start the workers before the clock does
        list(scheduler._classify_pool.map(int, range(processes * 2)))
    cpu0, wall0 = os.times(), time.perf_counter()
    scheduler.drain(poll=0.02)
    wall = time.perf_counter() - wall0
    cpu1 = os.times()
    scheduler.shutdown()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system) + \
          (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    with app.app_context():
        checks = db.session.scalar(db.select(db.func.count()).select_from(ListingCheck))
        errors = db.session.scalar(db.select(db.func.count()).select_from(ListingCheck).where(ListingCheck.error != ""))
        bladed = db.session.scalar(db.select(db.func.sum(StoreMonitor.bladed_listings)))
        db.session.remove()
        db.engine.dispose()
    # pool workers' CPU is only in children_* once they exit, so it is measured after shutdown
    cpu_after = os.times()
    cpu += (cpu_after.children_user - cpu1.children_user) + (cpu_after.children_system - cpu1.children_system)
    return {"mode": mode, "pages": checks, "errors": errors, "bladed": bladed, "seconds": wall,
            "pages_per_second": checks / wall, "cores_busy": cpu / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--products", type=int, default=50, help="product pages per host")
    parser.add_argument("--workers", type=int, default=8, help="crawl threads (one store per host at a time)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2, help="classification processes")
    parser.add_argument("--mode", choices=["threads", "pool", "both"], default="both")
    parser.add_argument("--screenshots", action="store_true", help="also take the evidence screenshots (Chromium)")
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(args.hosts), str(args.products)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ports = [int(p) for p in server.stdout.readline().split()]
        print(f"{args.hosts} hosts x {args.products} product pages (~50 KB each), per-host delay 0, "
              f"{args.workers} crawl threads, {os.cpu_count()} cores")
        modes = ["threads", "pool"] if args.mode == "both" else [args.mode]
        for mode in modes:
            server_cpu = cpu_seconds(server.pid)
            r = run(mode, ports, args.products, args.workers, args.processes, args.screenshots)
            r["server_cpu"] = cpu_seconds(server.pid) - server_cpu
            label = "classify in crawl threads" if mode == "threads" else f"classify in {args.processes} processes"
            print(f"{label:34s} {r['pages']:5d} pages ({r['errors']} errors) in {r['seconds']:.1f} s = "
                  f"{r['pages_per_second']:.0f} pages/s, crawler CPU {r['cores_busy']:.2f} cores busy "
                  f"(+ test site {r['server_cpu'] / r['seconds']:.2f}), {r['bladed']} bladed listings")
    finally:
        server.stdin.close()
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
