"""Fair naming (issue 9): separation of duties walked as role × transition × own/other's case, and the strategy's
rule as a floor that the notice letter states from the same settings."""
import pytest

from retail import naming, naming_appeal, scoring
from retail.access import Role
from retail.extensions import db
from retail.models.compliance import CaseStatus
from retail.validation import InvalidValue
from tests.conftest import login_as, make_user
from tests.test_naming import STATEMENT, candidate_business, noticed_case, proposed_case
from tests.test_scoring import days_ago


@pytest.fixture
def people(app, users):
    return {"officer": users[Role.OFFICER], "supervisor": users[Role.SUPERVISOR], "admin": users[Role.ADMIN],
            "police": users[Role.POLICE], "supervisor2": make_user(Role.SUPERVISOR, "supervisor2@test.example"),
            "supervisor3": make_user(Role.SUPERVISOR, "supervisor3@test.example"),
            "retailer": users[Role.RETAILER]}


def _at(status, people, proposer):
    """A case brought to `status`, proposed by `proposer`; approved (when needed) by a supervisor other than them."""
    names = iter(["Alpha Blades", "Beta Blades", "Gamma Blades", "Delta Blades", "Epsilon Blades"])
    business = candidate_business(next(names) + f" {proposer.id}-{status}")
    case = naming.open_case(business, proposer)
    if status == "candidate":
        return case
    naming.propose(case, proposer, STATEMENT)
    if status == "proposed":
        return case
    approver = people["supervisor3"]
    naming.approve_notice(case, approver)
    naming.send_notice(case, people["officer"], on=days_ago(60))
    if status == "notice-sent":
        return case
    decider = next(p for p in (people["supervisor2"], people["supervisor"]) if p.id != proposer.id)
    if status == "decided":  # decided long enough ago for the 21-day appeal window to have closed
        naming.decide(case, decider, True, "Facts established", today=days_ago(30))
        return case
    naming.decide(case, decider, True, "Facts established", today=days_ago(1))  # its appeal window is open
    if status == "appealed":
        naming_appeal.lodge_appeal(case, people["officer"], "The owner's letter of appeal")
    return case


TRANSITIONS = {
    # name: (status the case is at, the call)
    "propose": ("candidate", lambda case, user: naming.propose(case, user, STATEMENT)),
    "approve": ("proposed", lambda case, user: naming.approve_notice(case, user)),
    "reject": ("proposed", lambda case, user: naming.reject_proposal(case, user, "Not proportionate")),
    "decide": ("notice-sent", lambda case, user: naming.decide(case, user, True, "Facts established")),
    "publish": ("decided", lambda case, user: naming.publish(case, user)),
    # Issue 9 part 1: an appeal is lodged by the business (its own case only) or recorded by an officer; it is
    # decided by a supervisor involved neither in the proposal nor in the decision.
    "appeal": ("decided-open", lambda case, user: naming_appeal.lodge_appeal(case, user, "Grounds")),
    "decide-appeal": ("appealed", lambda case, user: naming_appeal.decide_appeal(case, user, False, "Refused")),
}
# Who may take each step on a case someone else proposed (brief 5.3 step 4, issue 9 part 4).
ALLOWED_ON_OTHERS = {
    "propose": {"officer", "supervisor"},
    "approve": {"supervisor"}, "reject": {"supervisor"}, "decide": {"supervisor"}, "publish": {"supervisor"},
    "appeal": {"officer", "supervisor"}, "decide-appeal": {"supervisor"},
}
# Steps a person may also take on a case they proposed: proposing it, and recording the business's written appeal.
ALLOWED_ON_OWN = {"propose", "appeal"}


