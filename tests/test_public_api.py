"""The public register and the open data API: search, pagination, OpenAPI validation, nothing private leaks."""
import csv
import io
import json
import re
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa

from retail import naming
from retail.access import Role
from retail.extensions import db
from retail.models.purchases import TestPurchase, Volunteer
from tests.conftest import login_as, make_user
from tests.test_naming import STATEMENT, candidate_business, published_case
from tests.test_scoring import days_ago

SPEC = json.loads((Path(__file__).resolve().parents[1] / "retail" / "openapi" / "named.json").read_text())


def validate(instance, schema_name: str) -> None:
    """Validate a real response against a schema of the OpenAPI file (nullable → JSON Schema null)."""
    def convert(node):
        if isinstance(node, dict):
            node = {k: convert(v) for k, v in node.items()}
            if node.pop("nullable", False) and "type" in node:
                node["type"] = [node["type"], "null"]
            if "$ref" in node:
                node["$ref"] = node["$ref"].replace("#/components/schemas/", "#/definitions/")
            return node
        if isinstance(node, list):
            return [convert(v) for v in node]
        return node

    definitions = convert(SPEC["components"]["schemas"])
    schema = {**definitions[schema_name], "definitions": definitions}
    jsonschema.validate(instance, schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture
def people(app, users):
    return {"officer": users[Role.OFFICER], "supervisor": users[Role.SUPERVISOR],
            "supervisor2": make_user(Role.SUPERVISOR, "supervisor2@test.example", name="Second Supervisor"),
            "retailer": users[Role.RETAILER]}


@pytest.fixture
def three_entries(people):
    volunteer = Volunteer(code_name="FALCON-7", date_of_birth=days_ago(15 * 365))
    db.session.add(volunteer)
    db.session.commit()
    cases = []
    for name, postcode, borough in (("Blade Corner", "E8 2AA", "hackney"), ("Cutlers Row", "SE1 4AA", "southwark"),
                                    ("Edge Mart", "N1 5AA", "islington")):
        business = candidate_business(name, postcode, borough)
        db.session.execute(sa.update(TestPurchase).where(TestPurchase.business_id == business.id)
                           .values(volunteer_id=volunteer.id, officer_inside="PC Hidden Name"))
        db.session.commit()
        cases.append(published_case(people, business))
    naming.submit_reply(cases[0], people["retailer"], "We have retrained our staff.")
    naming.check_reply(cases[0], people["supervisor"], True)
    db.session.commit()
    return cases


def names_listed(client, url: str) -> set[str]:
    html = client.get(url).get_data(as_text=True)
    return set(re.findall(r'class="h5 card-title"><a href="[^"]+">([^<]+)</a>', html))


def test_public_page_needs_no_login_and_searches(client, three_entries):
    assert names_listed(client, "/named") == {"Blade Corner", "Cutlers Row", "Edge Mart"}
    assert "We have retrained our staff." in client.get("/named").get_data(as_text=True)
    assert names_listed(client, "/named?q=cutl") == {"Cutlers Row"}
    assert names_listed(client, "/named?postcode=E8") == {"Blade Corner"}
    assert names_listed(client, "/named?borough=islington") == {"Edge Mart"}
    assert names_listed(client, "/named?q=nomatch") == set()


def test_unpublished_cases_are_not_public(client, people):
    from tests.test_naming import noticed_case

    case = noticed_case(people)
    assert names_listed(client, "/named") == set()
    assert client.get(f"/api/v1/named/{case.id}").status_code == 404
    assert client.get(f"/named/{case.id}").status_code == 404


def test_api_list_matches_the_openapi_schema_and_paginates(client, three_entries):
    first = client.get("/api/v1/named?page=1&page_size=2")
    assert first.status_code == 200 and first.mimetype == "application/json"
    body = first.get_json()
    validate(body, "NamedPage")
    assert body["meta"]["total_count"] == 3 and body["meta"]["page"] == 1 and body["meta"]["page_size"] == 2
    assert len(body["items"]) == 2
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert {"self", "first", "last", "next"} <= set(rels) and "prev" not in rels
    second = client.get(rels["next"]).get_json()
    validate(second, "NamedPage")
    assert len(second["items"]) == 1 and "prev" in {link["rel"] for link in second["links"]}
    ids = [i["id"] for i in body["items"] + second["items"]]
    assert sorted(ids) == sorted(c.id for c in three_entries)
    # Stable ids: an item fetched by id is the same entry.
    one = client.get(f"/api/v1/named/{three_entries[0].id}")
    validate(one.get_json(), "NamedEntry")
    assert one.get_json()["business_name"] == "Blade Corner"
    assert one.get_json()["reply"] == "We have retrained our staff."
    assert one.get_json()["statement"] == STATEMENT


def test_api_search_and_errors_are_json(client, three_entries):
    body = client.get("/api/v1/named?borough=southwark").get_json()
    assert [i["business_name"] for i in body["items"]] == ["Cutlers Row"]
    missing = client.get("/api/v1/named/999999")
    assert missing.status_code == 404 and missing.is_json
    validate(missing.get_json(), "Error")
    assert client.get("/api/v1/named?page=abc").status_code == 400


def test_openapi_file_is_served_and_describes_the_paths(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/named", "/named/{id}", "/named.csv"} <= set(spec["paths"])
    assert spec["servers"][0]["url"].endswith("/api/v1")


def test_csv_extract_has_the_extract_date_and_every_live_entry(client, three_entries):
    response = client.get("/api/v1/named.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 3
    assert {r["business_name"] for r in rows} == {"Blade Corner", "Cutlers Row", "Edge Mart"}
    assert all(r["extract_date"] for r in rows)


def test_public_outputs_never_show_volunteers_or_officers(client, three_entries, people):
    outputs = [client.get("/named").get_data(as_text=True),
               client.get(f"/named/{three_entries[0].id}").get_data(as_text=True),
               client.get("/api/v1/named").get_data(as_text=True),
               client.get(f"/api/v1/named/{three_entries[0].id}").get_data(as_text=True),
               client.get("/api/v1/named.csv").get_data(as_text=True)]
    secrets = ["FALCON-7", "PC Hidden Name", people["officer"].email, people["supervisor"].email,
               people["supervisor2"].email, "Second Supervisor", "volunteer_id", "test_purchase:"]
    for text in outputs:
        for secret in secrets:
            assert secret not in text, secret
    item = client.get(f"/api/v1/named/{three_entries[0].id}").get_json()
    assert set(item) == {"id", "business_name", "legal_name", "premises", "websites", "statement", "published_on",
                         "expires_on", "reply", "reply_date", "corrected_on", "links"}


def test_the_public_register_is_the_same_signed_in_as_signed_out(app, three_entries):
    """Found by the accessibility crawl: a signed-in officer of another authority, or a retailer, saw an empty
    register because the public pages read through the signed-in user's scope."""
    public = names_listed(app.test_client(), "/named")
    assert len(public) == 3
    for user in (make_user(Role.OFFICER, "officer@croydon.test", authority="croydon"),
                 make_user(Role.RETAILER, "shop@test.example", business=three_entries[0].business)):
        client = app.test_client()
        login_as(client, user)
        assert names_listed(client, "/named") == public
        assert client.get("/api/v1/named").get_json()["meta"]["total_count"] == 3
        assert client.get(f"/api/v1/named/{three_entries[1].id}").status_code == 200
