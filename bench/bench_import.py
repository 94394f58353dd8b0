"""A 50,000-row council register imported with the CLI, as an operator runs it: wall time and peak memory
(issue 14's target: < 60 s and < 300 MB).

    python bench/bench_import.py [--rows 50000] [--keep]          # a fresh SQLite file under bench/results
    BENCH_DATABASE_URL=postgresql+psycopg://... python bench/bench_import.py    # an EMPTY PostgreSQL database

The file is generated, not copied from a council: the mix a real one has (most rows with the council's reference,
some without; chains with several shops, a few in one postcode; Windows-1252 punctuation; spellings of boroughs).
The import runs in its own process (`flask --app wsgi import-register FILE --authority hackney`), so the figure is
the whole command: reading, checking every row, the chunked writes and the scores at the end.
"""
import argparse
import csv
import io
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DATA, ROOT  # noqa: E402

BOROUGHS = ["Hackney", "LB Hackney", "London Borough of Camden", "Islington", "Tower Hamlets", "Southwark",
            "Lambeth", "Newham", "Haringey", "Lewisham", "Westminster", "City of London Corporation", "Barnet"]
STREETS = ["High Street", "Mare Street", "Kingsland Road", "Holloway Road", "Old Kent Road", "Brixton Road",
           "Green Lanes", "Lewisham Way", "Edgware Road", "Whitechapel Road"]
SELLS = ["kitchen", "kitchen|craft", "garden|craft", "kitchen knives; cutlery", "folding|multi-tool", "razors", ""]
DISPLAY = ["locked cabinet", "behind counter", "open shelf", ""]
TYPES = ["independent", "Independent", "multiple", "chain", "national agreement"]
HEADINGS = ["Council Ref", "Business Name", "Trading As", "Company No", "Type", "Contact", "Email", "Tel",
            "Shop Name", "Address 1", "Address 2", "Town", "Post Code", "London Borough", "Products", "Knife Display",
            "Trading Status", "Notes"]


def generate(rows: int, seed: int = 14) -> bytes:
    """A council's register: ~92% of businesses have one shop, the rest are chains of 2-12; 1 row in 10 has no
    reference (the council never gave it one), matched on name and postcode instead."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    written, number = 0, 0
    while written < rows:
        number += 1
        shops = 1 if rng.random() < 0.92 else rng.randint(2, 12)
        ref = f"TS/{number:06d}" if rng.random() < 0.9 else ""
        name = f"{rng.choice(['Hardware', 'Cookshop', 'Stores', 'Supplies', 'Café Trading'])} {number} Ltd"
        kind = rng.choice(TYPES) if shops > 1 else "independent"
        outward = f"{rng.choice(['E', 'N', 'SE', 'SW', 'NW', 'W', 'EC'])}{rng.randint(1, 20)}"
        for shop in range(min(shops, rows - written)):
            postcode = f"{outward} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}" \
                       f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
            writer.writerow([ref, name, f"{name.split()[0]} {number}", f"{number:08d}" if kind != "independent" else "",
                             kind, f"Owner {number}", f"owner{number}@example.org", f"020 7{number % 1000:03d} 0000",
                             f"{name.split()[0]} {number} – branch {shop + 1}",
                             f"{rng.randint(1, 400)} {rng.choice(STREETS)}",
                             "", "London", postcode.lower() if rng.random() < 0.1 else postcode, rng.choice(BOROUGHS),
                             rng.choice(SELLS), rng.choice(DISPLAY), "trading", ""])
            written += 1
    return out.getvalue().encode("cp1252")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true", help="keep the SQLite database and the CSV afterwards")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    csv_path = DATA / f"register-{args.rows}.csv"
    csv_path.write_bytes(generate(args.rows))
    url = os.environ.get("BENCH_DATABASE_URL")
    db_path = None
    if not url:
        db_path = DATA / "import.sqlite3"
        db_path.unlink(missing_ok=True)
        url = f"sqlite:///{db_path}"
    env = {**os.environ, "DATABASE_URL": url, "RETAIL_ENV": "development"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    started = time.monotonic()
    result = subprocess.run(flask + ["import-register", str(csv_path), "--authority", "hackney"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    seconds = time.monotonic() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child: the import
    if result.returncode != 0:
        print(result.stdout[-2000:], result.stderr[-2000:])
        raise SystemExit(f"import failed ({result.returncode})")
    engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(result.stdout.strip().splitlines()[-1])
    print(f"{engine}: {args.rows:,} rows imported in {seconds:.1f} s, peak memory {peak_mb:.0f} MB "
          f"(target < 60 s, < 300 MB)")
    if not args.keep:
        csv_path.unlink()
        if db_path:
            db_path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
