"""Naming candidates and the workflow: the rule and its near misses, two-person approval, the representations window,
pending enforcement, the retailer's side, expiry and early removal."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from retail import naming, naming_public, scoring
from retail.access import Role
from retail.extensions import db
from retail.models.compliance import CaseStatus, NamingCase, NamingStep
from retail.models.purchases import TestPurchase
from retail.purchases import sync_enforcement_stage
from tests.conftest import login_as, make_user
from tests.factories import create_business, create_store
from tests.test_scoring import TODAY, days_ago, make_action, make_certificate, make_purchase, make_refusal

STATEMENT = ("Blade Corner, 1 High Street, London E8 2AA, sold knives to volunteers aged under 18 in test purchases "
             "on two occasions in the last 12 months and declined the free training offered.")


def candidate_business(name="Blade Corner", postcode="E8 2AA", borough="hackney"):
    business = create_business(legal_name=f"{name} Ltd", trading_name=name, postcode=postcode, borough=borough)
    make_purchase(business, days_ago(200))
    make_purchase(business, days_ago(100))
    make_refusal(business, days_ago(150), "declined")
    return business


def is_candidate(business) -> bool:
    return scoring.rescore_business(business.id).candidate


def test_business_meeting_the_rule_is_a_candidate(app):
    business = candidate_business()
    assert is_candidate(business)
    evidence = scoring.candidate_evidence(business.id)
    assert len(evidence["sales"]) == 2 and len(evidence["refusals"]) == 1 and evidence["meets_rule"]


def test_one_sale_only_is_not_a_candidate(app):
    business = create_business(legal_name="One Sale Ltd", trading_name="One Sale")
    make_purchase(business, days_ago(100))
    make_refusal(business, days_ago(50))
    assert not is_candidate(business)


def test_two_sales_but_no_refusal_is_not_a_candidate(app):
    business = create_business(legal_name="No Refusal Ltd", trading_name="No Refusal")
    make_purchase(business, days_ago(200))
    make_purchase(business, days_ago(100))
    assert not is_candidate(business)


def test_refusal_before_the_first_sale_does_not_count(app):
    business = create_business(legal_name="Early Refusal Ltd", trading_name="Early Refusal")
    make_refusal(business, days_ago(300))
    make_purchase(business, days_ago(200))
    make_purchase(business, days_ago(100))
    assert not is_candidate(business)
    make_refusal(business, days_ago(150), "no-show")  # a no-show after the first sale does count
    assert is_candidate(business)


def test_sales_outside_the_window_challenge25_and_courier_failures_do_not_count(app):
    business = create_business(legal_name="Edge Ltd", trading_name="Edge")
    make_purchase(business, days_ago(800))  # older than 24 months
    make_purchase(business, days_ago(100), kind="challenge25")
    store = create_store(business)
    make_purchase(business, days_ago(90), "FAIL_LEFT_UNATTENDED", store=store, courier=True)
    make_purchase(business, days_ago(80))
    make_refusal(business, days_ago(70))
    assert not is_candidate(business)
    make_purchase(business, days_ago(60), "FAIL_DELIVERED_NO_AGE_CHECK", store=store, dispatch=True)
    assert is_candidate(business)  # an online failure of the seller's own dispatch counts


def test_pending_prosecution_holds_the_candidate(app):
    business = candidate_business()
    first = db.session.scalars(sa.select(TestPurchase).where(
        TestPurchase.business_id == business.id)).first()
    action = make_action(first, "prosecution", "pending")
    score = scoring.rescore_business(business.id)
    assert not score.candidate and score.enforcement_pending
    action.status, action.court_outcome = "completed", "convicted"
    sync_enforcement_stage(first)
    db.session.commit()
    assert is_candidate(business)


def test_an_acquitted_sale_does_not_count_towards_naming(app):
    """Issue 8 / brief 5.3: a sale followed by an acquittal (not guilty, due diligence) is not held against the
    business, so with one other sale it no longer meets the two-sales rule."""
    business = candidate_business()
    first = db.session.scalars(sa.select(TestPurchase).where(TestPurchase.business_id == business.id)).first()
    make_action(first, "prosecution", "completed", court_outcome="acquitted")
    assert first.enforcement_stage == "acquitted"
    assert not is_candidate(business)
    evidence = scoring.candidate_evidence(business.id)
    assert f"test_purchase:{first.id}" not in {s["record"] for s in evidence["sales"]}


def test_a_fresh_sale_with_no_decision_is_not_nameable_inside_the_time_limit(app):
    """Issue 8 / brief 5.3: 'pending' covers a fresh failure with no decision yet, not only a pending prosecution."""
    business = create_business(legal_name="Fresh Sale Ltd", trading_name="Fresh Sale", postcode="E8 1AA")
    make_purchase(business, days_ago(300))
    make_refusal(business, days_ago(250))
    make_purchase(business, days_ago(10), enforcement="undecided")
    assert not is_candidate(business)


@pytest.fixture
def people(app, users):
    return {"officer": users[Role.OFFICER], "supervisor": users[Role.SUPERVISOR],
            "supervisor2": make_user(Role.SUPERVISOR, "supervisor2@test.example"), "retailer": users[Role.RETAILER]}


def proposed_case(people, business=None):
    business = business or candidate_business()
    case = naming.open_case(business, people["officer"])
    naming.propose(case, people["officer"], STATEMENT)
    db.session.commit()
    return case


def noticed_case(people, business=None, sent=None):
    case = proposed_case(people, business)
    naming.approve_notice(case, people["supervisor"])
    naming.send_notice(case, people["officer"], on=sent or days_ago(30))
    db.session.commit()
    return case


def published_case(people, business=None):
    """Published five days ago, after the business's 21-day appeal window closed with no appeal."""
    case = noticed_case(people, business, sent=days_ago(60))
    naming.decide(case, people["supervisor2"], True, "Facts established; no representations", today=days_ago(38))
    naming.publish(case, people["supervisor2"], on=days_ago(5))
    db.session.commit()
    return case


