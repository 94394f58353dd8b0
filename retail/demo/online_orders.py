"""Online test purchases for the demo: the couriers in the register and each order's checkout, dispatch and
delivery, judged by the same rules an officer's record goes through."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models.register import Business, BusinessType, name_key
from ..purchases.outcomes import online_facts, online_outcome, party_failures
from ..rules import online as online_rules

# Delivery companies in the register: parties to online sales with their own letters (OWA 2019 s.39).
COURIER_BUSINESSES = {"QuickParcel": "QuickParcel Logistics Ltd", "CityDrop": "CityDrop Couriers Ltd",
                      "Royal Mail": "Royal Mail Group Ltd", "DPD": "DPD Group UK Ltd"}
AV_PROVIDERS = ["Verify My Age", "AgeChecked", "Yoti"]
COURIERS = [("QuickParcel", "Standard 48h"), ("CityDrop", "Next day"), ("Royal Mail", "Tracked 24"),
            ("DPD", "Age-verified delivery")]


def courier_businesses(registered_by: int | None) -> tuple[dict[str, int], dict[int, dict]]:
    """The delivery companies the demo's parcels travel with, in the register as couriers (found or added; Hackney
    registered them, so the council reference is Hackney's)."""
    by_name, by_id = {}, {}
    for index, (short, legal) in enumerate(COURIER_BUSINESSES.items()):
        business = db.session.scalar(sa.select(Business).where(Business.legal_name == legal))
        if business is None:
            business = Business(legal_name=legal, legal_name_key=name_key(legal), trading_name=short,
                                trading_name_key=name_key(short), business_type=BusinessType.COURIER,
                                head_office_address=f"{index + 1} Depot Way, Park Royal, London",
                                head_office_postcode=f"NW10 {index + 6}RA",
                                contact_email=f"compliance@{name_key(short).replace(' ', '')}.example",
                                external_ref=f"TS-COURIER-{index + 1}", ref_authority_id=registered_by)
            db.session.add(business)
            db.session.flush()
        by_name[short] = business.id
        by_id[business.id] = {"name": legal, "address": f"{business.head_office_address}\n"
                                                        f"{business.head_office_postcode}"}
    return by_name, by_id


def judge_online_fields(fields: dict, item_verdict: str, kind: str, couriers: dict[str, int]) -> None:
    """Judge a generated online attempt by the same rules an officer's record goes through (rules.online)."""
    facts = online_facts(fields)
    judgment = online_rules.judge(facts)
    outcome = online_outcome(facts, judgment, item_verdict, kind)
    checkout, dispatch, courier = party_failures(judgment, outcome)
    fields.update(outcome=outcome.value, failed=outcome.failed, checkout_failed=checkout, dispatch_failed=dispatch,
                  courier_failed=courier, seller_result=judgment.seller.result.value,
                  courier_result=judgment.courier.result.value,
                  conditions={c.value: state for c, state in judgment.conditions.items()},
                  courier_business_id=couriers.get(fields.get("courier", "")))


def online_fields(rng, failed: bool, day: date, today: date, rare_cases: dict) -> dict:
    dispatched = min(day + timedelta(days=rng.randint(1, 3)), today)
    delivered = min(dispatched + timedelta(days=rng.randint(1, 4)), today)
    courier, service = rng.choice(COURIERS)
    fields = dict(stage="concluded", dob_entered=rng.choice(["true", "false", "not-asked"]),
                  account_details="Cover name and address held by the test-purchase team",
                  checkout_age_statement=rng.random() < 0.7, checkout_dob_asked=rng.random() < 0.5,
                  checkout_tickbox=rng.random() < 0.4, concluded_on=delivered)
    if failed:
        outcome = rng.choices(["FAIL_DELIVERED_NO_AGE_CHECK", "FAIL_LEFT_UNATTENDED", "FAIL_DELIVERED_TO_LOCKER"],
                              weights=[60, 25, 15])[0]
        marked = rng.random() < 0.3
        fields.update(checkout_av_run=False, order_cancelled=False, dispatched_on=dispatched, parcel_marked=marked,
                      parcel_marking_text="Contains a bladed article: deliver to 18+ only" if marked else "",
                      courier=courier, courier_service=service, age_verified_service=service.startswith("Age"),
                      delivered_on=delivered,
                      delivered_to="locker" if outcome == "FAIL_DELIVERED_TO_LOCKER" else "home",
                      residential_premises=outcome != "FAIL_DELIVERED_TO_LOCKER",
                      received_by="Volunteer" if outcome == "FAIL_DELIVERED_NO_AGE_CHECK" else "",
                      delivery_id_asked=False, delivery_dob_entered=False,
                      left_unattended=outcome == "FAIL_LEFT_UNATTENDED", left_with_neighbour=False,
                      signature_taken=rng.random() < 0.4, outcome=outcome, failed=True,
                      checkout_failed=True, dispatch_failed=not marked or outcome == "FAIL_DELIVERED_TO_LOCKER",
                      courier_failed=outcome != "FAIL_DELIVERED_TO_LOCKER")
    elif rng.random() < 0.12 or not rare_cases.get("courier_case"):
        # The seller did everything s.141B asks; the courier handed it over anyway (the courier's failure).
        rare_cases["courier_case"] = True
        courier, service = rng.choice(COURIERS[:2])
        fields.update(checkout_av_run=True, checkout_av_provider=rng.choice(AV_PROVIDERS),
                      checkout_av_result="Passed (false details supplied by the team)", order_cancelled=False,
                      dob_entered="false", dispatched_on=dispatched, parcel_marked=True,
                      parcel_marking_text="Contains a bladed article: deliver to 18+ only", courier=courier,
                      courier_service="Age-verified delivery", age_verified_service=True, delivered_on=delivered,
                      delivered_to="home", residential_premises=True, received_by="Volunteer",
                      delivery_id_asked=False, delivery_dob_entered=False, left_unattended=False,
                      left_with_neighbour=False, signature_taken=True)
    elif rng.random() < 0.6:
        fields.update(checkout_av_run=True, checkout_av_provider=rng.choice(AV_PROVIDERS),
                      checkout_av_result="Could not verify: order cancelled", order_cancelled=True,
                      outcome="PASS_REFUSED_AT_CHECKOUT", concluded_on=day)
    else:
        fields.update(checkout_av_run=False, order_cancelled=False, dispatched_on=dispatched, parcel_marked=True,
                      parcel_marking_text="Age-restricted item: ID required on delivery", courier="DPD",
                      courier_service="Age-verified delivery", age_verified_service=True, delivered_on=delivered,
                      delivered_to="not-delivered", delivery_id_asked=True, delivery_dob_entered=False,
                      left_unattended=False, left_with_neighbour=False, signature_taken=False,
                      outcome="PASS_REFUSED_AT_DELIVERY", checkout_failed=True)
    return fields
