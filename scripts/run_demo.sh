#!/usr/bin/env bash
# `make run`: migrate the SQLite demo database, seed the small demo once, start the demo shop site (for the
# listing monitor), the scheduler and the web app, and print the demo logins. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
export RETAIL_ENV=development
export RETAIL_ALLOW_PRIVATE_FETCH=1          # the demo shop runs on 127.0.0.1
export RETAIL_FETCH_MIN_HOST_DELAY="${RETAIL_FETCH_MIN_HOST_DELAY:-1}"
PORT="${PORT:-5000}"
FLASK=".venv/bin/flask --app wsgi"

mkdir -p instance
$FLASK db upgrade
password_file=instance/demo-password.txt
if [ ! -s "$password_file" ]; then
  .venv/bin/python -c "import secrets; print('demo-' + secrets.token_urlsafe(9))" > "$password_file"
fi
password=$(cat "$password_file")
$FLASK seed-demo --if-empty --password "$password"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

if $FLASK --help 2>/dev/null | grep -q "demo-shop"; then
  $FLASK demo-shop --port 5050 > instance/demo-shop.log 2>&1 &
  pids+=($!)
  # The scheduler treats an unreachable host as down for a while: let the demo shop come up first.
  for _ in $(seq 1 50); do
    .venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5050/robots.txt', timeout=1)" \
      2>/dev/null && break
    sleep 0.2
  done
fi
if $FLASK --help 2>/dev/null | grep -q "scheduler"; then
  $FLASK scheduler > instance/scheduler.log 2>&1 &
  pids+=($!)
fi

cat <<MSG

  Knife retail compliance tracker: http://127.0.0.1:${PORT}
  Demo logins (password for all: ${password}):
    admin@demo.test        administrator
    supervisor@demo.test   supervisor (senior officer)   also supervisor2@demo.test
    officer@demo.test      Trading Standards officer     also officer2@demo.test
    police@demo.test       police test-purchase team
    retailer@demo.test     retailer (one demo business)
  Public register of named businesses: http://127.0.0.1:${PORT}/named
  Logs of the scheduler and the demo shop: instance/*.log

MSG
$FLASK run --host 127.0.0.1 --port "$PORT"
