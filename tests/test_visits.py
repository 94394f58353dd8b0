"""Advice visits (issue 11 part 1): recorded on a phone in one round trip, on the business timeline, in the
retailer's portal (the advice, never the officer's notes), printable for the shop, and in the score as "advice
ignored" when a sale follows advice on the same point (brief 1.1, sentencing factors)."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from retail import scoring
from retail.access import Role
from retail.extensions import db
from retail.models.visits import AdviceVisit
from retail.timeutil import add_months, today_london
from tests.conftest import csrf_token_from, login_as, make_user
from tests.factories import create_business
from tests.test_scoring import make_purchase

TODAY = today_london()  # the app's today (London), not the machine's


@pytest.fixture
def shop(app):
    return create_business(legal_name="Dalston Hardware Ltd", trading_name="Dalston Hardware", postcode="E8 3AA")


def visit_form(client, premises, **overrides):
    html = client.get(f"/visits/new?premises_id={premises.id}").get_data(as_text=True)
    token = __import__("re").search(r'name="submission_token"[^>]*value="([^"]+)"', html).group(1)
    data = {"csrf_token": csrf_token_from(html), "submission_token": token, "premises_id": str(premises.id),
            "visited_on": TODAY.isoformat(), "person_seen": "Mr Shah", "person_role": "Owner",
            "display_check": "in-place", "challenge25_policy_check": "advice", "signage_check": "advice",
            "refusals_log_check": "in-place", "till_prompts_check": "not-checked", "training_check": "in-place",
            "staff_trained_on": (TODAY - timedelta(days=40)).isoformat(), "rra": "offered",
            "advice_given": "Write down the Challenge 25 policy and put the posters by the till.",
            "photo_refs": "IMG_2041", "next_visit_due": "", "officer_notes": "Owner seemed reluctant; check again.",
            "next": "view"}
    data.update(overrides)
    return data


def record(client, premises, **overrides):
    return client.post("/visits/new", data=visit_form(client, premises, **overrides))


def test_officer_records_a_visit_and_it_is_on_the_timeline(app, client, users, shop):
    login_as(client, users[Role.OFFICER])
    premises = shop.premises[0]
    response = record(client, premises)
    assert response.status_code == 302
    visit = db.session.scalar(sa.select(AdviceVisit))
    assert visit.person_seen == "Mr Shah" and visit.officer_name == users[Role.OFFICER].name
    assert visit.advice_points == ["Challenge 25 policy", "Challenge 25 and age-restriction signage"]
    assert visit.next_visit_due == add_months(visit.visited_on, 3)  # no date given after advice: in three months
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Owner seemed reluctant" in page and "Sign the agreement" in page and "Invite to training" in page
    timeline = client.get(f"/businesses/{shop.id}").get_data(as_text=True)
    assert "Advice visit" in timeline and "advice on challenge 25 policy" in timeline
    assert "Never visited" not in client.get(f"/premises/{premises.id}").get_data(as_text=True)


def test_every_problem_comes_back_in_one_round_trip_and_nothing_is_saved(app, client, users, shop):
    login_as(client, users[Role.OFFICER])
    future = (TODAY + timedelta(days=3)).isoformat()
    response = record(client, shop.premises[0], visited_on=future, person_seen="", advice_given="",
                      next_visit_due=(TODAY - timedelta(days=1)).isoformat())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The visit date cannot be in the future." in page
    assert "Enter who you saw" in page
    assert "Write the advice you gave on: challenge 25 policy" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AdviceVisit)) == 0


def test_an_answer_that_is_not_one_of_the_forms_is_refused_next_to_it_not_a_server_error(app, client, users, shop):
    """Issue 14 (no input crashes a page; found by tests/test_fuzz.py): a tampered or garbled radio value."""
    login_as(client, users[Role.OFFICER])
    response = record(client, shop.premises[0], display_check="\ud7ff", rra="9" * 25)
    assert response.status_code == 422
    assert "Choose one of the answers for what you found: Knife display and security." in response.get_data(
        as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AdviceVisit)) == 0


def test_a_double_tap_saves_one_visit(app, client, users, shop):
    login_as(client, users[Role.OFFICER])
    data = visit_form(client, shop.premises[0])
    first = client.post("/visits/new", data=data)
    second = client.post("/visits/new", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AdviceVisit)) == 1


def test_sign_the_agreement_or_invite_to_training_from_the_same_flow(app, client, users, shop):
    login_as(client, users[Role.OFFICER])
    to_rra = record(client, shop.premises[0], next="rra")
    assert to_rra.headers["Location"].endswith(f"/businesses/{shop.id}/rra/new")
    to_training = record(client, shop.premises[0], next="training")
    assert f"/businesses/{shop.id}/training/invite?premises_id={shop.premises[0].id}" in to_training.headers["Location"]


def test_the_shop_is_found_by_typing_part_of_the_postcode(app, client, users, shop):
    login_as(client, users[Role.OFFICER])
    response = record(client, shop.premises[0], premises_id="", premises_query="E8 3")
    assert response.status_code == 302
    nothing = record(client, shop.premises[0], premises_id="", premises_query="ZZ9")
    assert nothing.status_code == 422 and "No shop in the register matches" in nothing.get_data(as_text=True)


def test_corrections_are_kept_in_the_history(app, client, users, shop):
    login_as(client, users[Role.OFFICER])
    record(client, shop.premises[0])
    visit = db.session.scalar(sa.select(AdviceVisit))
    html = client.get(f"/visits/{visit.id}/edit").get_data(as_text=True)
    data = visit_form(client, shop.premises[0], person_seen="Mrs Shah", version=str(visit.version))
    data["csrf_token"] = csrf_token_from(html)
    assert client.post(f"/visits/{visit.id}/edit", data=data).status_code == 302
    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "Mrs Shah" in page and "Mr Shah" in page  # the old value stays in the history
    stale = client.post(f"/visits/{visit.id}/edit", data={**data, "person_seen": "Someone"})
    assert "changed by someone else" in stale.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.RETAILER, Role.CITY_HALL])
def test_only_staff_record_and_read_visits(app, client, users, shop, role):
    login_as(client, users[Role.OFFICER])
    record(client, shop.premises[0])
    visit = db.session.scalar(sa.select(AdviceVisit))
    client.post("/logout")
    login_as(client, users[role])
    for url in ("/visits", "/visits/new", f"/visits/{visit.id}", f"/visits/{visit.id}/edit"):
        assert client.get(url).status_code == 403, url
    assert client.post("/visits/new", data={}).status_code == 403


def test_another_authoritys_officer_cannot_read_the_visit(app, client, users, shop):
    login_as(client, users[Role.OFFICER])
    record(client, shop.premises[0])
    visit = db.session.scalar(sa.select(AdviceVisit))
    client.post("/logout")
    login_as(client, make_user(Role.OFFICER, authority="islington"))
    assert client.get(f"/visits/{visit.id}").status_code == 404
    assert client.get(f"/visits/{visit.id}/record").status_code == 404


def test_the_retailer_reads_the_advice_never_the_officers_notes(app, client, users, shop):
    login_as(client, users[Role.OFFICER])
    record(client, shop.premises[0])
    visit = db.session.scalar(sa.select(AdviceVisit))
    client.post("/logout")
    owner = make_user(Role.RETAILER, business=shop)
    login_as(client, owner)
    portal = client.get("/my").get_data(as_text=True)
    assert "Write down the Challenge 25 policy" in portal
    assert "Owner seemed reluctant" not in portal
    printed = client.get(f"/visits/{visit.id}/record")
    assert printed.status_code == 200
    text = printed.get_data(as_text=True)
    assert "Record of an advice visit" in text and "Write down the Challenge 25 policy" in text
    assert "Owner seemed reluctant" not in text
    client.post("/logout")
    login_as(client, users[Role.RETAILER])  # another business's owner
    assert client.get(f"/visits/{visit.id}/record").status_code == 404
    assert "Write down the Challenge 25" not in client.get("/my").get_data(as_text=True)


def add_visit(shop, on, **checks):
    visit = AdviceVisit(business_id=shop.id, premises_id=shop.premises[0].id, visited_on=on, person_seen="Owner",
                        advice_given="Advice", **checks)
    db.session.add(visit)
    db.session.commit()
    return visit


def test_a_sale_after_advice_on_the_same_point_counts_as_advice_ignored(app, shop):
    """Brief 1.1: sentencing treats failing to make changes after advice as high culpability."""
    add_visit(shop, TODAY - timedelta(days=90), challenge25_policy_check="advice")
    sale = make_purchase(shop, TODAY - timedelta(days=30))
    make_purchase(shop, TODAY - timedelta(days=120))  # before the advice: a sale, not advice ignored
    score = scoring.rescore_business(shop.id)
    ignored = [f for f in score.factors if f.kind == "advice_ignored"]
    assert [f.record for f in ignored] == [f"test_purchase:{sale.id}"]
    assert ignored[0].points == 10


def test_advice_on_another_point_or_a_pass_is_not_advice_ignored(app, shop):
    add_visit(shop, TODAY - timedelta(days=90), display_check="advice", signage_check="advice")
    make_purchase(shop, TODAY - timedelta(days=30))
    add_visit(shop, TODAY - timedelta(days=20), till_prompts_check="advice")
    make_purchase(shop, TODAY - timedelta(days=10), outcome="PASS_REFUSED")
    score = scoring.rescore_business(shop.id)
    assert not [f for f in score.factors if f.kind == "advice_ignored"]


def test_the_visits_list_says_how_many_and_which_dates_a_page_holds(app, client, users, shop):
    from retail.timeutil import format_date

    login_as(client, users[Role.OFFICER])
    for days in (3, 10, 20):
        assert record(client, shop.premises[0], visited_on=(TODAY - timedelta(days=days)).isoformat()).status_code == 302
    app.config["REGISTER_PAGE_SIZE"] = 2
    try:
        html = client.get("/visits").get_data(as_text=True)
    finally:
        app.config["REGISTER_PAGE_SIZE"] = 50
    newest, second = format_date(TODAY - timedelta(days=3)), format_date(TODAY - timedelta(days=10))
    assert f"3 visits. This page: {newest} back to {second}." in html
