"""Fuzz every route (issue 14, done-when): each form and query parameter of every route in app.url_map, sent with
hostile values as each role, must never answer a server error, and a refused post must change no record.

The forms are discovered from the pages themselves (every <form> a role is shown), the query parameters from the
pages' search forms plus every `request.args` name the code reads, so a new route or field is fuzzed without
editing this file. Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL."""
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from retail.access import Role
from retail.validation import BoundedIntConverter

DEMO_PASSWORD = "demo-password-for-tests"

# Hostile values: the ends of the Unicode range (prefix searches), huge and odd numbers ("²" is a digit to
# str.isdigit but not to int), impossible and extreme dates, markup, formula text, line breaks, long and blank text.
HOSTILE = [
    "\ud7ff", "\uffff", "\U0010ffff", "9" * 25, "-1", "²", "1e999", "NaN", "0001-01-01", "9999-12-31",
    "<script>alert(1)</script>'\"", "=1+1", "a\r\nb", "x" * 5000, " ", "\x00",
]
# A smaller set for forms (each is sent once per form, all fields at once).
HOSTILE_FORM = ["\ud7ff", "9" * 25, "²", "NaN", "9999-12-31", "<b>'\"", "a\r\nb", "x" * 5000, " ", "\x00"]

ROLES = {
    Role.ADMIN: "admin@hackney.demo", Role.SUPERVISOR: "supervisor@hackney.demo",
    Role.OFFICER: "officer@hackney.demo", Role.POLICE: "police@met.demo",
    Role.RETAILER: "retailer@hackney.demo", Role.CITY_HALL: "city-hall@city-hall.demo",
}
PATH_TABLES = {
    "action_id": "follow_up_action", "alert_id": "monitor_alert", "attachment_id": "naming_attachment",
    "attendance_id": "training_attendance", "batch_id": "import_batch", "business_id": "business",
    "case_id": "naming_case", "check_id": "listing_check", "consent_id": "volunteer_consent",
    "course_id": "training_course", "entry_id": "naming_case", "invitation_id": "training_invitation",
    "letter_id": "notification_letter", "listing_id": "listing", "operation_id": "operation",
    "premises_id": "premises", "purchase_id": "test_purchase", "session_id": "training_session",
    "signature_id": "rra_signature", "store_id": "online_store", "user_id": "user_account",
    "volunteer_id": "volunteer", "visit_id": "advice_visit", "message_id": "outbox_message",
    "record_id": "test_purchase",
}
# Rows a refused post may still add: the audit of the refusal, sign-in counters, idempotency keys.
UNCOUNTED = {"audit_entry", "login_throttle", "form_submission"}
SKIP_ENDPOINTS = {"static", "bootstrap.static", "auth.logout", "main.service_worker"}


def _query_names() -> set[str]:
    """Every query parameter name the code reads."""
    names = {"page", "per_page", "from", "to"}
    for path in Path(__file__).resolve().parents[1].joinpath("retail").rglob("*.py"):
        text = path.read_text()
        names |= set(re.findall(r"args\.get(?:list)?\(\s*\"(\w+)\"", text))
        names |= set(re.findall(r"args\[\"(\w+)\"\]", text))
        names |= set(re.findall(r"_(?:int|text)_arg\(\"(\w+)\"", text))
    return names


