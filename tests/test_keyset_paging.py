"""Issue 15 part 1: long lists (test purchases, advice visits, training invitations) page by the last row seen, not by
an OFFSET, so the thousandth page costs what the first does; Older / Newer walk the whole list once, in order."""
import re
from html import unescape

import pytest
from sqlalchemy import event

from retail.access import Role
from retail.extensions import db
from tests.conftest import login_as
from tests.factories import create_business
from tests.querycount import counted_statements
from tests.test_scoring import days_ago, make_purchase

PAGE_SIZE = 3


@pytest.fixture
def purchases(app):
    app.config["REGISTER_PAGE_SIZE"] = PAGE_SIZE
    business = create_business(legal_name="Paging Ltd", trading_name="Paging")
    # Several on one day: the id breaks the tie, so no attempt is shown twice or skipped at a page edge.
    made = [make_purchase(business, days_ago(days)) for days in (1, 2, 2, 2, 5, 9, 9)]
    yield sorted(made, key=lambda tp: (tp.purchase_date, tp.id), reverse=True)
    app.config["REGISTER_PAGE_SIZE"] = 50


def shown_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/purchases/(\d+)"', html)]


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"#]+)"', html)
    return unescape(found.group(1)) if found else None


def test_older_and_newer_walk_every_attempt_once_in_order(client, users, purchases):
    login_as(client, users[Role.OFFICER])
    expected = [tp.id for tp in purchases]
    html = client.get("/purchases?kind=underage").get_data(as_text=True)
    assert "7 test purchases" in html and link(html, "prev") is None
    pages = [shown_ids(html)]
    while link(html, "next"):
        assert "kind=underage" in link(html, "next")  # the filters are kept
        html = client.get(link(html, "next")).get_data(as_text=True)
        pages.append(shown_ids(html))
    assert pages == [expected[0:3], expected[3:6], expected[6:7]]
    # Back from the last page: the same pages, the other way.
    html = client.get(link(html, "prev")).get_data(as_text=True)
    assert shown_ids(html) == expected[3:6]
    html = client.get(link(html, "prev")).get_data(as_text=True)
    assert shown_ids(html) == expected[0:3] and link(html, "prev") is None and link(html, "next")


def test_each_page_says_which_dates_it_holds(client, users, purchases):
    """Keyset pages have no numbers: the line above the list says where a page sits, by its first and last dates."""
    from retail.timeutil import format_date

    login_as(client, users[Role.OFFICER])
    html = client.get("/purchases").get_data(as_text=True)
    first, last = purchases[0].purchase_date, purchases[2].purchase_date
    assert f"7 test purchases. This page: {format_date(first)} back to {format_date(last)}." in html
    html = client.get(link(client.get(link(html, "next")).get_data(as_text=True), "next")).get_data(as_text=True)
    assert f"This page: {format_date(purchases[6].purchase_date)}. The export" in html  # one day on the last page


def test_a_list_that_fits_on_one_page_says_no_more_than_its_count(client, users, purchases, app):
    app.config["REGISTER_PAGE_SIZE"] = 50
    login_as(client, users[Role.OFFICER])
    html = client.get("/purchases").get_data(as_text=True)
    assert "7 test purchases. The export" in html and "This page:" not in html


def test_a_deep_page_runs_the_first_pages_statements_without_an_offset(client, users, purchases):
    login_as(client, users[Role.OFFICER])
    first = client.get("/purchases").get_data(as_text=True)
    with counted_statements() as on_first:
        client.get("/purchases")
    last_link = link(client.get(link(first, "next")).get_data(as_text=True), "next")
    skipped = []

    def offsets(conn, cursor, statement, parameters, *rest):
        if re.search(r"\bOFFSET\b", statement):  # SQLite writes "LIMIT ? OFFSET ?" even for no offset
            skipped.append(parameters[-1] if isinstance(parameters, (tuple, list)) else parameters)

    event.listen(db.engine, "before_cursor_execute", offsets)
    try:
        with counted_statements() as on_last:
            response = client.get(last_link)
    finally:
        event.remove(db.engine, "before_cursor_execute", offsets)
    assert response.status_code == 200 and shown_ids(response.get_data(as_text=True)) == [purchases[-1].id]
    assert len(on_last) == len(on_first)
    assert all(offset == 0 for offset in skipped)  # no row read to be dropped


@pytest.mark.parametrize("query", ["after=yesterday~1", "before=2026-01-01", "after=2026-01-01~99999999999999999999"])
def test_a_broken_page_link_is_a_clear_error(client, users, purchases, query):
    login_as(client, users[Role.OFFICER])
    response = client.get(f"/purchases?{query}")
    assert response.status_code == 400
    assert "This page link is not valid" in response.get_data(as_text=True)


def test_visits_and_invitations_page_the_same_way(client, users, app):
    from datetime import timedelta

    from retail import training as tr
    from retail.timeutil import today_london

    app.config["REGISTER_PAGE_SIZE"] = 2
    try:
        business = create_business()
        made = []
        for n in range(5):
            made.append(tr.create_invitation(business, {
                "premises_id": business.premises[0].id, "session_id": None,
                "visited_on": today_london() - timedelta(days=n), "visit_officer": "Olu Officer"}).id)
            db.session.commit()
        login_as(client, users[Role.OFFICER])
        html = client.get("/training/invitations").get_data(as_text=True)
        seen = [re.findall(r'/training/invitations/(\d+)"', html)]
        while link(html, "next"):
            html = client.get(link(html, "next")).get_data(as_text=True)
            seen.append(re.findall(r'/training/invitations/(\d+)"', html))
        assert [int(i) for page in seen for i in dict.fromkeys(page)] == sorted(made, reverse=True)
        assert len(seen) == 3
        assert client.get("/visits?after=x~1").status_code == 400
    finally:
        app.config["REGISTER_PAGE_SIZE"] = 50
