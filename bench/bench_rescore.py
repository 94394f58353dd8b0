"""The full rescore as the scheduler runs it each night, on an already seeded database, SQLite or PostgreSQL: its time
and its process's memory (issue 15 part 4: < 10 s in < 150 MB at UK scale).

    python bench/bench_rescore.py                       # bench/results/uk.sqlite3 (seeded by bench_http.py)
    BENCH_DATABASE_URL=postgresql+psycopg://retail:retail@127.0.0.1:5432/retail_uk python bench/bench_rescore.py
    ... --rewrite     # first a new rules version, so every score is rewritten (adds ~220k score rows: a bench copy)

Each run is a fresh process, so the peak resident memory printed is the job's (with the app loaded, as the
scheduler has it), not left over from seeding.
"""
import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rewrite", action="store_true", help="save a new rules version first (every score changes)")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL") or \
        f"sqlite:///{Path(__file__).resolve().parent / 'results' / 'uk.sqlite3'}"
    os.environ.update(DATABASE_URL=url, RETAIL_ENV="development")

    from retail import create_app, scoring
    from retail.extensions import db

    app = create_app()
    with app.app_context():
        if args.rewrite:
            rules = scoring.current_rules()
            values = dict(rules.values)
            values["rra_never"] = values.get("rra_never", 5) + (1 if rules.version % 2 else -1)
            scoring.save_rules(values, "bench", "benchmark: every score rewritten")
            db.session.commit()
        at_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        started = time.perf_counter()
        summary = scoring.rescore_all()
        took = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"{engine}: full rescore {'(every score rewritten)' if args.rewrite else '(nightly)'} of "
          f"{summary['businesses']:,} businesses, {summary['changed']:,} changed: {took:.1f} s; process peak "
          f"{peak} MB ({at_start} MB before the rescore)")


if __name__ == "__main__":
    main()
