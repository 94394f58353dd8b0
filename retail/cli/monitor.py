"""Listing monitor commands: the scheduler process, a foreground scrape, bulk store import and the demo shop."""
import json
import logging
import signal
import sys
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from ..audit import acting_as
from ..extensions import db
from ..models.listings import StoreMonitor
from ..models.register import OnlineStore


@click.command("scheduler")
@click.option("--workers", default=4, show_default=True, help="Stores checked at once (each on a different host).")
@click.option("--tick", "tick_seconds", default=15.0, show_default=True, help="Seconds between looks for due work.")
@click.option("--drain", is_flag=True, help="Check everything due now, then exit (instead of running for ever).")
@click.option("--nightly-now", is_flag=True, help="Run the nightly jobs now (if no process ran them today) and exit.")
@click.option("--classify-processes", type=int, default=None,
              help="Classify pages in this many worker processes (0 = in the crawl threads). "
                   "Default: one per CPU core when there are two or more.")
@with_appcontext
def scheduler_command(workers, tick_seconds, drain, nightly_now, classify_processes):
    """Run the listing monitor's scheduler in this process (start it once per machine; several may share a DB)."""
    from ..scrapers import scheduler as sched

    if classify_processes is None:
        classify_processes = sched.default_classify_processes()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per tick
    app = current_app._get_current_object()
    if nightly_now:
        ran = sched.run_nightly_if_due(sched.new_owner(), force=True)
        click.echo("Nightly jobs ran." if ran else "Nightly jobs already ran today.")
        return
    if drain:
        monitor = sched.MonitorScheduler(app, workers=workers, classify_processes=classify_processes)

        def stop(signum, frame):
            monitor.request_stop()  # drain() returns; shutdown() below hands the leases back

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            done = monitor.drain()
        finally:
            monitor.shutdown()
        click.echo(f"Checked {done} store(s).")
        return
    sched.run_forever(app, workers=workers, tick_seconds=tick_seconds, classify_processes=classify_processes)


@click.command("run")
@click.option("--store-id", type=int, multiple=True, help="Only this store (repeatable).")
@click.option("--limit", type=int, default=None, help="At most this many stores.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object per store (JSON Lines), each as soon as its store is done.")
@click.option("--workers", default=4, show_default=True)
@with_appcontext
def scrape_run_command(store_id, limit, as_json, workers):
    """Check stores now, in the foreground, with a progress bar and a summary."""
    from ..scrapers import monitor as mon
    from ..scrapers import scheduler as sched
    from ..scrapers.targets import store_report

    app = current_app._get_current_object()
    query = sa.select(OnlineStore).order_by(OnlineStore.id)
    if store_id:
        query = query.where(OnlineStore.id.in_(store_id))
        stores = list(db.session.scalars(query))
        missing = set(store_id) - {s.id for s in stores}
        if missing:
            raise click.ClickException(f"No online store with id {', '.join(map(str, sorted(missing)))}.")
    else:
        query = query.outerjoin(StoreMonitor, StoreMonitor.online_store_id == OnlineStore.id).where(
            sa.or_(StoreMonitor.id.is_(None), StoreMonitor.enabled.is_(True)))
        stores = list(db.session.scalars(query))
    if limit is not None:
        stores = stores[:limit]
    for store in stores:
        mon.ensure_monitor(store)
    db.session.commit()
    ids = [(s.id, s.base_url) for s in stores]
    owner = "cli:" + sched.new_owner()
    fetcher = mon.make_fetcher(app)
    by_host = defaultdict(list)
    from ..scrapers.fetch import host_key

    for sid, url in ids:
        by_host[host_key(url)].append(sid)
    results, skipped, failed = {}, [], {}
    lock = threading.Lock()
    out = sys.stderr if as_json else sys.stdout
    urls = dict(ids)
    time_limit = sched.store_time_limit(app)

    def emit(report: dict) -> None:
        # Written (and flushed, click.echo does) as each store finishes, so one slow store hides no other's result.
        if as_json:
            with lock:
                click.echo(json.dumps(report))

    def run_host(store_ids, bar):
        for sid in store_ids:
            with app.app_context():
                try:
                    if not sched.claim_store(sid, owner):
                        with lock:
                            skipped.append(sid)
                        emit({"store_id": sid, "url": urls[sid], "skipped": "a scheduler is checking it right now"})
                        continue
                    try:
                        with sched.LeaseKeeper(app, sid, owner, time_limit=time_limit) as lease, \
                                acting_as("cli:scrape-run"):
                            result = mon.check_store(sid, fetcher, trigger="cli", worker=owner,
                                                     heartbeat=lease.check, time_limit=time_limit)
                        sched.complete(sid, owner)
                        with lock:
                            results[sid] = result
                        emit(store_report(sid))
                    except Exception as exc:  # report and carry on with the other stores
                        db.session.rollback()
                        sched.release(sid, owner)
                        with lock:
                            failed[sid] = str(exc)
                        emit({"store_id": sid, "url": urls[sid], "error": str(exc)})
                finally:
                    db.session.remove()
                    with lock:
                        bar.update(1)

    with click.progressbar(length=len(ids), label="Checking stores", file=out, show_pos=True) as bar:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for future in [pool.submit(run_host, group, bar) for group in by_host.values()]:
                future.result()
    fetcher.close()
    pages = sum(r.pages for r in results.values())
    errors = sum(r.errors for r in results.values())
    alerts = sum(r.alerts for r in results.values())
    levels = defaultdict(int)
    for r in results.values():
        levels[r.age_check or "no bladed listings"] += 1
    summary = (f"Checked {len(results)} store(s), {pages} page(s), {errors} failed fetch(es), {alerts} new alert(s). "
               + ", ".join(f"{n} {level}" for level, n in sorted(levels.items())))
    click.echo(summary, file=out)
    for sid in skipped:
        click.echo(f"Store {sid} skipped: a scheduler is checking it right now.", file=out)
    for sid, message in failed.items():
        click.echo(f"Store {sid} failed: {message}", file=sys.stderr)
    if failed:
        sys.exit(1)


@click.group("scrape")
def scrape_group():
    """The listing monitor."""


scrape_group.add_command(scrape_run_command)


@click.command("import-stores")
@click.argument("file", type=click.File("rb"))
@with_appcontext
def import_stores_command(file):
    """Import online stores from CSV (business, url, platform, start_urls), all or nothing."""
    from ..scrapers.store_import import StoreImportError, import_stores

    raw = file.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    try:
        with acting_as("cli:import-stores"):
            counts = import_stores(text)
            db.session.commit()
    except StoreImportError as exc:
        db.session.rollback()
        for message in exc.errors:
            click.echo(message, err=True)
        raise click.ClickException(f"Nothing imported: {len(exc.errors)} problem(s).") from exc
    click.echo(f"Imported: {counts['created']} added, {counts['updated']} updated, {counts['unchanged']} unchanged.")


@click.command("demo-shop")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5050, show_default=True)
def demo_shop_command(host, port):
    """Serve the demo shop site (fictional stores the demo data points at) on this machine."""
    from ..scrapers.demo_shop import serve

    serve(host, port)


COMMANDS = [scheduler_command, scrape_group, import_stores_command, demo_shop_command]