@pytest.mark.parametrize("transition", list(TRANSITIONS))
@pytest.mark.parametrize("role", ["admin", "officer", "supervisor", "police", "retailer"])
@pytest.mark.parametrize("whose", ["own", "other"])
def test_every_naming_transition_by_role_on_own_and_others_cases(app, people, transition, role, whose):
    """Brief 5.3 step 4 (two-person approval), issue 9 part 4: administrators never propose, approve, decide or
    publish; a supervisor never approves, decides or publishes a case they proposed or edited."""
    status, step = TRANSITIONS[transition]
    actor = people[role]
    if whose == "own":
        if role not in ("officer", "supervisor"):
            pytest.skip("only officers and supervisors can own (propose) a case")
        proposer = actor
    else:
        proposer = people["officer"] if role != "officer" else people["supervisor2"]
    case = _at(status, people, proposer)
    db.session.commit()
    allowed = role in ALLOWED_ON_OTHERS[transition] and (whose == "other" or transition in ALLOWED_ON_OWN)
    if allowed:
        step(case, actor)
        db.session.commit()
    else:
        before = (case.status, case.version)
        with pytest.raises(naming.NamingError):
            step(case, actor)
        db.session.rollback()
        db.session.refresh(case)
        assert (case.status, case.version) == before  # refused and nothing changed


def test_a_supervisor_who_revised_the_statement_cannot_approve_or_decide(app, people):
    """Issue 9 part 4: 'proposed or edited' — revising the statement counts as editing."""
    case = proposed_case(people)  # proposed by the officer
    naming.propose(case, people["supervisor"], STATEMENT + " Revised.")  # the supervisor edits it
    with pytest.raises(naming.NamingError, match="edited"):
        naming.approve_notice(case, people["supervisor"])
    naming.approve_notice(case, people["supervisor2"])
    naming.send_notice(case, people["officer"], on=days_ago(60))
    with pytest.raises(naming.NamingError, match="involved"):
        naming.decide(case, people["supervisor"], True, "I edited it")
    naming.decide(case, people["supervisor3"], True, "Not involved")
    assert case.status == CaseStatus.DECIDED_PUBLISH


def test_admin_cannot_use_the_naming_pages_that_change_a_case(app, client, people):
    case = noticed_case(people)
    login_as(client, people["admin"])
    for action, data in (("approve", {}), ("reject", {"reasons": "x"}), ("decide", {"outcome": "publish",
                                                                                   "reasons": "x"}),
                         ("publish", {}), ("propose", {"statement": STATEMENT}), ("notice", {}),
                         ("representations", {"text": "x"}), ("remove", {"reason": "x"})):
        response = client.post(f"/naming/{case.id}/{action}", data={"version": case.version, **data})
        assert response.status_code == 403, action
    assert client.post(f"/naming/open/{case.business_id}").status_code == 403
    db.session.refresh(case)
    assert case.status == CaseStatus.NOTICE_SENT


def test_thresholds_cannot_go_below_the_strategys_rule(app, client, people):
    """Brief 5.3 step 1 / issue 9 part 2: at least two sales and one refused training offer is a floor."""
    for key, low in (("candidate_min_sales", 1), ("candidate_min_refusals", 0)):
        with pytest.raises(InvalidValue, match="floor"):
            scoring.save_rules(dict(scoring.DEFAULT_RULES, **{key: low}), "supervisor@test.example")
        db.session.rollback()
    assert scoring.current_rules().version == 1
    # Through the page: a clear refusal, and the rules stay as they were.
    login_as(client, people["supervisor"])
    rules = scoring.current_rules()
    db.session.commit()
    form = {spec.key: str(rules[spec.key]) for spec in scoring.RULE_SPECS}
    response = client.post("/compliance/rules/edit", data={**form, "candidate_min_sales": "1",
                                                           "rules_version": str(rules.version)})
    assert response.status_code == 422
    assert "cannot be lower than 2" in response.get_data(as_text=True)
    assert scoring.current_rules().version == 1
    # Raising it is allowed.
    scoring.save_rules(dict(scoring.DEFAULT_RULES, candidate_min_sales=3), "supervisor@test.example")
    assert scoring.current_rules()["candidate_min_sales"] == 3


