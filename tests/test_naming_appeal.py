"""The appeal after a decision to publish (issue 9 part 1). Brief 5.1 (FHRS safeguards: appeal within 21 days,
decided by an officer not involved; publication waits for the appeal window) and 5.3 step 6 (appeal or review by
someone not involved)."""
from datetime import timedelta

import pytest

from retail import naming, naming_appeal, scoring
from retail.access import Role
from retail.extensions import db
from retail.models.compliance import CaseStatus, NamingCase
from tests.conftest import login_as, make_user
from tests.test_naming import noticed_case
from tests.test_scoring import TODAY, days_ago, make_purchase, make_refusal


@pytest.fixture
def people(app, users):
    return {"officer": users[Role.OFFICER], "supervisor": users[Role.SUPERVISOR], "admin": users[Role.ADMIN],
            "supervisor2": make_user(Role.SUPERVISOR, "supervisor2@test.example"),
            "supervisor3": make_user(Role.SUPERVISOR, "supervisor3@test.example"),
            "retailer": users[Role.RETAILER]}


def decided_case(people, decided_on=None, business=None) -> NamingCase:
    """Proposed by the officer, approved by supervisor, decided for publication by supervisor2 on `decided_on`."""
    case = noticed_case(people, business, sent=(decided_on or TODAY) - timedelta(days=30))
    naming.decide(case, people["supervisor2"], True, "Facts established", today=decided_on or TODAY)
    db.session.commit()
    return case


def own_business_case(people, decided_on=None) -> NamingCase:
    own = people["retailer"].business
    make_purchase(own, days_ago(200))
    make_purchase(own, days_ago(100))
    make_refusal(own, days_ago(150))
    return decided_case(people, decided_on, own)


def test_a_decision_to_publish_opens_a_21_day_appeal_window_and_nothing_is_published_inside_it(app, people):
    """Brief 5.1: appeal within 21 days of notification; publication waits for the window to run."""
    case = decided_case(people, decided_on=days_ago(3))
    assert case.appeal_due == days_ago(3) + timedelta(days=21)
    assert naming_appeal.appeal_open(case)
    with pytest.raises(naming.NamingError, match="can appeal until"):
        naming.publish(case, people["supervisor3"])
    db.session.rollback()
    assert case.status == CaseStatus.DECIDED_PUBLISH and case.published_on is None
    # The day after the window closes with no appeal, it can be published.
    naming.publish(case, people["supervisor3"], on=case.appeal_due + timedelta(days=1))
    assert case.status == CaseStatus.PUBLISHED


def test_the_window_follows_the_rules_and_cannot_be_set_below_14_days(app, people):
    """Issue 9 part 1: 'default 21 days, set by the authority'; a window shorter than the representations minimum
    would not be a real chance to appeal."""
    from retail.validation import InvalidValue

    with pytest.raises(InvalidValue):
        scoring.save_rules(dict(scoring.DEFAULT_RULES, appeal_days=3), "supervisor@test.example")
    db.session.rollback()
    scoring.save_rules(dict(scoring.DEFAULT_RULES, appeal_days=28), "supervisor@test.example")
    case = decided_case(people, decided_on=days_ago(1))
    assert case.appeal_due == days_ago(1) + timedelta(days=28)


def test_the_business_appeals_from_its_portal_and_nothing_is_published_until_it_is_decided(app, client, people):
    case = own_business_case(people, decided_on=days_ago(2))
    login_as(client, people["retailer"])
    page = client.get(f"/my/naming/{case.id}").get_data(as_text=True)
    assert "You can appeal until" in page and f"{case.appeal_due:%d %b %Y}" in page
    response = client.post(f"/my/naming/{case.id}/appeal", data={"grounds": "The second buyer was 18."},
                           follow_redirects=True)
    assert "Your appeal has been received" in response.get_data(as_text=True)
    db.session.refresh(case)
    assert case.status == CaseStatus.APPEALED and "The second buyer was 18." in case.appeal_text
    assert case.appeal_lodged_by == people["retailer"].email
    # Even after the window has closed, an appeal waiting for a decision holds publication.
    with pytest.raises(naming.NamingError, match="has appealed"):
        naming.publish(case, people["supervisor3"], on=case.appeal_due + timedelta(days=30))
    db.session.rollback()
    page = client.get(f"/my/naming/{case.id}").get_data(as_text=True)
    assert "nothing is published meanwhile" in page


def test_an_appeal_after_the_window_is_refused_and_changes_nothing(app, client, people):
    """Issue 9 'Done when': an appeal after the window gets a clear refusal and changes nothing."""
    case = own_business_case(people, decided_on=days_ago(30))
    version = case.version
    login_as(client, people["retailer"])
    page = client.get(f"/my/naming/{case.id}").get_data(as_text=True)
    assert "The time to appeal ended" in page and 'name="grounds"' not in page
    response = client.post(f"/my/naming/{case.id}/appeal", data={"grounds": "Too late"}, follow_redirects=True)
    assert "The time to appeal closed on" in response.get_data(as_text=True)
    db.session.refresh(case)
    assert (case.status, case.version, case.appeal_text) == (CaseStatus.DECIDED_PUBLISH, version, "")


def test_another_business_cannot_appeal_a_case_that_is_not_its_own(app, client, people):
    case = decided_case(people, decided_on=days_ago(1))  # Blade Corner's, not the retailer's business
    login_as(client, people["retailer"])
    assert client.post(f"/my/naming/{case.id}/appeal", data={"grounds": "Not mine"}).status_code == 404
    with pytest.raises(naming.NamingError, match="Only the business"):
        naming_appeal.lodge_appeal(case, people["retailer"], "Not mine")
    db.session.rollback()
    db.session.refresh(case)
    assert case.status == CaseStatus.DECIDED_PUBLISH


