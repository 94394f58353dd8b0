"""Issue 15: a list page runs the same number of SQL statements for one row as for thirty (no query per row).

Each unit of data is a business with a shop, an online store, an RRA, a failed test purchase with its warning, a
second failure with its unsent letter and a retest due, two training refusals and a certificate: every list below
shows one row per unit; pages that list other things (visits, operations, users, published entries) are held to the
same count. The monitor's targets have their own test in test_monitor.py (they rank stores, not businesses)."""
from datetime import timedelta

import pytest

from retail import scoring
from retail.access import Role
from retail.extensions import db
from retail.models.purchases import FollowUpAction, NotificationLetter
from tests.conftest import login_as
from tests.factories import create_business, create_store, sign_rra
from tests.querycount import counted_statements
from tests.test_scoring import TODAY, days_ago, make_action, make_certificate, make_purchase, make_refusal

# (role, url, text that each unit's row shows with its number)
LIST_PAGES = [
    (Role.OFFICER, "/register", "Unit {n} Ltd"),
    (Role.OFFICER, "/purchases", "Unit {n}"),
    (Role.OFFICER, "/letters", "Unit {n}"),
    (Role.OFFICER, "/retests", "Unit {n}"),
    (Role.SUPERVISOR, "/compliance/scores", "Unit {n}"),
    (Role.SUPERVISOR, "/compliance/candidates", "Unit {n}"),
    (Role.OFFICER, "/training", None),
    (Role.OFFICER, "/", None),
    (Role.OFFICER, "/programme", "Unit {n}"),
    (Role.OFFICER, "/training/invitations", None),
    (Role.OFFICER, "/training/reminders", "Unit {n}"),
    (Role.OFFICER, "/letters/week", "Unit {n}"),
    (Role.SUPERVISOR, "/measures/offenders", "Unit {n}"),
    (Role.SUPERVISOR, "/naming", None),
    (Role.OFFICER, "/visits", None),
    (Role.OFFICER, "/operations", None),
    (Role.OFFICER, "/volunteers", None),
    (Role.OFFICER, "/monitor", None),
    (Role.ADMIN, "/admin/users", None),
    (Role.OFFICER, "/named", None),
    (Role.OFFICER, "/api/v1/named", None),
]


def add_units(start: int, count: int) -> None:
    for n in range(start, start + count):
        business = create_business(legal_name=f"Unit {n} Ltd", trading_name=f"Unit {n}", postcode="E8 2AA")
        create_store(business, url=f"https://unit{n}.example/")
        sign_rra(business)
        make_certificate(business, expires=TODAY + timedelta(days=20))
        first = make_purchase(business, days_ago(200))
        make_action(first, action_type="warning-letter", status="completed")
        make_refusal(business, days_ago(150))
        second = make_purchase(business, days_ago(60))
        db.session.add(NotificationLetter(test_purchase_id=second.id, business_id=business.id,
                                          template="fail_sold_no_challenge", drafted_on=days_ago(59)))
        # A retest planned on the first sale (the second's warning stands, so both count for naming).
        db.session.add(FollowUpAction(test_purchase_id=first.id, business_id=business.id,
                                      premises_id=first.premises_id, action_type="retest", status="pending",
                                      decided_on=first.purchase_date, due_on=TODAY + timedelta(days=10)))
        db.session.commit()
        make_refusal(business, days_ago(30))
    scoring.rescore_all()


def statements_for(client, url: str) -> tuple[int, str]:
    with counted_statements() as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements), response.get_data(as_text=True)


@pytest.mark.parametrize("role, url, row_text", LIST_PAGES, ids=[url for _, url, _ in LIST_PAGES])
def test_a_list_page_runs_as_many_queries_for_thirty_rows_as_for_one(client, users, role, url, row_text):
    login_as(client, users[role])
    add_units(0, 1)
    client.get(url)  # warm: caches (settings, the user's scope, the signed-in user) filled before counting
    one, html = statements_for(client, url)
    if row_text:
        assert row_text.format(n=0) in html
    add_units(1, 29)
    client.get(url)
    thirty, html = statements_for(client, url)
    if row_text:
        assert row_text.format(n=29) in html or row_text.format(n=1) in html, "the page shows the new rows"
    assert thirty == one, f"{url}: {one} statements for one row, {thirty} for thirty"


def test_naming_candidates_come_a_page_at_a_time_highest_score_first(client, users):
    """Issue 15: at UK scale thousands of businesses meet the rule; the page lists fifty with their evidence."""
    from retail import naming

    add_units(0, 3)
    first, pager = naming.candidates(per_page=2)
    second, _ = naming.candidates(page=2, per_page=2)
    assert pager.total == 3 and pager.pages == 2
    assert len(first) == 2 and len(second) == 1
    assert {e["business"].trading_name for e in first + second} == {"Unit 0", "Unit 1", "Unit 2"}
    assert all(len(e["evidence"]["sales"]) == 2 and e["evidence"]["refusals"] for e in first + second)
    login_as(client, users[Role.SUPERVISOR])
    html = client.get("/compliance/candidates").get_data(as_text=True)
    assert "3 businesses meet the rule" in html
