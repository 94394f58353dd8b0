"""The walk's small things (issue 11): officers' words where a person reads, not codes, ISO dates or '0.0 KB'."""
from retail.access import Role
from retail.timeutil import format_date
from tests.conftest import login_as
from tests.factories import create_business, sign_rra


def test_the_public_site_title_leads_back_to_the_public_register(client):
    page = client.get("/named").get_data(as_text=True)
    assert 'class="navbar-brand" href="/named"' in page
    assert 'class="navbar-brand" href="/login"' in client.get("/login").get_data(as_text=True)


def test_an_agreement_history_reads_in_words(client, users, db):
    business = create_business()
    signature = sign_rra(business, status="suspended")
    login_as(client, users[Role.OFFICER])
    page = client.get(f"/rra/{signature.id}").get_data(as_text=True)
    assert ": Suspended — Test reason" in page and ": suspended" not in page


def test_dates_kept_as_text_are_shown_as_dates():
    assert format_date("2026-03-11") == "11 Mar 2026"
    assert format_date("not a date") == "not a date"