class _Forms(HTMLParser):
    """The forms of a page: action, method and fields (name -> default value)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                          "fields": {}, "files": set(), "hidden": set()}
            self.forms.append(self._form)
        elif self._form is not None and a.get("name"):
            name = a["name"]
            if tag == "input":
                kind = (a.get("type") or "text").lower()
                if kind == "file":
                    self._form["files"].add(name)
                elif kind in ("checkbox", "radio"):
                    if "checked" in a or name not in self._form["fields"]:
                        self._form["fields"][name] = a.get("value", "on")
                elif kind not in ("submit", "button", "image", "reset"):
                    self._form["fields"][name] = a.get("value", "")
                    if kind == "hidden":
                        self._form["hidden"].add(name)
            elif tag == "textarea":
                self._form["fields"][name] = ""
            elif tag == "select":
                self._select = name
                self._form["fields"].setdefault(name, "")
        elif tag == "option" and self._form is not None and self._select:
            if "selected" in a or not self._form["fields"].get(self._select):
                self._form["fields"][self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _counts(db) -> dict[str, int]:
    tables = [t.name for t in db.metadata.sorted_tables if t.name not in UNCOUNTED]
    query = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {t}" for t in tables)
    with db.engine.connect() as conn:
        return dict(conn.execute(sa.text(query)).all())


def _first_id(db, table: str, user) -> int:
    columns = {c.name for c in db.metadata.tables[table].columns}
    with db.engine.connect() as conn:
        if user.business_id and "business_id" in columns:
            found = conn.execute(sa.text(f"SELECT MIN(id) FROM {table} WHERE business_id = :b"),
                                 {"b": user.business_id}).scalar()
            if found:
                return found
        if "authority_id" in columns:
            found = conn.execute(sa.text(f"SELECT MIN(id) FROM {table} WHERE authority_id = :a"),
                                 {"a": user.authority_id}).scalar()
            if found:
                return found
        return conn.execute(sa.text(f"SELECT MIN(id) FROM {table}")).scalar() or 1


def _urls(app, db, user) -> list[str]:
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if rule.endpoint in SKIP_ENDPOINTS or "GET" not in rule.methods:
                continue
            values = {}
            for arg in rule.arguments:
                if arg in PATH_TABLES:
                    values[arg] = _first_id(db, PATH_TABLES[arg], user)
                elif arg == "table":
                    values[arg] = "outcomes"
                elif arg == "kind":
                    values[arg] = "test-purchase"
                elif isinstance(rule._converters[arg], BoundedIntConverter):
                    values[arg] = 1  # an id this file does not know yet: the first record of its kind, probably
                else:
                    values[arg] = "x"
            urls.append(url_for(rule.endpoint, **values))
    return urls


@pytest.fixture
def demo(app, db, runner, monkeypatch):
    monkeypatch.setitem(app.config, "RETAIL_UNSCOPED_OWNER", None)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    result = runner.invoke(args=["seed-demo", "--password", DEMO_PASSWORD])
    assert result.exit_code == 0, result.output


def _login(client, email):
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("role", list(ROLES), ids=[r.value for r in ROLES])
def test_no_hostile_value_in_any_query_or_form_crashes_a_page_or_half_saves(demo, app, db, role):
    from retail.models.accounts import User

    email = ROLES[role]
    user = db.session.scalar(sa.select(User).where(User.email == email))
    client = app.test_client()
    _login(client, email)
    names = sorted(_query_names())
    failures = []

    def send(method, url, **kwargs):
        # The test app re-raises errors: a raised error is the 500 a user would see.
        try:
            return client.open(url, method=method, **kwargs)
        except Exception as exc:  # noqa: BLE001
            db.session.rollback()
            failures.append(f"{method} {url[:120]!r} {kwargs.get('query_string') or ''!r:.80} -> "
                            f"{type(exc).__name__}: {str(exc)[:160]}")
            return None

    def check(method, url, response, before=None):
        if response is None:
            return
        if response.status_code >= 500:
            failures.append(f"{method} {url[:160]!r} -> {response.status_code}")
        elif before is not None and response.status_code != 302 and _counts(db) != before:
            after = _counts(db)
            changed = {t: (before[t], after[t]) for t in after if before.get(t) != after[t]}
            failures.append(f"{method} {url[:160]!r} refused ({response.status_code}) but changed {changed}")

    posts = {}
    for url in _urls(app, db, user):
        response = send("GET", url)
        check("GET", url, response)
        if response is None or response.status_code != 200 or "html" not in response.content_type:
            continue
        page_forms = _forms(response.get_data(as_text=True))
        params = set(names)
        for form in page_forms:
            if form["method"] == "get":
                params |= set(form["fields"])
            else:
                action = urlsplit(form["action"] or url)
                if action.netloc or action.path in ("/logout",):
                    continue
                posts.setdefault(action.path + (f"?{action.query}" if action.query else ""), form)
        for value in HOSTILE:
            response = send("GET", url, query_string={name: value for name in params})
            check("GET", f"{url}?*={value[:20]!r}", response)
    for action, form in sorted(posts.items()):
        for value in HOSTILE_FORM:
            data = {name: (default if name in form["hidden"] else value) for name, default in form["fields"].items()}
            before = _counts(db)
            response = send("POST", action, data=data)
            check("POST", f"{action} *={value[:20]!r}", response, before)
            if response is not None and response.status_code == 302 and "/login" in response.headers.get("Location", ""):
                _login(client, email)
    assert not failures, "\n".join(failures)
