"""The open-data API keeps its published contract: Schemathesis generates requests from /api/v1/openapi.json (valid
ones, and ones the document says are invalid, and methods it does not declare) and checks every answer against the
same document.

Run alone: `.venv/bin/python -m pytest tests/test_api_contract.py` (or `-m contract`). Bounded: a fixed seed,
deterministic generation and a few dozen examples per operation keep it to seconds.
"""
import json
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               positive_data_acceptance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance,
                                               unsupported_method)

from retail import create_app
from retail.blueprints.api import OPENAPI_FILE
from tests.conftest import login_as
from tests.test_public_api import people, three_entries  # noqa: F401  (fixtures: three published entries)

pytestmark = pytest.mark.contract

CONFIG = schemathesis.Config.from_dict({
    "seed": 16,
    "generation": {"mode": "all", "max-examples": 40, "deterministic": True},
})
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection, positive_data_acceptance, unsupported_method]


@pytest.fixture
def production_like_app(_schema_app, app):
    # CSRF protection on, as in production: an undeclared POST must still be a 405, not a CSRF 400.
    return create_app({"TESTING": False, "ENV_NAME": "testing", "SECRET_KEY": "contract-tests",
                       "WTF_CSRF_ENABLED": True, "SESSION_COOKIE_SECURE": False})


@pytest.fixture
def open_data_schema(production_like_app, three_entries):  # noqa: F811
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", production_like_app, config=CONFIG)


schema = schemathesis.pytest.from_fixture("open_data_schema")


@schema.parametrize()
@settings(deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_every_operation_keeps_the_published_contract(case):
    case.call_and_validate(checks=CHECKS)


def test_the_document_describes_every_api_route_and_every_parameter_bound(app):
    """A route added under /api/ without a description would escape the contract test above."""
    spec = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    documented = {"/api/v1" + path for path in spec["paths"]}
    routes = {re.sub(r"<(?:\w+:)?\w+>", "{id}", rule.rule) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/") and rule.endpoint != "api.openapi"}
    assert routes <= documented, routes - documented
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert {"200", "405"} <= set(operation["responses"]), (path, method)
            for parameter in operation.get("parameters", []):
                bounds = parameter["schema"]
                if bounds["type"] == "integer":
                    assert "minimum" in bounds and "maximum" in bounds, (path, parameter["name"])
                else:
                    assert "maxLength" in bounds, (path, parameter["name"])
                if parameter["in"] == "query":
                    assert "400" in operation["responses"], (path, method)


# The findings of the first Schemathesis run, kept as plain examples so they stay fixed whatever it generates.

def test_page_size_outside_the_published_bounds_is_refused(client, three_entries):  # noqa: F811
    for bad in ("0", "-1", "501", "x"):
        response = client.get(f"/api/v1/named?page_size={bad}")
        assert response.status_code == 400 and response.is_json, bad
    assert client.get("/api/v1/named?page=0").status_code == 400
    assert client.get("/api/v1/named?page_size=500").status_code == 200
    assert client.get("/api/v1/named?name=" + "x" * 101).status_code == 400


def test_undeclared_method_is_405_with_allow(client):
    for url in ("/api/v1/named", "/api/v1/named/1", "/api/v1/named.csv"):
        response = client.post(url)
        assert response.status_code == 405 and response.is_json, url
        assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}, url


def test_search_for_the_last_unicode_character_is_not_a_server_error(client, three_entries, people):  # noqa: F811
    login_as(client, people["officer"])  # for the register's search; the rest is public
    for url in ("/api/v1/named?name=", "/api/v1/named?postcode=", "/api/v1/named.csv?name=", "/named?q=",
                "/named?postcode=", "/register?q="):
        for text in ("\U0010ffff", "a\U0010ffff", "\U0010ffff\U0010ffff", "edge\U0010ffff"):
            response = client.get(url + text)
            assert response.status_code == 200, (url, text)


def test_prefix_upper_bound():
    from retail.validation import prefix_upper_bound

    assert prefix_upper_bound("abc") == "abd"
    assert prefix_upper_bound("a\U0010ffff") == "b"
    assert prefix_upper_bound("\U0010ffff") is None


def test_entry_ids_beyond_the_database_integer_are_404(client):
    assert client.get("/api/v1/named/99999999999999999999").status_code == 404
    assert client.get("/api/v1/named/2147483648").status_code == 404


def test_a_nul_character_is_refused_not_a_server_error(client, three_entries):  # noqa: F811
    """PostgreSQL refuses NUL even in a comparison: found by this contract test on PostgreSQL."""
    for url in ("/api/v1/named?name=%00", "/api/v1/named.csv?postcode=a%00", "/named?q=%00", "/register?q=%00"):
        assert client.get(url).status_code == 400, url
