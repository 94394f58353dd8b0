"""The risk-based programme (issue 11 part 2): shops ranked by who to visit or test next, with visible reasons; the
rules follow the brief's targeting (brief 2.1: previous failures, advice first, evidence-led)."""
from datetime import date, timedelta

import pytest

from retail import programme
from retail.access import Role
from retail.timeutil import today_london
from retail.extensions import db
from retail.models.visits import AdviceVisit
from tests.conftest import authority_id, login_as
from tests.factories import create_business, sign_rra
from tests.test_scoring import make_purchase

TODAY = today_london()  # the app's today (London), not the machine's


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


def test_lapsed_training_and_the_listing_monitors_findings_are_reasons(app):
    """Issue 11 part 2: 'training lapsed, monitor findings' are among the reasons; brief 2.1 (intelligence-led)."""
    from retail.scrapers import monitor as mon
    from tests.factories import create_store
    from tests.test_scoring import make_certificate

    lapsed = create_business(legal_name="Lapsed Ltd", trading_name="Lapsed", postcode="E8 1AA")
    current = create_business(legal_name="Current Ltd", trading_name="Current", postcode="E8 2AA")
    online = create_business(legal_name="Online Too Ltd", trading_name="Online Too", postcode="E8 3AA")
    make_certificate(lapsed, TODAY - timedelta(days=10), attended=TODAY - timedelta(days=400))
    make_certificate(current, TODAY + timedelta(days=300), attended=TODAY - timedelta(days=60))
    mon.ensure_monitor(create_store(online)).risky_listings = 2
    db.session.commit()
    reasons = {r.premises.name: r.reasons for r in programme.ranked_shops("hackney")}
    assert any(r.startswith("Staff trained here, but the last certificate expired") for r in reasons["Lapsed"])
    assert not any("certificate" in reason for reason in reasons["Current"])
    assert any("listing monitor" in reason for reason in reasons["Online Too"])
    assert not any("listing monitor" in reason for reason in reasons["Lapsed"])


def _running_operation(users, boroughs=("hackney",), ends_in=3):
    from retail import purchases as P

    op = P.create_operation({"name": "Operation Target", "lead_agency": "police", "boroughs": list(boroughs),
                             "starts_on": TODAY - timedelta(days=1), "ends_on": TODAY + timedelta(days=ends_in),
                             "officer_ids": [users[Role.POLICE].id], "risk_assessment_ref": "RA-1"})
    db.session.commit()
    return op


def test_the_police_turn_ticked_shops_into_an_operations_target_list(app, client, users):
    """Issue 11 part 2: '...and a police team into an operation's target list'. The list keeps each shop's points and
    reasons, links to logging an attempt there, and shows which are still to test."""
    op = _running_operation(users)
    failed = create_business(legal_name="Failed Ltd", trading_name="Failed", postcode="E8 1AA")
    never = create_business(legal_name="Never Ltd", trading_name="Never", postcode="E8 3AA")
    make_purchase(failed, TODAY - timedelta(days=60))
    ids = [failed.premises[0].id, never.premises[0].id]
    login_as(client, users[Role.POLICE])
    page = client.get("/programme?borough=hackney").get_data(as_text=True)
    assert "Add to the target list" in page and "Operation Target" in page
    confirm = client.get("/programme/targets", query_string={"operation": op.id, "premises": ids,
                                                             "borough": "hackney"}).get_data(as_text=True)
    assert "1 failed test purchase in the last 24 months" in confirm and "Add 2 shops to the list" in confirm
    response = client.post("/programme/targets", data={"operation": op.id, "premises": ids})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/operations/{op.id}#targets")
    db.session.refresh(op)
    assert [t.premises.name for t in op.targets] == ["Failed", "Never"]  # highest points first
    assert "1 failed test purchase in the last 24 months" in op.targets[0].reasons
    # Adding the same shops again adds nothing twice.
    client.post("/programme/targets", data={"operation": op.id, "premises": ids})
    db.session.refresh(op)
    assert len(op.targets) == 2
    view = client.get(f"/operations/{op.id}").get_data(as_text=True)
    assert "Target list (2)" in view and view.count("to test") == 2
    assert f"/purchases/new?operation={op.id}&amp;premises={failed.premises[0].id}" in view
    attempt = make_purchase(failed, TODAY)
    attempt.operation_id = op.id
    db.session.commit()
    view = client.get(f"/operations/{op.id}").get_data(as_text=True)
    assert "1 logged" in view and view.count("to test") == 1


def test_a_target_list_refuses_shops_outside_the_operation_and_ended_operations(app, client, users):
    op = _running_operation(users)
    elsewhere = create_business(legal_name="Islington Ltd", trading_name="Islington Shop", postcode="N1 1AA",
                                borough="islington")
    login_as(client, users[Role.POLICE])
    html = client.post("/programme/targets", data={"operation": op.id, "premises": [elsewhere.premises[0].id]},
                       follow_redirects=True).get_data(as_text=True)
    assert "Outside the operation&#39;s boroughs" in html and "Islington Shop" in html
    db.session.refresh(op)
    assert op.targets == []
    with pytest.raises(programme.TargetError, match="ended"):
        ended = _running_operation(users, ends_in=-1)
        programme.add_targets(ended, [elsewhere.premises[0].id], users[Role.POLICE])


@pytest.mark.parametrize("role", [Role.ADMIN, Role.RETAILER, Role.CITY_HALL])
def test_only_the_people_who_run_operations_build_target_lists(app, client, users, role):
    op = _running_operation(users)
    shop = create_business(legal_name="Shop Ltd", trading_name="Shop", postcode="E8 1AA")
    login_as(client, users[role])
    assert client.get("/programme/targets", query_string={"operation": op.id}).status_code == 403
    assert client.post("/programme/targets", data={"operation": op.id,
                                                   "premises": [shop.premises[0].id]}).status_code == 403
    db.session.refresh(op)
    assert op.targets == []