def test_an_older_rules_version_below_the_floor_is_read_at_the_floor(app):
    from retail.models.compliance import ScoringRules

    db.session.add(ScoringRules(version=1, values=dict(scoring.DEFAULT_RULES, candidate_min_sales=1,
                                                       candidate_min_refusals=0), created_by="legacy"))
    db.session.flush()
    rules = scoring.current_rules()
    assert rules["candidate_min_sales"] == 2 and rules["candidate_min_refusals"] == 1


def test_the_notice_states_the_settings_the_rules_use(app, client, people):
    """Issue 9 part 2: the letter's thresholds, deadline and publication period come from the same rules."""
    scoring.save_rules(dict(scoring.DEFAULT_RULES, candidate_min_sales=3, publish_months=24,
                            representation_days=28), "supervisor@test.example")
    db.session.commit()
    business = candidate_business()
    from tests.test_scoring import make_purchase

    make_purchase(business, days_ago(90))
    case = noticed_case(people, business)
    login_as(client, people["officer"])
    letter = client.get(f"/naming/{case.id}/letter").get_data(as_text=True)
    assert "at least 3 occasions" in letter and "register for 24 months" in letter
    assert "register for 12 months" not in letter
    assert case.representations_due == case.notice_sent_on + __import__("datetime").timedelta(days=28)


def test_representations_sent_twice_are_recorded_once(app, client, people):
    """Issue 14: the same form sent twice (a double tap, a resend after a lost signal) makes one entry."""
    from tests.test_scoring import make_purchase, make_refusal

    own = people["retailer"].business
    make_purchase(own, days_ago(200))
    make_purchase(own, days_ago(100))
    make_refusal(own, days_ago(150))
    case = noticed_case(people, own, sent=days_ago(3))
    login_as(client, people["retailer"])
    page = client.get(f"/my/naming/{case.id}").get_data(as_text=True)
    import re

    token = re.search(r'name="submission_token" value="([^"]+)"', page).group(1)
    for _ in range(3):
        response = client.post(f"/my/naming/{case.id}/representations",
                               data={"text": "Our staff are now trained.", "submission_token": token})
        assert response.status_code == 302
    db.session.refresh(case)
    assert case.representations_text.count("Our staff are now trained.") == 1
    assert [s.action for s in case.steps].count("representations received") == 1
    # A new form (a new token) is a new set of representations.
    client.post(f"/my/naming/{case.id}/representations", data={"text": "And a second point.",
                                                                "submission_token": "another-token-123"})
    db.session.refresh(case)
    assert "And a second point." in case.representations_text


def test_retailer_sees_every_record_the_notice_cites(app, client, people):
    """Issue 9 part 3: the retailer's notice page lists each sale and refusal the case relies on."""
    from tests.test_scoring import make_purchase, make_refusal

    own = people["retailer"].business
    make_purchase(own, days_ago(200))
    make_purchase(own, days_ago(100))
    make_refusal(own, days_ago(150))
    case = noticed_case(people, own, sent=days_ago(3))
    login_as(client, people["retailer"])
    page = client.get(f"/my/naming/{case.id}").get_data(as_text=True)
    assert "The records this notice relies on" in page
    assert page.count("underage sale (") == 2 and page.count("training refused (") == 1
    for item in case.evidence:
        assert __import__("datetime").date.fromisoformat(item["date"]).strftime("%d %b %Y") in page


