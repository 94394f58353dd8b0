"""The demo shop site: fictional online stores served on this machine so the monitor can be shown without internet.

`flask --app wsgi demo-shop` (or `python -m retail.scrapers.demo_shop`) serves retail/scrapers/demo_site/ on
http://127.0.0.1:5050/: fifteen stores under /shops/shop1/ ... /shops/shop15/ (the small demo seed points its
online stores there), one robots.txt at the site root with per-shop Disallow lines, sitemaps for some shops,
delivery and terms pages of different strengths, decoys (a kettle with an "18 months warranty", a knife-law blog
post), one prohibited item (a zombie knife in shop 3) and one shop built in the browser by JavaScript (shop 15).
Pages carry ETag/Last-Modified, so re-checks get 304s.
"""
import os

from flask import Flask, abort, send_from_directory

SITE = os.path.join(os.path.dirname(__file__), "demo_site")


def create_app() -> Flask:
    app = Flask(__name__, static_folder=None)

    @app.route("/", defaults={"path": ""})
    @app.route("/<path:path>")
    def serve_file(path: str):
        full = os.path.normpath(os.path.join(SITE, path))
        if not full.startswith(SITE):
            abort(404)
        if os.path.isdir(full):
            path = os.path.join(path, "index.html")
        response = send_from_directory(SITE, path, conditional=True, etag=True, max_age=0)
        return response

    @app.after_request
    def headers(response):
        response.headers.setdefault("X-Demo-Site", "fictional stores for the knife retail compliance tracker")
        return response

    return app


def serve(host: str = "127.0.0.1", port: int = 5050) -> None:
    from werkzeug.serving import run_simple

    print(f"Demo shops on http://{host}:{port}/shops/shop1/ ... /shops/shop15/ (Ctrl+C to stop)")
    run_simple(host, port, create_app(), threaded=True, use_reloader=False)


if __name__ == "__main__":  # pragma: no cover
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5050)
    args = parser.parse_args()
    serve(args.host, args.port)
