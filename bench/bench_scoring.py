"""Benchmark compliance scoring: a full rescore of every business, and an incremental rescore after one new purchase.

Seeds (or reuses) a demo database at the chosen scale, tops it up to the target volumes the issue names
(uk: ~190k businesses, 250k premises, 200k test purchases, 100k training records) with synthetic rows when the
areas' own demo generators made fewer, then times:
  * full rescore, every score rewritten (a new rules version: the worst case);
  * full rescore, nothing changed (the usual nightly run);
  * incremental rescore of one business after one new test purchase (median of N).

    .venv/bin/python bench/bench_scoring.py --scale uk [--db /tmp/bench_scoring_uk.sqlite3] [--runs 50]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta, UTC
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_FULL_S = 60.0
TARGET_INCREMENTAL_MS = 50.0
VOLUMES = {"small": (300, 100), "london": (8000, 4000), "uk": (200_000, 100_000)}  # purchases, training records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=["small", "london", "uk"], default="uk")
    parser.add_argument("--db", default=None, help="SQLite file to seed or reuse (default /tmp/bench_scoring_<scale>)")
    parser.add_argument("--runs", type=int, default=50, help="incremental rescores to time")
    args = parser.parse_args()
    path = Path(args.db or f"/tmp/bench_scoring_{args.scale}.sqlite3")
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("RETAIL_ENV", "development")

    import sqlalchemy as sa

    from retail import create_app, scoring
    from retail.extensions import db

    app = create_app()
    with app.app_context():
        fresh = not path.exists() or db.session.scalar(sa.text(
            "SELECT count(*) FROM sqlite_master WHERE name='business'")) == 0
        if fresh:
            from retail.audit import acting_as
            from retail.demo import seed

            db.create_all()
            started = time.perf_counter()
            print(f"Seeding the {args.scale} demo into {path} ...", flush=True)
            with acting_as("bench:seed"), scoring.scoring_paused():
                seed(args.scale, "bench-password-only", 2017)
            print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
        else:
            db.create_all()  # tables added since the file was made
        columns = {row[1] for row in db.session.execute(sa.text("PRAGMA table_info(compliance_score)"))}
        if "batch" not in columns:  # a file seeded by an older version of the model
            db.session.execute(sa.text("ALTER TABLE compliance_score ADD COLUMN batch VARCHAR(32) NOT NULL DEFAULT ''"))
            db.session.commit()
        _top_up(args.scale)
        counts = {name: db.session.scalar(sa.text(f"SELECT count(*) FROM {name}"))
                  for name in ("business", "premises", "test_purchase", "training_attendance", "training_refusal",
                               "training_invitation", "listing", "compliance_score", "score_factor")}
        print("Rows: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

        # Worst case: a new rules version, so every business gets a new score row and factor rows.
        rules = scoring.current_rules()
        values = dict(rules.values)
        values["rra_never"] = values.get("rra_never", 5) + (1 if rules.version % 2 else -1)
        scoring.save_rules(values, "bench", "benchmark: force a full rewrite")
        db.session.commit()
        started = time.perf_counter()
        summary = scoring.rescore_all()
        full = time.perf_counter() - started
        print(f"Full rescore, every score rewritten: {full:.1f} s ({summary['businesses']} businesses, "
              f"{summary['changed']} new score rows, {summary['candidates']} candidates) "
              f"[target < {TARGET_FULL_S:.0f} s: {'OK' if full < TARGET_FULL_S else 'SLOW'}]")
        started = time.perf_counter()
        summary = scoring.rescore_all()
        nightly = time.perf_counter() - started
        print(f"Full rescore, nothing changed (nightly): {nightly:.1f} s ({summary['changed']} new rows)")

        incremental = _incremental(args.runs)
        median = statistics.median(incremental)
        print(f"Incremental rescore after one new test purchase: median {median:.1f} ms, "
              f"p90 {sorted(incremental)[int(len(incremental) * 0.9) - 1]:.1f} ms over {len(incremental)} runs "
              f"[target < {TARGET_INCREMENTAL_MS:.0f} ms: {'OK' if median < TARGET_INCREMENTAL_MS else 'SLOW'}]")
        ok = full < TARGET_FULL_S and median < TARGET_INCREMENTAL_MS
    return 0 if ok else 1


def _top_up(scale: str) -> None:
    """Add synthetic test purchases and training records up to the issue's volumes (bulk inserts, no scoring)."""
    import sqlalchemy as sa

    from retail.demo import bulk_insert, next_id
    from retail.extensions import db
    from retail.models.purchases import TestPurchase
    from retail.models.training import TrainingAttendance, TrainingCourse, TrainingRefusal, TrainingSession

    want_purchases, want_training = VOLUMES[scale]
    rng = random.Random(5)
    today = date.today()
    premises = db.session.execute(sa.text("SELECT id, business_id FROM premises")).all()
    # Owned records belong to an authority (pan-London scoping): the synthetic ones to Hackney's.
    authority_id = db.session.scalar(sa.text("SELECT id FROM authority WHERE code = 'hackney'"))
    have = db.session.scalar(sa.select(sa.func.count()).select_from(TestPurchase))
    if have < want_purchases:
        start = next_id(TestPurchase.__table__)
        rows = []
        for i in range(want_purchases - have):
            pid, bid = rng.choice(premises)
            on = today - timedelta(days=rng.randint(0, 900))
            kind = "challenge25" if rng.random() < 0.15 else "underage"
            failed = rng.random() < 0.18
            outcome = rng.choice(["FAIL_SOLD_NO_CHALLENGE", "FAIL_SOLD_AFTER_CHALLENGE"]) if failed else rng.choice(
                ["PASS_REFUSED", "PASS_ID_REQUESTED_REFUSED"])
            rows.append(dict(id=start + i, kind=kind, channel="in-store", stage="concluded", business_id=bid,
                             premises_id=pid, purchase_date=on, outcome=outcome, failed=failed, concluded_on=on,
                             authority_id=authority_id, version=1, created_at=datetime.now(UTC),
                             updated_at=datetime.now(UTC)))
        bulk_insert(TestPurchase.__table__, rows, chunk=10000)
        print(f"  added {len(rows)} synthetic test purchases", flush=True)
    have = (db.session.scalar(sa.select(sa.func.count()).select_from(TrainingAttendance))
            + db.session.scalar(sa.select(sa.func.count()).select_from(TrainingRefusal)))
    if have < want_training:
        now = datetime.now(UTC)
        course = TrainingCourse(title="Bench course", provider="bench")
        db.session.add(course)
        db.session.flush()
        session_ids = []
        for k in range(40):
            s = TrainingSession(course_id=course.id, venue="Bench hall", authority_id=authority_id,
                                starts_at=now - timedelta(days=30 * k))
            db.session.add(s)
            db.session.flush()
            session_ids.append((s.id, (now - timedelta(days=30 * k)).date()))
        need = want_training - have
        attend_start = next_id(TrainingAttendance.__table__)
        refusal_start = next_id(TrainingRefusal.__table__)
        attendance, refusals = [], []
        for _ in range(need):
            pid, bid = rng.choice(premises)
            if rng.random() < 0.8:
                sid, day = rng.choice(session_ids)
                attendance.append(dict(id=attend_start + len(attendance), session_id=sid, business_id=bid,
                                       premises_id=pid, person_name="Bench Person", status="attended", passed=True,
                                       certificate_expires=day + timedelta(days=365), version=1, created_at=now,
                                       updated_at=now))
            else:
                refusals.append(dict(id=refusal_start + len(refusals), business_id=bid, premises_id=pid,
                                     refused_on=today - timedelta(days=rng.randint(0, 800)),
                                     kind=rng.choice(["declined", "no-show"]), reason="", recorded_by="bench",
                                     recorded_at=now))
        bulk_insert(TrainingAttendance.__table__, attendance, chunk=10000)
        bulk_insert(TrainingRefusal.__table__, refusals, chunk=10000)
        print(f"  added {len(attendance)} synthetic attendances and {len(refusals)} refusals", flush=True)
    db.session.commit()


def _incremental(runs: int) -> list[float]:
    import sqlalchemy as sa

    from retail import scoring
    from retail.extensions import db
    from retail.models.purchases import TestPurchase

    rng = random.Random(11)
    premises = db.session.execute(sa.text("SELECT id, business_id FROM premises ORDER BY random() LIMIT :n"),
                                  {"n": runs}).all()
    authority_id = db.session.scalar(sa.text("SELECT id FROM authority WHERE code = 'hackney'"))
    timings = []
    with scoring.scoring_paused():  # time the rescore itself, not the hook
        for pid, bid in premises:
            tp = TestPurchase(kind="underage", channel="in-store", stage="concluded", business_id=bid,
                              authority_id=authority_id,
                              premises_id=pid, purchase_date=date.today() - timedelta(days=rng.randint(0, 30)),
                              outcome="FAIL_SOLD_NO_CHALLENGE", failed=True, concluded_on=date.today())
            db.session.add(tp)
            db.session.commit()
            started = time.perf_counter()
            scoring.rescore_business(bid)
            timings.append((time.perf_counter() - started) * 1000)
            db.session.info["scoring_paused"] = True
    return timings


if __name__ == "__main__":
    sys.exit(main())
