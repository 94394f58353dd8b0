"""The WSGI entry point gunicorn loads."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_app_and_its_libraries_are_frozen_out_of_the_garbage_collector(tmp_path):
    """Issue 15: a full collection walked the ~200,000 objects of the app and its libraries, about 100 ms, every few
    requests (the p90 of the largest business page). Importing wsgi freezes them: the collector then tracks only
    what requests create."""
    code = "import gc, wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'wsgi.sqlite3'}", "RETAIL_ENV": "development", "PATH": ""}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=True)
    frozen, tracked = map(int, result.stdout.split())
    assert frozen > 50_000 and tracked < frozen / 10, (frozen, tracked)