def test_open_case_refused_for_a_business_that_just_misses_the_rule(app, people):
    business = create_business(legal_name="One Sale Ltd", trading_name="One Sale")
    make_purchase(business, days_ago(100))
    with pytest.raises(naming.NamingError, match="does not meet"):
        naming.open_case(business, people["officer"])


def test_the_proposer_cannot_approve(app, people, users):
    case = proposed_case(people)
    supervisor = people["supervisor"]
    case2 = naming.open_case(candidate_business("Second Shop", "N1 1AA", "islington"), supervisor)
    naming.propose(case2, supervisor, STATEMENT)
    with pytest.raises(naming.NamingError, match="another supervisor"):
        naming.approve_notice(case2, supervisor)
    with pytest.raises(naming.NamingError, match="Only supervisors"):
        naming.approve_notice(case, people["officer"])
    naming.approve_notice(case, supervisor)
    assert case.status == CaseStatus.APPROVED


def test_the_decider_must_not_have_been_involved_in_the_proposal(app, people):
    case = noticed_case(people)
    with pytest.raises(naming.NamingError, match="involved"):
        naming.decide(case, people["supervisor"], True, "I approved it")  # the approver
    naming.decide(case, people["supervisor2"], True, "Representations considered")
    assert case.status == CaseStatus.DECIDED_PUBLISH


def test_nothing_is_decided_or_published_while_the_window_is_open(app, people):
    case = noticed_case(people, sent=TODAY)
    assert case.representations_due == TODAY + timedelta(days=21)
    with pytest.raises(naming.NamingError, match="window is open"):
        naming.decide(case, people["supervisor2"], True, "Too early")
    # Even a case forced into "decided" cannot be published before the deadline.
    case.status = CaseStatus.DECIDED_PUBLISH
    with pytest.raises(naming.NamingError, match="window"):
        naming.publish(case, people["supervisor2"])
    db.session.rollback()


def test_nothing_is_published_while_enforcement_is_pending(app, people):
    case = noticed_case(people, sent=days_ago(60))
    naming.decide(case, people["supervisor2"], True, "Decided", today=days_ago(38))  # appeal window closed
    db.session.commit()
    purchase = db.session.scalars(sa.select(TestPurchase)
                                  .where(TestPurchase.business_id == case.business_id)).first()
    make_action(purchase, "simple-caution", "pending")
    with pytest.raises(naming.NamingError, match="pending"):
        naming.publish(case, people["supervisor2"])


def test_every_step_records_who_when_and_why(app, people):
    case = published_case(people)
    steps = db.session.scalars(sa.select(NamingStep).where(NamingStep.case_id == case.id)
                               .order_by(NamingStep.id)).all()
    assert [s.action for s in steps] == ["opened", "proposed", "approved for notice", "notice sent",
                                         "decided: publish", "published"]
    assert steps[4].actor == people["supervisor2"].email and steps[4].reason.startswith("Facts")
    assert all(s.at is not None for s in steps)
    assert case.expires_on == scoring_add_months(case.published_on, 12)


