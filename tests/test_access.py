"""Every route declares who may use it; anonymous users are sent to sign in, other roles are refused."""
import re

import pytest

from retail.access import ANY_USER, PUBLIC, Role
from tests.conftest import login_as

# Methods other than GET are tried with POST; dummy ids are used for URL parameters (access is checked first).
DUMMY = {"int": "999999", "string": "x", "path": "x", "default": "x"}


def _url_for_rule(rule) -> str:
    def replace(match):
        converter = match.group(1) or "default"
        return DUMMY.get(converter, "x")

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", replace, rule.rule)


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("bootstrap."):
            continue
        view = app.view_functions[rule.endpoint]
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        yield rule, view, method


def test_every_route_declares_who_may_use_it(app):
    missing = [rule.rule for rule, view, _ in _routes(app) if not hasattr(view, "access_rule")]
    assert not missing, f"routes without an access rule: {missing}"


def test_anonymous_users_are_sent_to_login_or_get_401(app, client):
    for rule, view, method in _routes(app):
        if view.access_rule == PUBLIC:
            continue
        url = _url_for_rule(rule)
        response = client.open(url, method=method)
        if rule.rule.startswith("/api/"):
            assert response.status_code == 401, url
        else:
            assert response.status_code == 302, (url, response.status_code)
            assert "/login" in response.headers["Location"], url


@pytest.mark.parametrize("role", list(Role))
def test_roles_not_allowed_get_403(app, users, role):
    client = app.test_client()
    login_as(client, users[role])
    checked = 0
    for rule, view, method in _routes(app):
        rule_roles = view.access_rule
        if rule_roles in (PUBLIC, ANY_USER) or role in rule_roles:
            continue
        response = client.open(_url_for_rule(rule), method=method)
        assert response.status_code == 403, (rule.rule, role, response.status_code)
        checked += 1
    if role == Role.RETAILER:
        assert checked > 10  # retailers are refused the whole register


def test_retailer_is_refused_the_register(client, users):
    login_as(client, users[Role.RETAILER])
    assert client.get("/register").status_code == 403
    assert client.get("/register/export.csv").status_code == 403


def test_json_clients_get_401_not_a_redirect(client):
    response = client.get("/register", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json()["error"]
