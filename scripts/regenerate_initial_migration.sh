#!/usr/bin/env bash
# Development only, before the first release: rebuild migration 0001 from the models (later changes get their
# own migrations with `flask db migrate`). Keeps 0002 and later as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
mv migrations/versions/0002_*.py "$tmp"/
rm -f migrations/versions/0001_*.py
export RETAIL_ENV=development DATABASE_URL="sqlite:///$tmp/empty.sqlite3"
.venv/bin/flask --app wsgi db migrate -m "initial schema" >/dev/null
generated=$(ls migrations/versions/*_initial_schema.py)
sed -i "s/^revision = .*/revision = '0001'/" "$generated"
mv "$generated" migrations/versions/0001_initial_schema.py
mv "$tmp"/0002_*.py migrations/versions/
rm -rf "$tmp"
echo "migrations/versions/0001_initial_schema.py rebuilt"