def test_public_entry_lists_only_the_shops_where_the_sales_happened(app, client, people):
    """Issue 9 part 3 / brief 5.3 step 7: a chain is named against the shop that sold, not all its shops."""
    from tests.factories import create_premises
    from tests.test_naming import published_case

    business = candidate_business("Chain Blades", "E8 2AA", "hackney")  # sales at its first shop
    create_premises(business, name="Chain Blades Islington", postcode="N1 1AA", borough="islington")
    case = published_case(people, business)
    entry = client.get(f"/api/v1/named/{case.id}").get_json()
    assert [p["postcode"] for p in entry["premises"]] == ["E8 2AA"]
    assert "Chain Blades Islington" not in client.get(f"/named/{case.id}").get_data(as_text=True)
    login_as(client, people["officer"])
    letter = client.get(f"/naming/{case.id}/letter").get_data(as_text=True)
    assert "E8 2AA" in letter and "Chain Blades Islington" not in letter  # the notice names what the entry will


def test_a_sole_traders_own_name_is_never_published_a_companys_registered_name_is(app, client, people):
    """Issue 9 part 3 / brief 5.3: naming publishes the business, never a person. A sole trader's legal name is the
    trader's own name: the public page, the API and the open data CSV show the trading name instead."""
    from tests.factories import create_business
    from tests.test_naming import published_case
    from tests.test_scoring import make_purchase, make_refusal

    trader = create_business(legal_name="Jonathan Q Example", trading_name="Sharp Corner", postcode="E8 2AA")
    make_purchase(trader, days_ago(200))
    make_purchase(trader, days_ago(100))
    make_refusal(trader, days_ago(150), "declined")
    sole = published_case(people, trader)
    registered = candidate_business("Edge Ltd Shop", "E5 0AA", "hackney")
    registered.company_number = "01234567"
    db.session.commit()
    company = published_case(people, registered)

    public = client.get(f"/named/{sole.id}").get_data(as_text=True)
    api = client.get(f"/api/v1/named/{sole.id}").get_json()
    csv_response = client.get("/api/v1/named.csv")
    csv_text = csv_response.get_data(as_text=True)
    assert csv_response.status_code == 200 and "Sharp Corner" in csv_text
    for text in (public, str(api), csv_text):
        assert "Jonathan Q Example" not in text
    assert api["legal_name"] == "Sharp Corner" and "Sharp Corner" in public
    assert client.get(f"/api/v1/named/{company.id}").get_json()["legal_name"] == "Edge Ltd Shop Ltd"


