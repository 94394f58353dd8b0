"""Bad input (issue 14): each was a server error or a silent wrong result; now a clear answer and nothing changed."""
import sqlalchemy as sa

from retail.access import Role
from retail.validation import parse_id, prefix_upper_bound
from tests.conftest import login_as


def test_prefix_search_on_the_character_before_the_surrogates_finds_nothing_instead_of_crashing(client, users,
                                                                                                 make_business):
    make_business(legal_name="Zed Blades Ltd", trading_name="Zed Blades")
    assert prefix_upper_bound("a\ud7ff") == "a\ue000"
    public = client.get("/named?q=%ED%9F%BF")
    assert public.status_code == 200
    login_as(client, users[Role.OFFICER])
    staff = client.get("/register?q=%ED%9F%BF")
    assert staff.status_code == 200
    assert "Zed Blades" not in staff.get_data(as_text=True)


def test_a_huge_page_number_is_refused_with_a_message(client, users):
    login_as(client, users[Role.OFFICER])
    response = client.get("/register?page=" + "9" * 25)
    assert response.status_code == 400
    assert "There is no page" in response.get_data(as_text=True)
    assert client.get("/named?page=99999").status_code == 200  # past the end: an empty page, not an error


def test_odd_and_huge_ids_in_operation_and_letter_parameters_are_no_server_error(client, users):
    login_as(client, users[Role.OFFICER])
    for value in ("²", "9" * 25, "-1", "abc"):
        assert parse_id(value) is None
        response = client.get("/purchases/volunteers.json", query_string={"operation_id": value, "on": "2026-01-01"})
        assert response.status_code == 200 and response.get_json()["choices"] == []
        assert client.get("/letters/print", query_string={"id": value}).status_code == 200
        assert client.get("/purchases", query_string={"operation": value}).status_code == 200
    assert client.get("/operations/" + "9" * 25).status_code == 404


def test_an_unknown_business_type_filter_lists_everything_instead_of_crashing(client, users, make_business):
    make_business(legal_name="Typed Ltd", trading_name="Typed Shop")
    login_as(client, users[Role.OFFICER])
    response = client.get("/register?type=not-a-type")
    assert response.status_code == 200
    assert "Typed Shop" in response.get_data(as_text=True)


def test_seed_demo_on_a_fresh_database_leaves_every_id_sequence_past_its_rows(app, db, runner, monkeypatch):
    """Issue 14: the demo inserts fixed ids; on PostgreSQL the sequences must be moved past them, or the first
    record a user adds collides with a demo row."""
    monkeypatch.setitem(app.config, "RETAIL_UNSCOPED_OWNER", None)
    result = runner.invoke(args=["seed-demo", "--password", "demo-password-for-tests"])
    assert result.exit_code == 0, result.output
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                if "id" not in table.c or not table.c.id.primary_key or not isinstance(table.c.id.type, sa.Integer):
                    continue
                sequence = conn.execute(sa.text(f"SELECT pg_get_serial_sequence('{table.name}', 'id')")).scalar()
                if not sequence:
                    continue
                top = conn.execute(sa.text(f"SELECT COALESCE(MAX(id), 0) FROM {table.name}")).scalar()
                last, called = conn.execute(sa.text(f"SELECT last_value, is_called FROM {sequence}")).one()
                assert (last + 1 if called else last) > top, table.name
    # The first record added after the demo saves (it would collide with a demo id otherwise).
    from tests.factories import create_business

    monkeypatch.setitem(app.config, "RETAIL_UNSCOPED_OWNER", "hackney")
    assert create_business(legal_name="After The Demo Ltd", trading_name="After The Demo").id


def test_measures_date_range_is_bounded_to_ten_years_with_a_message(client, users):
    login_as(client, users[Role.OFFICER])
    response = client.get("/measures?from=0001-01-01&to=9999-12-31")
    assert response.status_code == 200
    assert "at most ten years" in response.get_data(as_text=True)
    assert len(response.get_data()) < 2_000_000


def test_scoring_rules_form_refuses_a_non_integer_with_a_message_and_saves_nothing(client, users, db):
    from retail.models.compliance import ScoringRules
    from retail.scoring import RULE_SPECS
    from tests.conftest import csrf_token_from

    login_as(client, users[Role.SUPERVISOR])
    page = client.get("/compliance/rules/edit")
    version = db.session.scalar(sa.select(sa.func.max(ScoringRules.version)))
    data = {spec.key: "2.5" for spec in RULE_SPECS}
    data.update(rules_version=str(version), csrf_token=csrf_token_from(page.get_data(as_text=True)))
    response = client.post("/compliance/rules/edit", data=data)
    assert response.status_code == 422
    assert "enter a whole number" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.max(ScoringRules.version))) == version


def test_an_authority_name_with_a_line_break_is_refused_and_never_reaches_the_monitors_header(app, client, users):
    """Issue 14: a line break in the authority name (sent by hand; a browser's text box cannot) split the listing
    monitor's User-Agent header and broke every fetch."""
    from retail.scrapers.monitor import fetch_settings
    from retail.settings import get_setting, save_settings
    from tests.conftest import csrf_token_from

    login_as(client, users[Role.ADMIN])
    page = client.get("/admin/settings")
    form = {"csrf_token": csrf_token_from(page.get_data(as_text=True)), "authority_name": "Hackney\r\nX-Evil: 1",
            "contact_url": "https://example.gov.uk/contact", "volunteer_min_age": "13", "volunteer_max_age": "16"}
    response = client.post("/admin/settings", data=form)
    assert "Write this on one line" in response.get_data(as_text=True)
    assert get_setting("authority_name", authority_id=users[Role.ADMIN].authority_id) != "Hackney\r\nX-Evil: 1"

    save_settings({"authority_name": "Hackney\nTrading Standards", "contact_url": "https://a.example/\r\n"})
    with app.test_request_context():
        agent = fetch_settings(app).user_agent
    assert "\n" not in agent and "\r" not in agent and "Hackney Trading Standards" in agent
