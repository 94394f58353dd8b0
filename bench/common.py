"""Shared helpers for benchmarks: a seeded database per scale (kept between runs) and a timing loop."""
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "results"
PASSWORD = "bench-password-1"


def database_url(scale: str) -> str:
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    DATA.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DATA / f'{scale}.sqlite3'}"


def ensure_seeded(scale: str) -> str:
    """Migrate and seed a database at `scale` once; later runs reuse it. Returns its URL."""
    url = database_url(scale)
    env = {**os.environ, "DATABASE_URL": url, "RETAIL_ENV": "development"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    started = time.monotonic()
    result = subprocess.run(flask + ["seed-demo", "--scale", scale, "--password", PASSWORD, "--if-empty"],
                            cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    if "not seeding again" not in result.stdout:
        # The largest child process so far: the seed's own process (db upgrade before it is far smaller).
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
        print(f"seeded {scale} in {time.monotonic() - started:.0f} s, peak memory {peak_mb} MB")
    return url


def median_ms(func, runs: int = 30, warmup: int = 3) -> float:
    for _ in range(warmup):
        func()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def logged_in_client(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, "login failed"
    return client