def scoring_add_months(day, months):
    from retail.timeutil import add_months

    return add_months(day, months)


def test_retailer_sees_own_notice_and_makes_representations_with_attachment(app, client, people):
    own = people["retailer"].business
    make_purchase(own, days_ago(200))
    make_purchase(own, days_ago(100))
    make_refusal(own, days_ago(150))
    case = noticed_case(people, own, sent=days_ago(3))
    login_as(client, people["retailer"])
    page = client.get(f"/my/naming/{case.id}").get_data(as_text=True)
    assert "sold knives to volunteers" in page and "Send representations" in page
    from io import BytesIO

    response = client.post(f"/my/naming/{case.id}/representations", data={
        "text": "We have since trained all staff.", "attachment": (BytesIO(b"%PDF-1.4 test"), "training.pdf",
                                                                   "application/pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.refresh(case)
    assert case.status == CaseStatus.REPRESENTATIONS
    assert "We have since trained all staff." in case.representations_text
    assert case.attachments[0].filename == "training.pdf" and case.attachments[0].size == 13
    download = client.get(f"/my/naming/attachments/{case.attachments[0].id}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 test"
    # A file of the wrong type is refused.
    bad = client.post(f"/my/naming/{case.id}/representations", data={
        "attachment": (BytesIO(b"MZ..."), "virus.exe", "application/x-msdownload")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "Attach a PDF" in bad.get_data(as_text=True)


def test_retailer_cannot_see_another_business_case(app, client, people):
    other_case = noticed_case(people)  # "Blade Corner", not the retailer's business
    login_as(client, people["retailer"])
    assert client.get(f"/my/naming/{other_case.id}").status_code == 404
    assert client.get(f"/my/naming/{other_case.id}/letter").status_code == 404
    assert client.post(f"/my/naming/{other_case.id}/reply", data={"text": "x"}).status_code == 404
    assert client.post(f"/my/naming/{other_case.id}/representations", data={"text": "x"}).status_code == 404
    assert "Blade Corner" not in client.get("/my/naming").get_data(as_text=True)


def test_retailer_does_not_see_a_proposal_before_the_notice(app, client, people):
    own = people["retailer"].business
    make_purchase(own, days_ago(200))
    make_purchase(own, days_ago(100))
    make_refusal(own, days_ago(150))
    case = proposed_case(people, own)
    login_as(client, people["retailer"])
    assert client.get(f"/my/naming/{case.id}").status_code == 404


def test_reply_is_published_only_after_a_supervisor_approves_it(app, client, people):
    own = people["retailer"].business
    make_purchase(own, days_ago(200))
    make_purchase(own, days_ago(100))
    make_refusal(own, days_ago(150))
    case = published_case(people, own)
    login_as(client, people["retailer"])
    client.post(f"/my/naming/{case.id}/reply", data={"text": "We now run Challenge 25 on every sale."})
    public = client.get("/named").get_data(as_text=True)
    assert "Own Shop" in public and "Challenge 25 on every sale" not in public
    client.post("/logout")
    login_as(client, people["supervisor"])
    client.post(f"/naming/{case.id}/reply-check", data={"decision": "approve", "version": case.version})
    db.session.refresh(case)
    assert case.reply_status.value == "approved"
    assert "Challenge 25 on every sale" in client.get("/named").get_data(as_text=True)


def test_rejected_reply_is_never_published(app, people):
    case = published_case(people)
    naming.submit_reply(case, people["retailer"], "Offensive words")
    with pytest.raises(naming.NamingError, match="reason"):
        naming.check_reply(case, people["supervisor"], False, "")
    naming.check_reply(case, people["supervisor"], False, "Offensive language")
    db.session.commit()
    assert naming_public.public_entries([case])[0]["reply"] is None


def test_expiry_removes_the_entry_from_public_page_and_api_on_its_own(app, client, people):
    case = published_case(people)
    assert client.get("/api/v1/named").get_json()["meta"]["total_count"] == 1
    case.expires_on = TODAY  # the entry's last day was yesterday; the nightly job has not run
    db.session.commit()
    assert "Blade Corner" not in client.get("/named").get_data(as_text=True)
    assert client.get("/api/v1/named").get_json()["meta"]["total_count"] == 0
    assert client.get(f"/api/v1/named/{case.id}").status_code == 404
    assert case.status == CaseStatus.PUBLISHED
    assert naming.expire_published() == 1
    assert case.status == CaseStatus.REMOVED and case.removed_reason == "Expired"


def test_naming_expire_command(app, runner, people):
    case = published_case(people)
    case.expires_on = days_ago(1)
    db.session.commit()
    result = runner.invoke(args=["naming-expire"])
    assert result.exit_code == 0 and "Removed 1" in result.output
    db.session.refresh(case)
    assert case.status == CaseStatus.REMOVED


def test_early_removal_needs_a_passed_retest_and_completed_training(app, client, people):
    case = published_case(people)
    business = case.business
    with pytest.raises(naming.NamingError, match="passed retest and completed training"):
        naming.remove_early(case, people["supervisor"], "Requested by the owner")
    make_purchase(business, days_ago(2), "PASS_REFUSED")
    with pytest.raises(naming.NamingError, match="completed training"):
        naming.remove_early(case, people["supervisor"], "Requested by the owner")
    make_certificate(business, TODAY + timedelta(days=365), attended=days_ago(1))
    naming.remove_early(case, people["supervisor"], "Requested by the owner")
    db.session.commit()
    assert case.status == CaseStatus.REMOVED
    assert client.get(f"/named/{case.id}").status_code == 404


def test_staff_workflow_through_the_pages(app, client, people):
    business = candidate_business()
    scoring.rescore_business(business.id)
    login_as(client, people["officer"])
    assert "Blade Corner" in client.get("/compliance/candidates").get_data(as_text=True)
    response = client.post(f"/naming/open/{business.id}")
    case = db.session.scalar(sa.select(NamingCase).where(NamingCase.business_id == business.id))
    assert response.status_code == 302 and case.status == CaseStatus.CANDIDATE
    client.post(f"/naming/{case.id}/propose", data={"statement": STATEMENT, "version": case.version,
                                                    "published_name": "Blade Corner", "name_confirmed": "yes"})
    db.session.refresh(case)
    assert case.status == CaseStatus.PROPOSED
    assert client.post(f"/naming/{case.id}/approve", data={"version": case.version}).status_code == 403
    client.post("/logout")
    login_as(client, people["supervisor"])
    client.post(f"/naming/{case.id}/approve", data={"version": case.version, "reason": "Evidence is clear"})
    db.session.refresh(case)
    assert case.status == CaseStatus.APPROVED and case.approved_by_id == people["supervisor"].id
    letter = client.get(f"/naming/{case.id}/letter").get_data(as_text=True)
    assert STATEMENT in letter and "representations" in letter
    # A stale form (an old version) is refused rather than applied twice.
    client.post(f"/naming/{case.id}/notice", data={"version": case.version})
    db.session.refresh(case)
    assert case.status == CaseStatus.NOTICE_SENT
    html = client.post(f"/naming/{case.id}/decide", data={"version": case.version, "outcome": "publish",
                                                           "reasons": "x"}, follow_redirects=True)
    assert "involved" in html.get_data(as_text=True) or "window" in html.get_data(as_text=True)
    db.session.refresh(case)
    assert case.status == CaseStatus.NOTICE_SENT


def test_retailer_portal_shows_the_notice_with_its_deadline(app, client, people):
    own = people["retailer"].business
    make_purchase(own, days_ago(200))
    make_purchase(own, days_ago(100))
    make_refusal(own, days_ago(150))
    case = noticed_case(people, own, sent=days_ago(1))
    login_as(client, people["retailer"])
    html = client.get("/my").get_data(as_text=True)
    assert "Notice of intended naming" in html
    assert f"/my/naming/{case.id}" in html
    assert case.representations_due.strftime("%d %b %Y") in html


def test_candidate_rule_is_configurable_in_the_versioned_rules(app):
    business = create_business(legal_name="One Sale Ltd", trading_name="One Sale")
    make_purchase(business, days_ago(100))
    make_refusal(business, days_ago(50))
    assert not is_candidate(business)
    make_purchase(business, days_ago(40))
    assert is_candidate(business)
    scoring.save_rules(dict(scoring.DEFAULT_RULES, candidate_min_sales=3), "supervisor@test.example", "Stricter")
    db.session.commit()
    assert not is_candidate(business)  # raised above the floor: two sales no longer enough
    assert scoring.current_score(business.id).rules_version == 2
