"""Register benchmark: median server time of the register list and business page at London and UK scale.

    python bench/bench_register.py [--scales london uk] [--runs 30]

Seeds `bench/results/<scale>.sqlite3` on first use (or uses BENCH_DATABASE_URL, e.g. PostgreSQL) and times
requests through the Flask test client (server time, no network), logged in as an officer.
"""
import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ensure_seeded, logged_in_client, median_ms  # noqa: E402


def run(scale: str, runs: int) -> list[tuple[str, float]]:
    url = ensure_seeded(scale)
    os.environ["DATABASE_URL"] = url
    import sqlalchemy as sa

    from retail import create_app
    from retail.extensions import db
    from retail.models.register import Business, Premises

    app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        sample = db.session.execute(
            sa.select(Premises.postcode, Premises.business_id).join(Business)
            .where(Premises.borough == "hackney", Business.business_type == "independent").limit(1)).first()
        busiest = db.session.scalar(sa.select(Business.id).join(Premises).group_by(Business.id)
                                    .order_by(sa.func.count().desc()).limit(1))
    client = logged_in_client(app, "officer@hackney.demo")
    postcode_prefix = sample.postcode[:4].strip()
    pages = [
        ("register, first page", "/register"),
        ("register, borough filter", "/register?borough=hackney"),
        (f"register, postcode search '{postcode_prefix}'", f"/register?q={postcode_prefix}"),
        ("register, name search 'patel'", "/register?q=patel"),
        ("business page (typical)", f"/businesses/{sample.business_id}"),
        ("business page (largest chain)", f"/businesses/{busiest}"),
    ]
    results = []
    for label, path in pages:
        assert client.get(path).status_code == 200, path
        results.append((label, median_ms(lambda path=path: client.get(path), runs=runs)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["london", "uk"])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    for scale in args.scales:
        print(f"\n{scale} scale (median of {args.runs})")
        for label, ms in run(scale, args.runs):
            print(f"  {label:<42} {ms:7.1f} ms")


if __name__ == "__main__":
    main()