def test_the_appeal_is_decided_only_by_a_supervisor_involved_in_neither_the_proposal_nor_the_decision(app, people):
    """Brief 5.3 step 6 and 5.1: 'decided by an officer not involved'."""
    case = decided_case(people, decided_on=days_ago(2))
    naming_appeal.lodge_appeal(case, people["officer"], "Letter of appeal received by post")
    for who, match in (("supervisor", "involved"), ("supervisor2", "involved"), ("officer", "Only supervisors"),
                       ("admin", "Only supervisors")):
        with pytest.raises(naming.NamingError, match=match):
            naming_appeal.decide_appeal(case, people[who], False, "Refused")
    with pytest.raises(naming.NamingError, match="reasons"):
        naming_appeal.decide_appeal(case, people["supervisor3"], False, "  ")
    assert case.status == CaseStatus.APPEALED
    naming_appeal.decide_appeal(case, people["supervisor3"], False, "The records show two sales to 15-year-olds.")
    assert case.status == CaseStatus.DECIDED_PUBLISH and case.appeal_outcome == "refused"
    # Refused: it can be published at once, without waiting out the rest of the window.
    assert naming.can_publish(case) == (True, "")
    naming.publish(case, people["supervisor3"])
    assert case.status == CaseStatus.PUBLISHED
    with pytest.raises(naming.NamingError):
        naming_appeal.lodge_appeal(case, people["officer"], "A second appeal")


def test_an_appeal_allowed_closes_the_case_and_nothing_is_ever_published(app, client, people):
    case = decided_case(people, decided_on=days_ago(2))
    naming_appeal.lodge_appeal(case, people["officer"], "Letter of appeal")
    naming_appeal.decide_appeal(case, people["supervisor3"], True, "The first sale's volunteer was 18 by then.")
    db.session.commit()
    assert case.status == CaseStatus.NO_ACTION and case.appeal_outcome == "allowed"
    with pytest.raises(naming.NamingError):
        naming.publish(case, people["supervisor3"], on=TODAY + timedelta(days=60))
    db.session.rollback()
    assert "Blade Corner" not in client.get("/named").get_data(as_text=True)
    assert client.get("/api/v1/named").get_json()["meta"]["total_count"] == 0


def test_staff_record_and_decide_an_appeal_through_the_case_page(app, client, people):
    case = decided_case(people, decided_on=days_ago(2))
    login_as(client, people["officer"])
    page = client.get(f"/naming/{case.id}").get_data(as_text=True)
    assert "appeal window open" in page and "Record the appeal" in page
    client.post(f"/naming/{case.id}/appeal", data={"version": case.version, "grounds": "Owner's letter"})
    db.session.refresh(case)
    assert case.status == CaseStatus.APPEALED
    client.post("/logout")
    # The supervisor who decided to publish is told someone else must decide the appeal, and is refused.
    login_as(client, people["supervisor2"])
    assert "a supervisor who was not must decide the appeal" in client.get(f"/naming/{case.id}").get_data(
        as_text=True)
    client.post(f"/naming/{case.id}/appeal-decision", data={"version": case.version, "outcome": "refuse",
                                                             "reasons": "x"})
    db.session.refresh(case)
    assert case.status == CaseStatus.APPEALED
    client.post("/logout")
    login_as(client, people["supervisor3"])
    home = client.get("/").get_data(as_text=True)
    assert "Appeals to decide" in home
    client.post(f"/naming/{case.id}/appeal-decision", data={"version": case.version, "outcome": "refuse",
                                                             "reasons": "The records stand."})
    db.session.refresh(case)
    assert case.status == CaseStatus.DECIDED_PUBLISH and case.appeal_decided_by_id == people["supervisor3"].id
    assert "Publish today" in client.get(f"/naming/{case.id}").get_data(as_text=True)


def test_the_appeal_outcome_letter_tells_the_business_the_result_and_the_reasons(app, people):
    from retail import letters as L
    from retail.letters import kinds
    from retail.settings import all_settings
    from tests.test_letters_pdf import pdf_pages

    case = own_business_case(people, decided_on=days_ago(2))
    with app.test_request_context():
        decision = " ".join(kinds.KINDS["naming-decision"].render(case, all_settings()).split())
        assert "You may appeal against this decision until" in decision
        assert f"{case.appeal_due:%d %b %Y}" in decision
        naming_appeal.lodge_appeal(case, people["retailer"], "Grounds")
        naming_appeal.decide_appeal(case, people["supervisor3"], True, "The volunteer was over 18.")
        db.session.commit()
        (item,) = [item for item in L.week_letters() if item.kind.name == "naming-appeal"]
        assert item.record.id == case.id
        text = " ".join(" ".join(pdf_pages(L.item_pdf(item))).split())
        assert "Your appeal is allowed" in text and "The volunteer was over 18." in text


def test_a_case_decided_without_an_appeal_window_cannot_be_published(app, people):
    """Migration 0015 gives cases decided before the appeal existed a window; one without any is never published."""
    case = decided_case(people, decided_on=days_ago(60))
    case.appeal_due = None
    with pytest.raises(naming.NamingError, match="No appeal window"):
        naming.publish(case, people["supervisor3"])
