"""Test purchases: outcome rules, validation, in-store and staged online records, retests, amendments, exports."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from retail import purchases as P
from retail.access import Role
from retail.extensions import db as _db
from retail.models.audit import AuditEntry
from retail.rules import volunteers as volunteer_rules
from retail.timeutil import add_months
from retail.models.purchases import (ActionStatus, ActionType, FollowUpAction, NotificationLetter,
                                     Outcome, TestPurchase)
from retail.timeutil import today_london
from tests.conftest import login_as
from tests.factories import SAFEGUARDS, SAFEGUARDS_FORM, create_business, create_store

TODAY = today_london()


def make_operation(start=None, end=None, name="Operation Sceptre, test week"):
    op = P.create_operation({"name": name, "lead_agency": "police", "boroughs": ["hackney"],
                             "starts_on": start or TODAY - timedelta(days=3), "ends_on": end or TODAY,
                             "officer_ids": [], "risk_assessment_ref": "RA-1"})
    _db.session.commit()
    return op


def make_volunteer(code="FALCON", age_years=14, dob=None):
    volunteer = P.create_volunteer({"code_name": code, "date_of_birth": dob or date(TODAY.year - age_years, 1, 1),
                                    "active": True})
    _db.session.commit()
    return volunteer


def give_consent(op, volunteer, photo="PH-778"):
    consent = P.add_consent(op, {"volunteer_id": volunteer.id, "given_by": "Mrs Guardian", "given_on": op.starts_on,
                                 "birth_certificate_checked_by": "PC Checker", "photo_ref": photo})
    _db.session.commit()
    return consent


@pytest.fixture
def setup(app, users):
    business = create_business(legal_name="Sharp Corner Ltd", trading_name="Sharp Corner", postcode="E8 2AA")
    op = make_operation()
    volunteer = make_volunteer()
    give_consent(op, volunteer)
    return {"business": business, "premises": business.premises[0], "op": op, "volunteer": volunteer,
            "users": users}


def in_store_data(s, **extra):
    data = {"kind": "underage", "operation_id": s["op"].id, "premises_id": s["premises"].id, "purchase_date": TODAY,
            "volunteer_id": s["volunteer"].id, "staff_action": "no-challenge", "sale_made": True,
            "item_category": "kitchen", "exhibit_ref": "EX-1", **SAFEGUARDS}
    data.update(extra)
    return data


def form_data(s, **extra):
    data = {"kind": "underage", "operation_id": str(s["op"].id), "premises_id": str(s["premises"].id),
            "premises_query": "Sharp Corner", "purchase_date": TODAY.isoformat(),
            "volunteer_id": str(s["volunteer"].id),
            "staff_action": "no-challenge", "sale_made": "yes", "item_category": "kitchen", "exhibit_ref": "EX-9",
            "submission_token": "tok-instore", "signage_seen": "", "knives_secure": "no", "id_shown": "none",
            **SAFEGUARDS_FORM}
    data.update(extra)
    return data


# --- outcome rules ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("action,sold,expected", [
    ("no-challenge", True, Outcome.FAIL_SOLD_NO_CHALLENGE),
    ("asked-age", True, Outcome.FAIL_SOLD_AFTER_CHALLENGE),
    ("asked-id", True, Outcome.FAIL_SOLD_AFTER_CHALLENGE),
    ("asked-id", False, Outcome.PASS_ID_REQUESTED_REFUSED),
    ("asked-age", False, Outcome.PASS_REFUSED),
    ("refused", False, Outcome.PASS_REFUSED),
])
def test_in_store_outcome_follows_from_what_staff_did(action, sold, expected):
    assert P.derive_in_store_outcome(action, sold) == expected


def test_contradictory_or_missing_in_store_answers_are_refused():
    with pytest.raises(P.PurchaseError, match="refused and sold"):
        P.derive_in_store_outcome("refused", True)
    with pytest.raises(P.PurchaseError, match="aborted"):
        P.derive_in_store_outcome("no-challenge", False)
    with pytest.raises(P.PurchaseError, match="sold"):
        P.derive_in_store_outcome("asked-id", None)
    assert P.derive_in_store_outcome(None, None, aborted=True) == Outcome.INCONCLUSIVE


def test_retest_defaults_to_three_months_later_even_at_month_end():
    assert P.default_retest_due(date(2026, 11, 30)) == date(2027, 2, 28)
    assert P.default_retest_due(date(2026, 1, 15)) == date(2026, 4, 15)


# --- validation -------------------------------------------------------------------------------------------------

def test_failed_in_store_attempt_gets_letter_and_retest(setup):
    tp = P.create_in_store(in_store_data(setup))
    _db.session.commit()
    assert tp.outcome == Outcome.FAIL_SOLD_NO_CHALLENGE and tp.failed
    assert tp.business_id == setup["business"].id
    assert [letter.template for letter in tp.letters] == ["fail_sold_no_challenge"]
    retest = [a for a in tp.actions if a.action_type == ActionType.RETEST]
    assert retest and retest[0].due_on == P.default_retest_due(TODAY) and retest[0].status == ActionStatus.PENDING


def test_passed_attempt_gets_letter_but_no_retest_and_aborted_gets_neither(setup):
    passed = P.create_in_store(in_store_data(setup, staff_action="asked-id", sale_made=False))
    aborted = P.create_in_store(in_store_data(setup, staff_action="", sale_made=None, aborted=True))
    _db.session.commit()
    assert passed.letters[0].template == "pass_id_requested_refused" and not passed.actions
    assert aborted.outcome == Outcome.INCONCLUSIVE and not aborted.letters and not aborted.actions


@pytest.mark.parametrize("change,message", [
    ({"purchase_date": "tomorrow"}, "future"),  # read when the test runs, not when it is collected
    ({"volunteer_id": None}, "Choose the volunteer"),
    ({"operation_id": None}, "must belong to an operation"),
])
def test_bad_in_store_input_is_refused_with_a_message(setup, change, message):
    if change.get("purchase_date") == "tomorrow":
        change = {"purchase_date": TODAY + timedelta(days=1)}
    with pytest.raises(P.PurchaseError, match=message):
        P.create_in_store(in_store_data(setup, **change))


def test_volunteer_aged_18_on_the_purchase_date_is_refused(setup):
    op = make_operation(start=TODAY - timedelta(days=10), end=TODAY)
    # 17 when the operation starts (consent allowed), 18 by the purchase date.
    turning = TODAY - timedelta(days=2)
    older = make_volunteer("HAWK", dob=date(turning.year - 18, turning.month, turning.day))
    give_consent(op, older)
    with pytest.raises(P.PurchaseError, match="needs someone under 18"):
        P.create_in_store(in_store_data(setup, operation_id=op.id, volunteer_id=older.id))
    assert P.volunteers_for_operation(op.id, TODAY) == []


def test_volunteer_less_than_18_months_under_18_on_the_attempt_date_is_refused(setup):
    """Brief 2.2: a gap of at least 18 months below the legal age, judged on the attempt date (not today)."""
    op = make_operation(start=TODAY - timedelta(days=10), end=TODAY)
    # 16 years 7 months on the attempt date: inside the 12-16 range by whole years, but too close to 18.
    dob = add_months(TODAY, -(16 * 12 + 7))
    close = make_volunteer("KITE", dob=dob)
    give_consent(op, close)
    with pytest.raises(P.PurchaseError, match="at least 18 months under 18") as refused:
        P.create_in_store(in_store_data(setup, operation_id=op.id, volunteer_id=close.id))
    assert refused.value.field == "volunteer_id"
    # 17 years 10 months (issue 8's case): refused too.
    older = make_volunteer("LARK", dob=add_months(TODAY, -(17 * 12 + 10)))
    give_consent(op, older)
    with pytest.raises(P.PurchaseError, match="17 years 10 months"):
        P.create_in_store(in_store_data(setup, operation_id=op.id, volunteer_id=older.id))
    # The same child was young enough for an attempt two months earlier.
    earlier = TODAY - timedelta(days=62)
    assert volunteer_rules.age_problem(dob, earlier) is None


def test_premises_inside_the_volunteers_areas_to_avoid_is_refused(setup, client):
    """Brief 2.2: a volunteer is not used near home or school, where they could be recognised."""
    setup["volunteer"].areas_to_avoid = "N16; E8 (school)\nE8"
    _db.session.commit()
    with pytest.raises(P.PurchaseError, match="areas to avoid \\(E8\\)"):
        P.create_in_store(in_store_data(setup))
    login_as(client, setup["users"][Role.OFFICER])
    response = client.post("/purchases/new", data=form_data(setup, submission_token="avoid-1"))
    assert response.status_code == 422 and "areas to avoid" in response.get_data(as_text=True)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(TestPurchase)) == 0
    # Another part of London is fine for the same child.
    setup["volunteer"].areas_to_avoid = "N16"
    _db.session.commit()
    assert P.create_in_store(in_store_data(setup)).id


def test_volunteer_without_consent_for_this_operation_is_refused(setup):
    other = make_volunteer("ROBIN")
    with pytest.raises(P.PurchaseError, match="no parental consent"):
        P.create_in_store(in_store_data(setup, volunteer_id=other.id))


def test_closed_premises_is_refused(setup):
    premises = setup["premises"]
    premises.status = "closed"
    _db.session.commit()
    with pytest.raises(P.PurchaseError, match="marked closed"):
        P.create_in_store(in_store_data(setup))


def test_date_outside_the_operation_is_refused(setup):
    with pytest.raises(P.PurchaseError, match="outside the operation"):
        P.create_in_store(in_store_data(setup, purchase_date=TODAY - timedelta(days=20)))


def test_challenge25_needs_an_adult_tester_and_no_child(setup):
    with pytest.raises(P.PurchaseError, match="adult tester"):
        P.create_in_store(in_store_data(setup, kind="challenge25", tester_age=20))
    with pytest.raises(P.PurchaseError, match="18 to 24"):
        P.create_in_store(in_store_data(setup, kind="challenge25", volunteer_id=None, tester_age=16))
    tp = P.create_in_store(in_store_data(setup, kind="challenge25", volunteer_id=None, tester_age=19))
    _db.session.commit()
    assert tp.kind.value == "challenge25" and tp.letters[0].template == "challenge25_fail"
    # Kept apart: counting underage failures ignores Challenge 25 tests.
    assert P.repeat_failures(TODAY - timedelta(days=30), min_failures=1) == []


def test_challenge25_cannot_lead_to_prosecution(setup):
    tp = P.create_in_store(in_store_data(setup, kind="challenge25", volunteer_id=None, tester_age=21))
    with pytest.raises(P.PurchaseError, match="policy check"):
        P.add_action(tp, {"action_type": "prosecution", "decided_on": TODAY})


# --- online, in stages ------------------------------------------------------------------------------------------

def online_setup(setup):
    seller = create_business(legal_name="Blade Direct Ltd", trading_name="Blade Direct", shop=False)
    store = create_store(seller, url="https://bladedirect.example/")
    return seller, store


def order(setup, store, **extra):
    data = {**SAFEGUARDS, "kind": "underage", "operation_id": setup["op"].id, "online_store_id": store.id,
            "listing_url": "https://www.bladedirect.example/chef-knife", "purchase_date": TODAY - timedelta(days=2),
            "volunteer_id": setup["volunteer"].id, "item_category": "kitchen"}
    data.update(extra)
    tp = P.create_online(data)
    _db.session.commit()
    return tp


def courier_business(name="QuickPost Couriers Ltd"):
    return create_business(legal_name=name, trading_name=name.removesuffix(" Ltd"), business_type="courier",
                           shop=False)


def test_online_purchase_judged_per_party_from_the_stages(setup):
    """Brief 1.2 (s.141B conditions A-D) and 1.3 (s.39): both the seller and the courier fail; each is told."""
    seller, store = online_setup(setup)
    courier = courier_business()
    tp = order(setup, store, dob_entered="true", checkout_dob_asked="yes", checkout_av_run="no",
               order_cancelled="no")
    assert tp.stage.value == "ordered" and tp.business_id == seller.id and not tp.letters
    with pytest.raises(P.PurchaseError, match="Record the delivery"):
        P.conclude_online(tp)
    P.record_dispatch(tp, {"dispatched_on": TODAY - timedelta(days=1), "parcel_marked": "no", "courier": "QuickPost",
                           "courier_business_id": courier.id, "age_verified_service": "no"}, tp.version)
    _db.session.commit()
    assert tp.stage.value == "dispatched"
    P.record_delivery(tp, {"delivered_on": TODAY, "delivered_to": "home", "delivery_id_asked": "no",
                           "left_unattended": "no"}, tp.version)
    _db.session.commit()
    P.conclude_online(tp, tp.version)
    _db.session.commit()
    assert tp.outcome == Outcome.FAIL_DELIVERED_NO_AGE_CHECK and tp.failed
    assert tp.checkout_failed and tp.dispatch_failed and tp.courier_failed
    assert tp.seller_result == "failed" and tp.courier_result == "failed"
    assert tp.conditions == {"A": "not met", "B": "not met", "C": "not met", "D": "met"}
    by_party = {letter.party.value: letter for letter in tp.letters}
    assert by_party["seller"].business_id == seller.id and by_party["seller"].template == "fail_delivered_no_age_check"
    assert by_party["courier"].business_id == courier.id and by_party["courier"].template == "courier_fail"
    assert any(a.action_type == ActionType.RETEST for a in tp.actions)


def test_seller_fails_although_the_courier_refused_at_the_door(setup):
    """Brief 1.2: s.141B's defence needs every condition; a refusal at the door does not cure a checkout with no age
    check and an unmarked parcel (issue 8: 'courier refuses but seller failed A and B -> seller fails')."""
    _seller, store = online_setup(setup)
    tp = order(setup, store, checkout_av_run="no", checkout_id_upload="no", order_cancelled="no")
    P.record_dispatch(tp, {"dispatched_on": TODAY - timedelta(days=1), "parcel_marked": "no",
                           "age_verified_service": "yes"}, tp.version)
    P.record_delivery(tp, {"delivered_on": TODAY, "delivered_to": "not-delivered", "delivery_id_asked": "yes"},
                      tp.version)
    P.conclude_online(tp, tp.version)
    _db.session.commit()
    assert tp.outcome == Outcome.FAIL_SELLER_NO_SAFEGUARDS and tp.failed
    assert tp.checkout_failed and tp.dispatch_failed and not tp.courier_failed
    assert [letter.party.value for letter in tp.letters] == ["seller"]
    body = P.render_letter_body(tp.letters[0])
    assert "courier did not hand" in body and "no age check at checkout" in body.lower()
    assert "FAIL_" not in body


def test_courier_only_failure_goes_to_the_courier_not_the_seller(setup):
    """Brief 1.3 (OWA 2019 s.39): the seller met A-D; the courier handed the parcel to a child without a check."""
    seller, store = online_setup(setup)
    courier = courier_business()
    tp = order(setup, store, checkout_av_run="yes", checkout_av_provider="AgeCheckCo", dob_entered="false",
               order_cancelled="no")
    P.record_dispatch(tp, {"dispatched_on": TODAY - timedelta(days=1), "parcel_marked": "yes",
                           "age_verified_service": "yes"}, tp.version)
    P.record_delivery(tp, {"delivered_on": TODAY, "delivered_to": "home", "delivery_id_asked": "no"}, tp.version)
    _db.session.commit()
    with pytest.raises(P.PurchaseError, match="choose the courier from the register") as refused:
        P.conclude_online(tp, tp.version)
    assert refused.value.field == "courier_business_id"
    _db.session.rollback()
    P.update_purchase(tp, {"courier_business_id": courier.id}, tp.version)
    P.conclude_online(tp, tp.version)
    _db.session.commit()
    assert tp.outcome == Outcome.PASS_SELLER_COURIER_FAILED and not tp.failed and tp.courier_failed
    assert not any(a.action_type == ActionType.RETEST for a in tp.actions)  # the seller passed
    letters = {letter.party.value: letter for letter in tp.letters}
    assert letters["seller"].business_id == seller.id and letters["seller"].template == "pass_seller_courier_failed"
    assert letters["courier"].business_id == courier.id
    assert "s.39" in P.render_letter_body(letters["courier"])
    # The seller's score does not count it (scoring counts seller failures only).
    from retail import scoring
    factors = {f.record: f for f in scoring.rescore_business(seller.id).factors}
    assert factors[f"test_purchase:{tp.id}"].kind == "pass_since_failure"  # a credit, not a failure


def test_exempt_pocket_knife_sold_is_no_offence_and_a_katana_is_a_prohibited_weapon(setup):
    """Brief 1.1 (s.141A(3)): a 7 cm non-locking folding knife is exempt; brief 1.4: a 69 cm curved sword is
    prohibited."""
    exempt = P.create_in_store(in_store_data(setup, item_category="folding", item_blade_length_cm="7",
                                             item_locking=False))
    _db.session.commit()
    assert exempt.outcome == Outcome.NO_OFFENCE_EXEMPT_ITEM and not exempt.failed
    assert exempt.item_verdict == "exempt" and "excluded from s.141A" in exempt.item_verdict_reason
    assert not exempt.actions  # no retest: nothing was wrong
    letter = P.render_letter_body(exempt.letters[0])
    assert "no offence was committed" in letter and "is an offence" not in letter
    katana = P.create_in_store(in_store_data(setup, item_category="curved-sword", item_blade_length_cm="69",
                                             item_traditional_or_antique=False, exhibit_ref="EX-2"))
    _db.session.commit()
    assert katana.item_verdict == "prohibited" and katana.failed
    assert "prohibited weapon" in P.render_letter_body(katana.letters[0]).lower()


@pytest.mark.parametrize("length, message", [("-3", "more than 0 cm"), ("400", "longer than any sword"),
                                             ("seven", "in centimetres"), ("", "Measure the cutting edge")])
def test_impossible_blade_lengths_are_refused_next_to_the_field(client, setup, length, message):
    login_as(client, setup["users"][Role.OFFICER])
    response = client.post("/purchases/new", data=form_data(setup, item_category="folding",
                                                            item_blade_length_cm=length, item_locking="no",
                                                            submission_token=f"len-{length}"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page
    assert 'id="item_blade_length_cm"' in page and "is-invalid" in page
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(TestPurchase)) == 0


def test_safeguards_are_required_before_an_underage_attempt_is_logged(setup):
    """Brief 2.2/2.3: risk assessment, an officer present, a photograph on the day."""
    with pytest.raises(P.PurchaseError, match="officer must be present") as refused:
        P.create_in_store(in_store_data(setup, officer_present=None))
    assert refused.value.field == "officer_present"
    with pytest.raises(P.PurchaseError, match="photograph taken on the day"):
        P.create_in_store(in_store_data(setup, photo_on_day_ref=""))
    # The operation's risk assessment is used when the attempt does not give its own.
    tp = P.create_in_store(in_store_data(setup, risk_assessment_ref=""))
    assert tp.risk_assessment_ref == "RA-1"


def test_listing_url_must_be_on_the_store_domain(setup):
    _seller, store = online_setup(setup)
    with pytest.raises(P.PurchaseError, match="not on the store's site"):
        P.create_online({**SAFEGUARDS, "kind": "underage", "operation_id": setup["op"].id, "online_store_id": store.id,
                         "listing_url": "https://elsewhere.example/knife", "purchase_date": TODAY,
                         "volunteer_id": setup["volunteer"].id})
    with pytest.raises(P.PurchaseError, match="bladedirect.example"):
        P.create_online({**SAFEGUARDS, "kind": "underage", "operation_id": setup["op"].id, "online_store_id": store.id,
                         "listing_url": "https://bladedirect.example.evil.test/knife", "purchase_date": TODAY,
                         "volunteer_id": setup["volunteer"].id})


def test_refused_at_checkout_is_a_pass_with_no_dispatch(setup):
    _seller, store = online_setup(setup)
    tp = order(setup, store, checkout_av_run="yes", checkout_av_provider="AgeCheckCo", order_cancelled="yes")
    with pytest.raises(P.PurchaseError, match="no dispatch"):
        P.record_dispatch(tp, {"dispatched_on": TODAY}, tp.version)
    P.conclude_online(tp, tp.version)
    _db.session.commit()
    assert tp.outcome == Outcome.PASS_REFUSED_AT_CHECKOUT
    assert not tp.failed and tp.letters[0].template == "pass_refused_at_checkout" and not tp.actions


def test_police_user_records_online_stages_through_the_forms(client, setup, db):
    _seller, store = online_setup(setup)
    login_as(client, setup["users"][Role.POLICE])
    response = client.post("/purchases/new-online", data={
        **SAFEGUARDS_FORM,
        "kind": "underage", "operation_id": str(setup["op"].id), "listing_url": "https://bladedirect.example/k1",
        "purchase_date": TODAY.isoformat(), "volunteer_id": str(setup["volunteer"].id), "order_ref": "ORD-1",
        "checkout_av_run": "no", "order_cancelled": "no", "submission_token": "online-1", "item_category": "kitchen"})
    assert response.status_code == 302, response.get_data(as_text=True)
    tp = db.session.scalar(sa.select(TestPurchase).where(TestPurchase.order_ref == "ORD-1"))
    assert tp.online_store_id == store.id  # found from the listing address
    url = f"/purchases/{tp.id}"
    assert client.post(f"{url}/dispatch", data={"dispatched_on": TODAY.isoformat(), "parcel_marked": "yes",
                                                "age_verified_service": "no", "version": tp.version}).status_code == 302
    db.session.refresh(tp)
    assert client.post(f"{url}/delivery", data={"delivered_on": TODAY.isoformat(), "delivered_to": "locker",
                                                "version": tp.version}).status_code == 302
    db.session.refresh(tp)
    page = client.get(f"{url}/outcome").get_data(as_text=True)
    assert "D: not delivered to a locker" in page and "not met" in page  # the s.141B conditions, judged
    # The courier left it in a locker (s.39): it is a party, so it must be in the register to get its letter.
    refused = client.post(f"{url}/outcome", data={"version": tp.version})
    assert refused.status_code == 422 and "choose the courier from the register" in refused.get_data(as_text=True)
    courier = courier_business("Locker Drop Ltd")
    dispatch_page = client.get(f"{url}/dispatch").get_data(as_text=True)
    assert "Locker Drop" in dispatch_page
    assert client.post(f"{url}/dispatch", data={"dispatched_on": TODAY.isoformat(), "parcel_marked": "yes",
                                                "age_verified_service": "no", "courier_business_id": str(courier.id),
                                                "version": tp.version}).status_code == 302
    db.session.refresh(tp)
    response = client.post(f"{url}/outcome", data={"version": tp.version})
    assert response.status_code == 302
    db.session.refresh(tp)
    assert tp.outcome == Outcome.FAIL_DELIVERED_TO_LOCKER and tp.dispatch_failed and tp.checkout_failed
    assert tp.courier_failed and {letter.party.value for letter in tp.letters} == {"seller", "courier"}
    page = client.get(url).get_data(as_text=True)
    assert "Delivered to a locker" in page and "FAIL_" not in page


# --- routes: logging on a phone, double submit, picker without JavaScript -------------------------------------------

def test_officer_logs_in_store_attempt_and_double_submit_creates_one(client, setup, db):
    login_as(client, setup["users"][Role.OFFICER])
    first = client.post("/purchases/new", data=form_data(setup))
    second = client.post("/purchases/new", data=form_data(setup))
    assert first.status_code == 302 and first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TestPurchase)) == 1
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Sold without any challenge" in page and "FALCON" in page


def _form_as_filled(page: str) -> dict:
    """What a browser would send from the page's record form (the one holding the record's version)."""
    import lxml.html

    form = next(f for f in lxml.html.fromstring(page).forms if "version" in f.fields)
    return dict(form.form_values())


def test_an_online_record_is_edited_then_amended_after_its_letter_through_the_forms(client, setup, db):
    """The online record's edit and amend pages save what the officer changed; once the letter has gone, editing
    leads to amending, which needs a reason and keeps the original in the history."""
    _seller, store = online_setup(setup)
    tp = order(setup, store, order_ref="ORD-7", checkout_av_run="yes", checkout_av_provider="AgeCheckCo",
               order_cancelled="yes")
    login_as(client, setup["users"][Role.OFFICER])
    data = _form_as_filled(client.get(f"/purchases/{tp.id}/edit").get_data(as_text=True))
    assert data["order_ref"] == "ORD-7"
    response = client.post(f"/purchases/{tp.id}/edit", data={**data, "order_ref": "ORD-8"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/purchases/{tp.id}")
    db.session.refresh(tp)
    assert tp.order_ref == "ORD-8" and tp.amendment_count == 0

    P.conclude_online(tp, tp.version)  # refused at checkout: a pass, with its letter
    P.mark_letters_sent(tp.letters, TODAY, "post")
    db.session.commit()
    stale = client.post(f"/purchases/{tp.id}/edit", data={**data, "order_ref": "ORD-9", "version": tp.version})
    assert stale.status_code == 302 and stale.headers["Location"].endswith(f"/purchases/{tp.id}/amend")
    data = _form_as_filled(client.get(f"/purchases/{tp.id}/amend").get_data(as_text=True))
    no_reason = client.post(f"/purchases/{tp.id}/amend", data={**data, "order_ref": "ORD-9"})
    assert no_reason.status_code == 422
    response = client.post(f"/purchases/{tp.id}/amend", data={**data, "order_ref": "ORD-9",
                                                              "reason": "Order number misread from the receipt"})
    assert response.status_code == 302
    db.session.refresh(tp)
    assert tp.order_ref == "ORD-9" and tp.amendment_count == 1
    history = client.get(f"/purchases/{tp.id}").get_data(as_text=True)
    assert "Order number misread from the receipt" in history


def test_new_form_defaults_from_the_running_operation(client, setup):
    login_as(client, setup["users"][Role.POLICE])
    page = client.get("/purchases/new").get_data(as_text=True)
    assert f'<option selected value="{setup["op"].id}"' in page or f'value="{setup["op"].id}" selected' in page
    assert "FALCON" in page  # only volunteers with consent are offered
    assert TODAY.isoformat() in page
    assert "premises-picker.js" in page


def test_premises_picker_without_javascript_resolves_or_asks(client, setup, db):
    create_business(legal_name="Sharp Corner Two Ltd", trading_name="Sharp Corner Two", postcode="E8 3BB")
    login_as(client, setup["users"][Role.OFFICER])
    response = client.post("/purchases/new", data=form_data(setup, premises_id="", premises_query="sharp corner",
                                                             submission_token="pick-1"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Several shops match" in page and "Sharp Corner Two" in page
    response = client.post("/purchases/new", data=form_data(setup, premises_id="", premises_query="E8 2AA",
                                                             submission_token="pick-2"))
    assert response.status_code == 302
    tp = db.session.scalar(sa.select(TestPurchase))
    assert tp.premises_id == setup["premises"].id
    response = client.post("/purchases/new", data=form_data(setup, premises_id="", premises_query="zzzz",
                                                             submission_token="pick-3"))
    assert "No shop in the register matches" in response.get_data(as_text=True)


def test_form_shows_clear_message_for_a_volunteer_without_consent(client, setup, db):
    other = make_volunteer("ROBIN")
    login_as(client, setup["users"][Role.OFFICER])
    response = client.post("/purchases/new", data=form_data(setup, volunteer_id=str(other.id),
                                                             submission_token="nc-1"))
    assert response.status_code == 422
    assert "no parental consent for ROBIN" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TestPurchase)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NotificationLetter)) == 0


def test_stale_edit_is_refused(client, setup, db):
    tp = P.create_in_store(in_store_data(setup))
    db.session.commit()
    login_as(client, setup["users"][Role.OFFICER])
    stale_version = tp.version
    P.update_purchase(tp, {"notes": "first save"}, tp.version)
    db.session.commit()
    response = client.post(f"/purchases/{tp.id}/edit", data=form_data(setup, version=stale_version,
                                                                       notes="second save"))
    assert response.status_code == 422
    assert "changed by someone else" in response.get_data(as_text=True)
    db.session.refresh(tp)
    assert tp.notes == "first save"


def test_plain_edit_refused_once_letter_sent_and_amendment_keeps_original(client, setup, db):
    tp = P.create_in_store(in_store_data(setup, exhibit_ref="EX-ORIGINAL"))
    db.session.commit()
    P.mark_letters_sent(tp.letters, TODAY, "post")
    db.session.commit()
    with pytest.raises(P.LetterAlreadySent):
        P.update_purchase(tp, {"exhibit_ref": "EX-NEW"}, tp.version)
    db.session.rollback()
    login_as(client, setup["users"][Role.OFFICER])
    response = client.post(f"/purchases/{tp.id}/edit", data=form_data(setup, version=tp.version,
                                                                       exhibit_ref="EX-NEW"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/purchases/{tp.id}/amend")
    db.session.refresh(tp)
    assert tp.exhibit_ref == "EX-ORIGINAL"
    no_reason = client.post(f"/purchases/{tp.id}/amend", data=form_data(setup, version=tp.version,
                                                                         exhibit_ref="EX-NEW", reason=""))
    assert no_reason.status_code == 422
    response = client.post(f"/purchases/{tp.id}/amend", data=form_data(
        setup, version=tp.version, exhibit_ref="EX-NEW", staff_action="asked-id",
        reason="Exhibit label misread; staff asked for ID per body-cam"))
    assert response.status_code == 302
    db.session.refresh(tp)
    assert tp.exhibit_ref == "EX-NEW" and tp.amendment_count == 1
    assert tp.outcome == Outcome.FAIL_SOLD_AFTER_CHALLENGE
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.record_type == "TestPurchase",
                                                             AuditEntry.record_id == tp.id)).all()
    update = next(e for e in entries if e.action == "update" and "exhibit_ref" in e.changes)
    assert update.changes["exhibit_ref"] == ["EX-ORIGINAL", "EX-NEW"]
    assert "Exhibit label misread" in update.reason
    event = next(e for e in entries if e.action == "event")
    assert event.changes["outcome"] == ["FAIL_SOLD_NO_CHALLENGE", "FAIL_SOLD_AFTER_CHALLENGE"]
    # The sent letter is untouched; a corrected letter is drafted.
    letters = sorted(tp.letters, key=lambda letter: letter.id)
    assert letters[0].sent_on == TODAY and letters[0].template == "fail_sold_no_challenge"
    assert letters[1].sent_on is None and letters[1].replaces_letter_id == letters[0].id
    assert letters[1].template == "fail_sold_after_challenge"


def test_retest_due_panel_and_retest_completed_by_next_attempt(client, setup, db):
    old_op = make_operation(start=TODAY - timedelta(days=120), end=TODAY - timedelta(days=100), name="Old op")
    give_consent(old_op, setup["volunteer"])
    failed = P.create_in_store(in_store_data(setup, operation_id=old_op.id, purchase_date=TODAY - timedelta(days=110)))
    db.session.commit()
    retest = next(a for a in failed.actions if a.action_type == ActionType.RETEST)
    assert retest.due_on < TODAY
    login_as(client, setup["users"][Role.OFFICER])
    home = client.get("/").get_data(as_text=True)
    assert "Retests due" in home and "1 overdue" in home and "Sharp Corner" in home
    P.create_in_store(in_store_data(setup, staff_action="refused", sale_made=False))
    db.session.commit()
    db.session.refresh(retest)
    assert retest.status == ActionStatus.COMPLETED and retest.retest_purchase_id is not None
    assert "0 overdue" in client.get("/").get_data(as_text=True)


def _retest_of(tp):
    return next(a for a in tp.actions if a.action_type == ActionType.RETEST)


def test_failure_logged_after_its_retest_is_not_shown_overdue(client, setup, db):
    """Issue 11: a shop retested and passed still showed 'retest overdue'. Attempts are often logged out of order (a
    failure back-filled after the later pass): the retest it schedules is already done."""
    old_op = make_operation(start=TODAY - timedelta(days=150), end=TODAY - timedelta(days=140), name="Old op")
    give_consent(old_op, setup["volunteer"])
    passed = P.create_in_store(in_store_data(setup, staff_action="refused", sale_made=False))
    db.session.commit()
    failed = P.create_in_store(in_store_data(setup, operation_id=old_op.id, purchase_date=TODAY - timedelta(days=145)))
    db.session.commit()
    retest = _retest_of(failed)
    assert retest.status == ActionStatus.COMPLETED and retest.retest_purchase_id == passed.id
    login_as(client, setup["users"][Role.OFFICER])
    home = client.get("/").get_data(as_text=True)
    assert "1 overdue" not in home and "days overdue" not in home


def test_an_abandoned_attempt_does_not_complete_a_retest(setup, db):
    """An inconclusive attempt (volunteer could not go in) tested nothing: the retest is still owed (brief 2.5)."""
    old_op = make_operation(start=TODAY - timedelta(days=40), end=TODAY - timedelta(days=30), name="Old op")
    give_consent(old_op, setup["volunteer"])
    failed = P.create_in_store(in_store_data(setup, operation_id=old_op.id, purchase_date=TODAY - timedelta(days=35)))
    P.create_in_store(in_store_data(setup, staff_action="", sale_made=None, aborted=True))
    db.session.commit()
    assert _retest_of(failed).status == ActionStatus.PENDING


def test_an_under_18_attempt_retests_a_challenge25_failure_but_not_the_other_way(setup, db):
    """Brief 2.2: Warwickshire retested Challenge 25 failures with under-18s, so an underage attempt completes a
    Challenge 25 retest; a Challenge 25 test (adult tester) cannot stand in for an underage retest."""
    earlier = TODAY - timedelta(days=20)
    old_op = make_operation(start=earlier, end=earlier, name="Old op")
    give_consent(old_op, setup["volunteer"])
    c25_failed = P.create_in_store(in_store_data(setup, kind="challenge25", volunteer_id=None, tester_age=19,
                                                 operation_id=old_op.id, purchase_date=earlier))
    underage_failed = P.create_in_store(in_store_data(setup, operation_id=old_op.id, purchase_date=earlier))
    db.session.commit()
    P.create_in_store(in_store_data(setup, kind="challenge25", volunteer_id=None, tester_age=19,
                                    staff_action="refused", sale_made=False))
    db.session.commit()
    assert _retest_of(c25_failed).status == ActionStatus.COMPLETED
    assert _retest_of(underage_failed).status == ActionStatus.PENDING
    later = TODAY - timedelta(days=10)
    mid_op = make_operation(start=later, end=later, name="Mid op")
    c25_failed_again = P.create_in_store(in_store_data(setup, kind="challenge25", volunteer_id=None, tester_age=19,
                                                       operation_id=mid_op.id, purchase_date=later))
    db.session.commit()
    P.create_in_store(in_store_data(setup, staff_action="refused", sale_made=False))
    db.session.commit()
    assert _retest_of(underage_failed).status == ActionStatus.COMPLETED
    assert _retest_of(c25_failed_again).status == ActionStatus.COMPLETED


def test_follow_up_prosecution_with_court_details(client, setup, db):
    tp = P.create_in_store(in_store_data(setup))
    db.session.commit()
    login_as(client, setup["users"][Role.SUPERVISOR])
    response = client.post(f"/purchases/{tp.id}/actions/new", data={
        "action_type": "prosecution", "status": "completed", "decided_on": TODAY.isoformat(),
        "court": "Thames Magistrates' Court", "hearing_on": TODAY.isoformat(), "court_result": "Guilty plea",
        "court_outcome": "convicted",
        "fine": "2000.00", "costs": "850.50", "submission_token": "act-1"})
    assert response.status_code == 302
    action = db.session.scalar(sa.select(FollowUpAction).where(FollowUpAction.action_type == ActionType.PROSECUTION))
    assert action.fine == 2000 and action.court == "Thames Magistrates' Court"
    assert P.pending_enforcement()[tp.business_id]["prosecutions"] == 1
    page = client.get(f"/purchases/{tp.id}").get_data(as_text=True)
    assert "Guilty plea" in page and "2,000.00" in page
    future = client.post(f"/purchases/{tp.id}/actions/new", data={
        "action_type": "warning-letter", "status": "pending", "decided_on": (TODAY + timedelta(days=3)).isoformat(),
        "submission_token": "act-2"})
    assert future.status_code == 422 and "cannot be in the future" in future.get_data(as_text=True)


def test_business_page_timeline_shows_purchases_letters_and_actions(client, setup, db):
    tp = P.create_in_store(in_store_data(setup))
    db.session.commit()
    P.mark_letters_sent(tp.letters, TODAY, "email")
    db.session.commit()
    login_as(client, setup["users"][Role.OFFICER])
    page = client.get(f"/businesses/{setup['business'].id}").get_data(as_text=True)
    assert "Test purchase (in store): Sold without any challenge" in page
    assert "Notification letter sent" in page and "Retest scheduled" in page


def test_purchase_list_filters_and_routes_per_role(client, setup, db):
    P.create_in_store(in_store_data(setup))
    P.create_in_store(in_store_data(setup, kind="challenge25", volunteer_id=None, tester_age=22,
                                    staff_action="asked-id", sale_made=False))
    db.session.commit()
    for role in (Role.ADMIN, Role.SUPERVISOR, Role.OFFICER, Role.POLICE):
        client.post("/logout")
        login_as(client, setup["users"][role])
        assert client.get("/purchases").status_code == 200
    page = client.get("/purchases?kind=challenge25").get_data(as_text=True)
    assert "ID requested, then refused</span>" in page and "Sold without any challenge</span>" not in page
    client.post("/logout")
    login_as(client, setup["users"][Role.RETAILER])
    for url in ("/purchases", "/purchases/new", "/purchases/export.csv", "/letters", "/letters/print"):
        assert client.get(url).status_code == 403, url


def test_export_csv_is_pseudonymised(client, setup, db):
    P.create_in_store(in_store_data(setup))
    db.session.commit()
    login_as(client, setup["users"][Role.SUPERVISOR])
    response = client.get("/purchases/export.csv")
    text = response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    header, row = text.splitlines()[:2]
    assert "FAIL_SOLD_NO_CHALLENGE" in row and "Sharp Corner" in row
    volunteer = setup["volunteer"]
    dob = volunteer.date_of_birth
    for secret in (volunteer.code_name, dob.isoformat(), dob.strftime("%d %b %Y"), "Mrs Guardian", "PC Checker",
                   "PH-778"):
        assert secret not in text
    assert "volunteer" not in header.lower()


def test_formal_action_against_a_primary_authority_partner_needs_the_partner_told_first(client, setup, db):
    """Brief section 7 / RESA 2008 Part 2: a business in a Primary Authority partnership; its partner is notified
    before a caution or a prosecution, and the officer is prompted on the record and the follow-up form."""
    business = setup["business"]
    business.primary_authority = "london borough of croydon"
    from retail.register import update_business
    update_business(business, {"primary_authority": "London Borough of Croydon"}, business.version)
    db.session.commit()
    assert business.primary_authority_partner.code == "croydon"
    tp = P.create_in_store(in_store_data(setup))
    db.session.commit()
    login_as(client, setup["users"][Role.SUPERVISOR])
    assert "Primary Authority: London Borough of Croydon" in client.get(f"/purchases/{tp.id}").get_data(as_text=True)
    refused = client.post(f"/purchases/{tp.id}/actions/new", data={
        "action_type": "simple-caution", "status": "pending", "decided_on": TODAY.isoformat(),
        "submission_token": "pa-1"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "notify it of the proposed simple caution first" in page
    assert 'id="primary_authority_notified_on"' in page
    accepted = client.post(f"/purchases/{tp.id}/actions/new", data={
        "action_type": "simple-caution", "status": "pending", "decided_on": TODAY.isoformat(),
        "primary_authority_notified_on": (TODAY - timedelta(days=1)).isoformat(), "submission_token": "pa-2"})
    assert accepted.status_code == 302
    # Advice needs no notification.
    assert P.add_action(tp, {"action_type": "advice-letter", "decided_on": TODAY}).primary_authority_notified_on \
        is None


def test_court_outcome_decides_whether_a_prosecuted_sale_counts(setup):
    """Brief 5.3: completing a prosecution needs how it ended; an acquittal stops the sale counting."""
    tp = P.create_in_store(in_store_data(setup, purchase_date=TODAY - timedelta(days=2)))
    action = P.add_action(tp, {"action_type": "prosecution", "status": "pending", "decided_on": TODAY})
    _db.session.commit()
    assert tp.enforcement_stage == "prosecution-pending"
    with pytest.raises(P.PurchaseError, match="how the case ended") as refused:
        P.update_action(action, {"status": "completed"}, action.version)
    assert refused.value.field == "court_outcome"
    _db.session.rollback()
    P.update_action(action, {"status": "completed", "court_outcome": "acquitted",
                             "court_result": "Not guilty: due diligence"}, action.version)
    assert tp.enforcement_stage == "acquitted"
    assert P.enforcement_summary(tp)["why_not"] == "Acquitted: not held against the business."


def test_a_refused_attempt_form_brings_back_every_problem_at_once_with_a_summary(client, setup, db):
    """Issue 11: on a phone a failed submit came back with one problem and no summary. Every problem comes back in one
    round trip — the form's own (a bad price) and the rules' (the safeguards of brief 2.2, what staff did, brief 2.3) —
    listed at the top, each linking to its field, and nothing is saved."""
    login_as(client, setup["users"][Role.OFFICER])
    response = client.post("/purchases/new", data=form_data(
        setup, item_price="-3", staff_action="", sale_made="", risk_assessment_ref="", officer_present="",
        photo_on_day_ref=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = page[page.index('class="alert alert-danger error-summary"'):]
    summary = summary[:summary.index("</div>")]
    for field in ("item_price", "staff_action", "officer_present", "photo_on_day_ref"):
        assert f'href="#{field}"' in summary, field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TestPurchase)) == 0


def test_volunteer_list_follows_operation_and_date_and_says_why_one_is_missing(client, setup, db):
    """Issue 11: the volunteer list did not follow the operation and date and did not say why a volunteer was missing.
    Brief 2.2: consent per operation, and at least 18 months under 18 on the day."""
    op = setup["op"]
    no_consent = make_volunteer(code="ROBIN")
    # 16 years 7 months on the operation's first day: past the 18-month gap.
    nearly = make_volunteer(code="OWL", dob=add_months(op.starts_on, -(16 * 12 + 7)))
    give_consent(op, nearly, photo="PH-OWL")
    login_as(client, setup["users"][Role.OFFICER])
    data = client.get(f"/purchases/volunteers.json?operation_id={op.id}&on={op.starts_on.isoformat()}").get_json()
    assert [c["label"] for c in data["choices"]] == ["FALCON"]
    reasons = {m["code_name"]: m["reason"] for m in data["missing"]}
    assert reasons["ROBIN"] == "no parental consent for this operation"
    assert reasons["OWL"].startswith("too old on")
    assert nearly.date_of_birth.isoformat() not in str(data) and no_consent.id
    page = client.get(f"/purchases/new?operation={op.id}").get_data(as_text=True)
    assert "Not listed: OWL (too old on" in page and "ROBIN (no parental consent for this operation)" in page
    assert client.get("/purchases/volunteers.json?operation_id=99999999999999&on=x").get_json() == {
        "choices": [], "missing": []}
