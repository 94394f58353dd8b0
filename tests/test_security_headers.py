"""Issue 14: security headers on every response, no inline script or style for the policy to block, and API links
built from configuration rather than the Host header."""
import re
from pathlib import Path

import pytest

from retail.access import Role
from tests.conftest import login_as

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def _assert_security_headers(response):
    csp = response.headers.get("Content-Security-Policy", "")
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part.strip())
    assert directives.get("script-src") == "'self'" and directives.get("style-src") == "'self'", csp
    assert directives.get("frame-ancestors") == "'none'" and directives.get("default-src") == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in ("strict-origin-when-cross-origin", "same-origin")


@pytest.mark.parametrize("path", ["/login", "/named", "/api/v1/named", "/api/v1/openapi.json", "/api/v1/named.csv",
                                  "/no-such-page", "/static/app.css", "/static/app.js"])
def test_every_public_response_carries_the_security_headers(client, path):
    _assert_security_headers(client.get(path))


def test_signed_in_pages_redirects_and_errors_carry_them_too(client, users):
    _assert_security_headers(client.get("/register"))  # redirect to sign in
    _assert_security_headers(client.post("/login", data={"email": "x@test.example", "password": "wrong"}))
    login_as(client, users[Role.OFFICER])
    for path in ("/", "/register", "/admin/users", "/account/password"):
        _assert_security_headers(client.get(path))


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on…= event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_has_inline_script_or_style_that_the_policy_would_block():
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{template.relative_to(TEMPLATES)}:{line}: {what}")
    assert found == [], "move these into static/ files or classes:\n" + "\n".join(found)


def test_api_links_and_servers_ignore_a_forged_host_header(client):
    forged = {"Host": "evil.example"}
    for path in ("/api/v1/named", "/api/v1/openapi.json"):
        body = client.get(path, headers=forged).get_data(as_text=True)
        assert "evil.example" not in body, path
    spec = client.get("/api/v1/openapi.json", headers=forged).get_json()
    assert spec["servers"] == [{"url": "/api/v1"}]


def test_api_links_and_servers_come_from_the_configured_public_url(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "RETAIL_PUBLIC_URL", "https://knives.example.gov.uk/")
    forged = {"Host": "evil.example"}
    spec = client.get("/api/v1/openapi.json", headers=forged).get_json()
    assert spec["servers"] == [{"url": "https://knives.example.gov.uk/api/v1"}]
    links = client.get("/api/v1/named?page_size=5", headers=forged).get_json()["links"]
    assert links and all(link["href"].startswith("https://knives.example.gov.uk/api/v1/named?") for link in links)
