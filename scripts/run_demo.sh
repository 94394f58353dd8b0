#!/usr/bin/env bash
# `make run`: migrate the SQLite demo database, seed the small demo once, start the demo shop site (for the
# listing monitor), the scheduler and the web app, and print the demo logins. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
export RETAIL_ENV=development
export RETAIL_ALLOW_LOOPBACK_FETCH=1         # the demo shop runs on 127.0.0.1 (loopback only)
export RETAIL_FETCH_MIN_HOST_DELAY="${RETAIL_FETCH_MIN_HOST_DELAY:-1}"
PORT="${PORT:-5000}"
FLASK=".venv/bin/flask --app wsgi"

mkdir -p instance
if ! upgrade_log=$($FLASK db upgrade 2>&1); then
  echo "$upgrade_log" >&2
  if echo "$upgrade_log" | grep -q "Say which authority"; then
    echo >&2
    echo "This demo database was seeded before one deployment served many authorities." >&2
    echo "Run \`make clean-demo\` and then \`make run\` to seed the pan-London demo." >&2
  fi
  exit 1
fi
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
  Demo logins, by organisation (password for all: ${password}). Each sees only its own volunteers, operations,
  test purchases, training sessions and naming cases; the register is shared London-wide, and the boroughs a Met
  operation names read its records (this week's Operation Sceptre names Hackney and Westminster).
    Hackney       admin@hackney.demo (administrator), supervisor@hackney.demo, supervisor2@hackney.demo,
                  head@hackney.demo (supervisors; the head of service decides appeals),
                  officer@hackney.demo, officer2@hackney.demo (Trading Standards officers)
    Croydon       admin@croydon.demo, supervisor@croydon.demo, supervisor2@croydon.demo, head@croydon.demo,
                  officer@croydon.demo, officer2@croydon.demo
    Westminster   admin@westminster.demo, supervisor@westminster.demo, supervisor2@westminster.demo,
                  head@westminster.demo, officer@westminster.demo, officer2@westminster.demo
    The Met       police@met.demo, police2@met.demo (test-purchase team), supervisor@met.demo
    City Hall     city-hall@city-hall.demo (read-only measures across London)
    London TS     admin@lts.demo (London Trading Standards: sets the London-wide evidence retention period)
    Retailers     retailer@hackney.demo, retailer@croydon.demo (one shop each)
  Public register of named businesses: http://127.0.0.1:${PORT}/named
  Logs of the scheduler and the demo shop: instance/*.log

MSG
$FLASK run --host 127.0.0.1 --port "$PORT"
