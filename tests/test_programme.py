"""The risk-based programme (issue 11 part 2): shops ranked by who to visit or test next, with visible reasons; the
rules follow the brief's targeting (brief 2.1: previous failures, advice first, evidence-led)."""
from datetime import date, timedelta

import pytest

from retail import programme
from retail.access import Role
from retail.extensions import db
from retail.models.visits import AdviceVisit
from tests.conftest import authority_id, login_as
from tests.factories import create_business, sign_rra
from tests.test_scoring import make_purchase

TODAY = date.today()


def visit(shop, days, authority="hackney", **checks):
    db.session.add(AdviceVisit(business_id=shop.id, premises_id=shop.premises[0].id,
                               authority_id=authority_id(authority),
                               visited_on=TODAY - timedelta(days=days), person_seen="Owner", advice_given="A",
                               next_visit_due=TODAY + timedelta(days=30), **checks))
    db.session.commit()


def test_failures_then_advice_then_never_visited_rank_first_with_their_reasons(app):
    failed = create_business(legal_name="Failed Ltd", trading_name="Failed", postcode="E8 1AA")
    advised = create_business(legal_name="Advised Ltd", trading_name="Advised", postcode="E8 2AA")
    create_business(legal_name="Never Ltd", trading_name="Never", postcode="E8 3AA")
    good = create_business(legal_name="Good Ltd", trading_name="Good", postcode="E8 4AA")
    make_purchase(failed, TODAY - timedelta(days=60))
    visit(failed, 30)
    visit(advised, 30, challenge25_policy_check="advice")
    visit(good, 30, challenge25_policy_check="in-place")
    sign_rra(good, signed_on=TODAY - timedelta(days=40))
    rows = programme.ranked_shops("hackney")
    assert [r.premises.name for r in rows] == ["Failed", "Advised", "Never", "Good"]
    reasons = {r.premises.name: r.reasons for r in rows}
    assert "1 failed test purchase in the last 24 months" in reasons["Failed"]
    assert any(reason.startswith("Advice on challenge 25 policy") for reason in reasons["Advised"])
    assert "Never visited" in reasons["Never"]
    assert "Not covered by an active Responsible Retailers Agreement" not in reasons["Good"]


def test_a_visit_made_by_another_borough_still_counts(app, client, users):
    shop = create_business(legal_name="Shared Ltd", trading_name="Shared", postcode="E8 5AA")
    visit(shop, 10, authority="islington")
    login_as(client, users[Role.OFFICER])
    page = client.get("/programme?borough=hackney").get_data(as_text=True)
    assert "Shared" in page and "How the list is ranked" in page and "since the last contact" in page


@pytest.mark.parametrize("role", [Role.RETAILER, Role.CITY_HALL])
def test_only_staff_see_the_programme(app, client, users, role):
    login_as(client, users[role])
    assert client.get("/programme").status_code == 403
    assert client.get("/programme/week?premises=1").status_code == 403


def test_ticked_shops_become_a_week_of_visits_grouped_by_area(app, client, users):
    shops = [create_business(legal_name=f"Shop {n} Ltd", trading_name=f"Shop {n}", postcode=code)
             for n, code in enumerate(["N1 1AA", "E8 1AA", "E8 2AA", "E9 5AA", "E8 3AA"])]
    login_as(client, users[Role.OFFICER])
    assert "Plan next week" in client.get("/programme?borough=hackney").get_data(as_text=True)
    days = programme.plan_week([b.premises[0].id for b in shops], date(2026, 12, 11), per_day=4)
    assert [d.strftime("%a") for d, _ in days] == ["Fri", "Mon"]  # the weekend is skipped
    assert [p.postcode for p in days[0][1]] == ["E8 1AA", "E8 2AA", "E8 3AA", "E9 5AA"]
    query = "&".join(f"premises={b.premises[0].id}" for b in shops)
    page = client.get(f"/programme/week?borough=hackney&{query}").get_data(as_text=True)
    assert "Planned week of visits" in page and "Shop 0" in page
