"""Officer pages at scale: the business page with its timeline, the officer home page, and logging a test purchase.

    python bench/bench_pages.py [--scale uk] [--runs 20]

Uses the database `bench/bench_register.py` seeds (`bench/results/<scale>.sqlite3`, or BENCH_DATABASE_URL) and
times requests through the Flask test client, logged in as the demo officer.
"""
import argparse
import itertools
import os
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ensure_seeded, logged_in_client, median_ms  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="uk")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    url = ensure_seeded(args.scale)
    os.environ["DATABASE_URL"] = url
    import sqlalchemy as sa

    from retail import create_app
    from retail import purchases as P
    from retail.extensions import db
    from retail.models.purchases import Operation, TestPurchase, Volunteer
    from retail.models.register import Premises

    app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        busiest = db.session.execute(
            sa.select(TestPurchase.business_id, sa.func.count()).group_by(TestPurchase.business_id)
            .order_by(sa.func.count().desc()).limit(1)).first()
        independent = db.session.scalar(
            sa.select(TestPurchase.business_id).where(TestPurchase.premises_id.is_not(None))
            .group_by(TestPurchase.business_id).having(sa.func.count() >= 3).limit(1))
        today = date.today()
        op = db.session.scalar(sa.select(Operation).where(Operation.name == "Benchmark operation"))
        if op is None:
            op = P.create_operation({"name": "Benchmark operation", "lead_agency": "police", "boroughs": ["hackney"],
                                     "starts_on": today - timedelta(days=1), "ends_on": today + timedelta(days=30),
                                     "officer_ids": [], "risk_assessment_ref": "RA-BENCH"})
            volunteer = P.create_volunteer({"code_name": "BENCH-KESTREL", "date_of_birth": date(today.year - 14, 1, 1),
                                            "active": True})
            P.add_consent(op, {"volunteer_id": volunteer.id, "given_by": "Guardian", "given_on": op.starts_on,
                               "birth_certificate_checked_by": "PC", "photo_ref": "PH-B"})
            db.session.commit()
        volunteer = db.session.scalar(sa.select(Volunteer).where(Volunteer.code_name == "BENCH-KESTREL"))
        shops = db.session.scalars(sa.select(Premises.id).where(Premises.status == "trading").limit(2000)).all()
        op_id, volunteer_id = op.id, volunteer.id
    client = logged_in_client(app, "officer@hackney.demo")
    results = []
    for label, path in [(f"business page + timeline ({busiest[1]} test purchases)", f"/businesses/{busiest[0]}"),
                        ("business page + timeline (independent)", f"/businesses/{independent}"),
                        ("officer home page", "/")]:
        assert client.get(path).status_code == 200, path
        results.append((label, median_ms(lambda path=path: client.get(path), runs=args.runs)))

    counter = itertools.count()
    shop_cycle = itertools.cycle(shops)

    def log_attempt():
        n = next(counter)
        response = client.post("/purchases/new", data={
            "kind": "underage", "operation_id": str(op_id), "premises_id": str(next(shop_cycle)),
            "purchase_date": date.today().isoformat(), "volunteer_id": str(volunteer_id),
            "staff_action": "refused", "sale_made": "no", "item_category": "kitchen", "id_shown": "none",
            "signage_seen": "", "knives_secure": "", "officer_present": "yes", "photo_on_day_ref": f"PH-DAY-{n}",
            "submission_token": f"bench-{os.getpid()}-{n}"})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]

    results.append(("log an in-store test purchase (POST)", median_ms(log_attempt, runs=args.runs)))
    print(f"\n{args.scale} scale (median of {args.runs})")
    for label, ms in results:
        print(f"  {label:<58} {ms:7.1f} ms")


if __name__ == "__main__":
    main()