def test_the_officer_confirms_the_name_is_not_a_persons_or_changes_it_and_search_finds_only_that(app, client,
                                                                                                   people):
    """Issue 9 part 3 / brief 5.2 (a sole trader named with alleged offences is criminal-offence data): the proposer
    confirms the trading name is not a sole trader's own name, or edits it; what is approved is what is published,
    and a public search for the person's name does not find the entry."""
    from tests.factories import create_business
    from tests.test_scoring import make_purchase, make_refusal

    trader = create_business(legal_name="Jonathan Q Example", trading_name="Jonathan Example", postcode="E8 2AA")
    make_purchase(trader, days_ago(200))
    make_purchase(trader, days_ago(100))
    make_refusal(trader, days_ago(150), "declined")
    case = naming.open_case(trader, people["officer"])
    db.session.commit()
    login_as(client, people["officer"])
    page = client.get(f"/naming/{case.id}").get_data(as_text=True)
    assert 'value="Jonathan Example"' in page and "not a sole trader" in page
    # Not confirmed: refused, nothing changes.
    html = client.post(f"/naming/{case.id}/propose", data={"statement": STATEMENT, "version": case.version,
                                                           "published_name": "Jonathan Example"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Confirm that the name to publish is not a sole trader" in html
    db.session.refresh(case)
    assert case.status == CaseStatus.CANDIDATE and case.statement == ""
    # The officer changes it to the shop's name and confirms.
    client.post(f"/naming/{case.id}/propose", data={"statement": STATEMENT, "version": case.version,
                                                    "published_name": "The knife shop at 1 Mare Street",
                                                    "name_confirmed": "yes"})
    db.session.refresh(case)
    assert case.status == CaseStatus.PROPOSED and case.published_name == "The knife shop at 1 Mare Street"
    naming.approve_notice(case, people["supervisor"])
    naming.send_notice(case, people["officer"], on=days_ago(60))
    naming.decide(case, people["supervisor2"], True, "Established", today=days_ago(38))
    naming.publish(case, people["supervisor2"], on=days_ago(5))
    db.session.commit()
    client.post("/logout")
    entry = client.get(f"/api/v1/named/{case.id}").get_json()
    assert entry["business_name"] == entry["legal_name"] == "The knife shop at 1 Mare Street"
    for words in ("Jonathan", "Example"):
        found = client.get("/api/v1/named", query_string={"name": words}).get_json()["meta"]["total_count"]
        assert found == 0, words
        assert "Mare Street" not in client.get("/named", query_string={"q": words}).get_data(as_text=True)
    assert client.get("/api/v1/named", query_string={"name": "knife shop"}).get_json()["meta"]["total_count"] == 1


def test_the_public_entry_keeps_the_name_the_supervisor_approved_when_the_register_changes(app, client, people):
    """Issue 14 / issue 9 part 3: an officer's later edit of the business name changed a published entry at once,
    outside the two-person approval. The entry shows what was approved with the notice."""
    from retail import register
    from tests.test_naming import published_case

    case = published_case(people, candidate_business("Approved Blades", "E8 2AA", "hackney"))
    register.update_business(case.business, {"trading_name": "Renamed Since"})
    db.session.commit()
    assert case.business.display_name == "Renamed Since"
    entry = client.get(f"/api/v1/named/{case.id}").get_json()
    assert entry["business_name"] == "Approved Blades"
    public = client.get(f"/named/{case.id}").get_data(as_text=True)
    assert "Approved Blades" in public and "Renamed Since" not in public


def test_the_public_entry_keeps_the_shop_address_approved_with_the_notice(app, client, people):
    """Issue 9 part 3: what the supervisor approves is what is published; an officer's later edit of the shop in the
    register (a new address) does not change the entry outside the two-person approval."""
    from retail import register
    from tests.test_naming import published_case

    case = published_case(people, candidate_business("Frozen Blades", "E8 2AA", "hackney"))
    shop = case.business.premises[0]
    approved_address = client.get(f"/api/v1/named/{case.id}").get_json()["premises"][0]["address"]
    register.update_premises(shop, {"address_line1": "99 Somewhere Else"})
    db.session.commit()
    entry = client.get(f"/api/v1/named/{case.id}").get_json()
    assert entry["premises"][0]["address"] == approved_address and "99 Somewhere Else" not in approved_address
    assert "99 Somewhere Else" not in client.get(f"/named/{case.id}").get_data(as_text=True)


def test_a_published_entry_is_withdrawn_at_once_by_two_supervisors_and_the_api_lists_it(app, client, people):
    """Issue 9 part 1: an entry published in error comes off the public page and open data at once when a second
    supervisor confirms a first one's request with a reason; the API keeps a withdrawn record with its date."""
    from tests.conftest import csrf_token_from
    from tests.test_naming import published_case

    case = published_case(people, candidate_business("Wrongly Named", "E8 2AA", "hackney"))
    assert client.get(f"/named/{case.id}").status_code == 200
    assert client.get("/api/v1/named/withdrawn").get_json()["items"] == []

    login_as(client, people["officer"])
    assert client.post(f"/naming/{case.id}/withdraw", data={"reason": "x"}).status_code == 403  # supervisors only

    client.post("/logout")
    login_as(client, people["supervisor"])
    page = client.get(f"/naming/{case.id}").get_data(as_text=True)
    client.post(f"/naming/{case.id}/withdraw", data={"csrf_token": csrf_token_from(page), "version": case.version,
                                                     "reason": "The sale was by the shop next door"})
    db.session.refresh(case)
    assert case.status == CaseStatus.PUBLISHED and case.withdrawal_reason == "The sale was by the shop next door"
    assert client.get(f"/naming/{case.id}").get_data(as_text=True).count("Another supervisor must confirm") == 1
    with pytest.raises(naming.NamingError, match="another supervisor"):
        naming.confirm_withdrawal(case, people["supervisor"])  # not the one who asked
    db.session.rollback()

    client.post("/logout")
    login_as(client, people["supervisor2"])
    page = client.get(f"/naming/{case.id}").get_data(as_text=True)
    assert "Confirm the withdrawal" in page
    client.post(f"/naming/{case.id}/withdraw", data={"csrf_token": csrf_token_from(page), "version": case.version})
    db.session.refresh(case)
    assert case.status == CaseStatus.REMOVED and case.withdrawn_on is not None
    client.post("/logout")
    assert client.get(f"/named/{case.id}").status_code == 404
    assert client.get(f"/api/v1/named/{case.id}").status_code == 404
    assert "Wrongly Named" not in client.get("/api/v1/named.csv").get_data(as_text=True)
    assert client.get("/api/v1/named/withdrawn").get_json()["items"] == [
        {"id": case.id, "withdrawn_on": case.withdrawn_on.isoformat()}]


def test_a_published_entry_is_corrected_by_two_supervisors_and_the_open_data_follows(app, client, people):
    """Issue 9 part 1: 'withdrawn or corrected by two supervisors with a reason; the public page and open data ...
    amend it at once'. A correction without a reason is refused and changes nothing."""
    from retail import naming_correction
    from tests.test_naming import published_case

    case = published_case(people, candidate_business("Mispelt Blades", "E8 2AA", "hackney"))
    corrected = STATEMENT.replace("two occasions", "two occasions (March and June)")
    login_as(client, people["supervisor"])
    form = {"version": case.version, "statement": corrected, "published_name": "Misspelt Blades"}
    html = client.post(f"/naming/{case.id}/correct", data=form, follow_redirects=True).get_data(as_text=True)
    assert "Enter the reason for the correction" in html
    db.session.refresh(case)
    assert case.correction_requested_by_id is None and case.published_name == "Mispelt Blades"
    client.post(f"/naming/{case.id}/correct", data={**form, "reason": "The name was misspelt"})
    db.session.refresh(case)
    assert case.correction_name == "Misspelt Blades"
    # Proposed, not yet applied: the public entry is unchanged, and the proposer cannot confirm it.
    assert client.get(f"/api/v1/named/{case.id}").get_json()["business_name"] == "Mispelt Blades"
    with pytest.raises(naming.NamingError, match="another supervisor"):
        naming_correction.confirm_correction(case, people["supervisor"])
    db.session.rollback()
    client.post("/logout")
    login_as(client, people["officer"])
    assert client.post(f"/naming/{case.id}/correct", data={"version": case.version}).status_code == 403
    client.post("/logout")
    login_as(client, people["supervisor2"])
    assert "Confirm the correction" in client.get(f"/naming/{case.id}").get_data(as_text=True)
    client.post(f"/naming/{case.id}/correct", data={"version": case.version})
    db.session.refresh(case)
    assert case.corrected_on is not None and case.status == CaseStatus.PUBLISHED
    client.post("/logout")
    entry = client.get(f"/api/v1/named/{case.id}").get_json()
    assert (entry["business_name"], entry["legal_name"], entry["statement"], entry["corrected_on"]) == (
        "Misspelt Blades", "Misspelt Blades", corrected, case.corrected_on.isoformat())
    import csv
    import io

    (row,) = csv.DictReader(io.StringIO(client.get("/api/v1/named.csv").get_data(as_text=True)))
    assert (row["business_name"], row["statement"], row["corrected_on"]) == (
        "Misspelt Blades", corrected, case.corrected_on.isoformat())
    public = client.get(f"/named/{case.id}").get_data(as_text=True)
    assert "(March and June)" in public and "corrected" in public
    # The log keeps what the entry said before.
    assert any(step.action == "corrected" and "Mispelt Blades" in step.reason for step in case.steps)
