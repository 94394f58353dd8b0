"""Reading an officer's entry into a test purchase, field by field, and checking it against the rules."""
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from ..boroughs import borough_name
from ..extensions import db
from ..models.purchases import (Channel, DeliveredTo, DobEntered, Operation, PurchaseKind, StaffAction, TestPurchase,
                                Volunteer, VolunteerConsent)
from ..models.register import OnlineStore, Premises, PremisesStatus
from ..rules import volunteers as volunteer_rules
from ..scoping import current_authority_id
from ..settings import volunteer_age_range
from ..timeutil import today_london
from ..validation import InvalidValue, normalise_url, url_domain
from .errors import ErrorCollector, PurchaseError, PurchaseErrors
from .items import ITEM_BOOL_FIELDS, ITEM_FIELDS, judge_item, read_blade_length, read_features
from .outcomes import derive_in_store_outcome

SAFEGUARD_FIELDS = ("risk_assessment_ref", "officer_present", "photo_on_day_ref")
IN_STORE_FIELDS = ("kind", "operation_id", "premises_id", "purchase_date", "time_from", "time_to", "volunteer_id",
                   "tester_age", "officer_inside", "officer_outside", "item_category", "item_description",
                   "item_price", *ITEM_FIELDS, "staff_action", "id_shown", "sale_made", "staff_description",
                   "signage_seen", "knives_secure", "receipt_number", "item_retained", "exhibit_ref", "notes",
                   *SAFEGUARD_FIELDS)
ORDER_FIELDS = ("kind", "operation_id", "online_store_id", "purchase_date", "volunteer_id", "tester_age",
                "officer_inside", "item_category", "item_description", "item_price", *ITEM_FIELDS, "listing_url",
                "order_ref", "account_details", "dob_entered", "checkout_age_statement", "checkout_dob_asked",
                "checkout_tickbox", "checkout_av_run", "checkout_av_provider", "checkout_av_result",
                "checkout_id_upload", "order_cancelled", "overseas_seller", "notes", *SAFEGUARD_FIELDS)
DISPATCH_FIELDS = ("dispatched_on", "parcel_marked", "parcel_marking_text", "parcel_photo_ref", "courier",
                   "courier_business_id", "courier_service", "age_verified_service")
DELIVERY_FIELDS = ("delivered_on", "delivered_to", "residential_premises", "received_by", "delivery_id_asked",
                   "delivery_dob_entered", "left_unattended", "left_with_neighbour", "signature_taken")
_NULLABLE = {"operation_id", "premises_id", "online_store_id", "volunteer_id", "tester_age", "item_price",
             "staff_action", "dob_entered", "delivered_to", "time_from", "time_to", "dispatched_on", "delivered_on",
             "courier_business_id"}
_INTEGERS = {"operation_id", "premises_id", "online_store_id", "volunteer_id", "tester_age", "courier_business_id"}
BOOL_FIELDS = {"sale_made", "signage_seen", "knives_secure", "checkout_age_statement", "checkout_dob_asked",
               "checkout_tickbox", "checkout_av_run", "checkout_id_upload", "order_cancelled", "parcel_marked",
               "age_verified_service", "delivery_id_asked", "delivery_dob_entered", "left_unattended",
               "left_with_neighbour", "signature_taken", "officer_present", "overseas_seller",
               "residential_premises", *ITEM_BOOL_FIELDS}


_ENUMS = {"kind": PurchaseKind, "staff_action": StaffAction, "dob_entered": DobEntered, "delivered_to": DeliveredTo}


def _bool(value) -> bool | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() in {"1", "true", "yes", "y", "on"}


def apply_purchase_fields(tp: TestPurchase, data: dict, fields) -> None:
    for field in fields:
        if field not in data:
            continue
        value = data[field]
        if isinstance(value, str):
            value = value.strip()
        if field in BOOL_FIELDS:
            value = _bool(value)
        elif field == "item_blade_length_cm":
            value = read_blade_length(value)
        elif field == "item_features":
            value = read_features(value)
        elif field == "item_retained":
            value = bool(_bool(value))
        elif field in _NULLABLE and value in ("", None):
            value = None
        elif field in _INTEGERS:
            try:
                value = int(value)
            except (TypeError, ValueError) as exc:
                raise PurchaseError("Choose from the list.", field) from exc
        elif field == "item_price":
            value = Decimal(str(value))
        elif field in _ENUMS:
            try:
                value = _ENUMS[field](value)
            except ValueError as exc:
                raise PurchaseError(f"'{value}' is not a valid choice.", field) from exc
        elif value is None:
            value = ""
        setattr(tp, field, value)


def fields_for(tp: TestPurchase) -> tuple:
    if tp.channel == Channel.IN_STORE:
        return IN_STORE_FIELDS
    return ORDER_FIELDS + DISPATCH_FIELDS + DELIVERY_FIELDS


def _check_date(value: date | None, field: str, label: str) -> None:
    if value is None:
        raise PurchaseError(f"Enter the {label}.", field)
    if value > today_london():
        raise PurchaseError(f"The {label} cannot be in the future.", field)


def _validate_tester(tp: TestPurchase) -> None:
    if tp.operation_id:
        op = db.session.get(Operation, tp.operation_id)
        if op is None:
            raise PurchaseError("Choose an operation.", "operation_id")
        if current_authority_id() and op.authority_id != current_authority_id():
            raise PurchaseError(f"{op.name} is run by {op.authority.name}: only its own team logs attempts in it.",
                                "operation_id")
        if not (op.starts_on <= tp.purchase_date <= op.ends_on):
            raise PurchaseError(f"The date is outside the operation ({op.period_label}).", "purchase_date")
    if tp.kind == PurchaseKind.CHALLENGE25:
        if tp.volunteer_id:
            raise PurchaseError("A Challenge 25 test uses an adult tester, not a child volunteer.", "volunteer_id")
        if tp.tester_age is None or not 18 <= tp.tester_age <= 24:
            raise PurchaseError("A Challenge 25 tester must be aged 18 to 24: enter their age.", "tester_age")
        return
    tp.tester_age = None
    if not tp.operation_id:
        raise PurchaseError("An underage test purchase must belong to an operation (consent is per operation).",
                            "operation_id")
    volunteer = db.session.get(Volunteer, tp.volunteer_id) if tp.volunteer_id else None
    if volunteer is None:
        raise PurchaseError("Choose the volunteer.", "volunteer_id")
    if not volunteer.active:
        raise PurchaseError(f"{volunteer.code_name} is no longer an active volunteer.", "volunteer_id")
    # Judged on the day of the attempt, with the code of practice's 18-month gap (rules.volunteers, brief 2.2).
    problem = volunteer_rules.age_problem(volunteer.date_of_birth, tp.purchase_date,
                                          volunteer_age_range(volunteer.authority_id))
    if problem:
        raise PurchaseError(f"{volunteer.code_name}: {problem}", "volunteer_id")
    premises = db.session.get(Premises, tp.premises_id) if tp.premises_id else None
    if premises is not None:
        hit = volunteer_rules.area_to_avoid_hit(
            volunteer.areas_to_avoid, postcode=premises.postcode, borough=premises.borough,
            borough_name=borough_name(premises.borough),
            address=" ".join((premises.address_line1, premises.address_line2, premises.town)))
        if hit:
            raise PurchaseError(f"{premises.name} is inside {volunteer.code_name}'s areas to avoid ({hit}): choose "
                                "another volunteer, so the child cannot be recognised.", "volunteer_id")
    consent = db.session.scalar(sa.select(VolunteerConsent).where(
        VolunteerConsent.volunteer_id == volunteer.id, VolunteerConsent.operation_id == tp.operation_id))
    if consent is None or consent.withdrawn:
        raise PurchaseError(f"There is no parental consent for {volunteer.code_name} for this operation. Record it "
                            "on the operation first.", "volunteer_id")
    if consent.given_on > tp.purchase_date:
        raise PurchaseError(f"Consent for {volunteer.code_name} was given after this date.", "volunteer_id")


def _validate_premises(tp: TestPurchase) -> None:
    premises = db.session.get(Premises, tp.premises_id) if tp.premises_id else None
    if premises is None:
        raise PurchaseError("Choose the shop: type part of its name or postcode.", "premises_query")
    if premises.status == PremisesStatus.CLOSED:
        raise PurchaseError(f"{premises.name} is marked closed in the register. Check the shop, or update the "
                            "register if it has reopened.", "premises_query")
    _check_premises_in_area(tp, premises)
    tp.business_id = premises.business_id
    tp.online_store_id = None


def _check_premises_in_area(tp: TestPurchase, premises: Premises) -> None:
    """A borough tests its own shops; the Met tests in the boroughs its operation names."""
    authority_id = tp.authority_id or current_authority_id()
    if premises.authority_id is None or authority_id is None or premises.authority_id == authority_id:
        return
    op = db.session.get(Operation, tp.operation_id) if tp.operation_id else None
    if op is not None and premises.authority_id in {a.id for a in op.shared_with}:
        return
    raise PurchaseError(f"{premises.name} is in {premises.borough_name}: its own Trading Standards service tests "
                        "there, or a police operation that names that borough.", "premises_query")


def check_listing_url(store: OnlineStore, url: str) -> str:
    """The listing must be on the store's own site (or, for a marketplace seller, on the marketplace)."""
    listing = normalise_url(url)
    domain = url_domain(listing)
    store_domain = store.domain.split(":")[0].removeprefix("www.")
    if domain != store_domain and not domain.endswith("." + store_domain):
        raise PurchaseError(f"The listing address is on {domain}, not on the store's site ({store_domain}).",
                            "listing_url")
    return listing


def _validate_store(tp: TestPurchase) -> None:
    store = db.session.get(OnlineStore, tp.online_store_id) if tp.online_store_id else None
    if store is None:
        raise PurchaseError("Choose the online store.", "online_store_id")
    try:
        tp.listing_url = check_listing_url(store, tp.listing_url)
    except PurchaseError:
        raise
    except InvalidValue as exc:
        raise PurchaseError(str(exc), "listing_url") from exc
    tp.business_id = store.business_id
    tp.premises_id = None


def _validate_safeguards(tp: TestPurchase) -> None:
    """The code of practice's safeguards, required before an underage attempt is logged (brief 2.2, 2.3). Records
    logged before they were asked for keep them as "not recorded" when edited."""
    if tp.kind != PurchaseKind.UNDERAGE:
        return
    if not (tp.risk_assessment_ref or "").strip() and tp.operation_id:
        op = db.session.get(Operation, tp.operation_id)
        tp.risk_assessment_ref = op.risk_assessment_ref if op is not None else ""
    if tp.id is not None and tp.officer_present is None and not tp.photo_on_day_ref:
        return
    problems = volunteer_rules.missing_safeguards(volunteer_rules.Safeguards(
        tp.risk_assessment_ref or "", tp.officer_present, tp.photo_on_day_ref or ""))
    if problems:
        raise PurchaseErrors([PurchaseError(message, field) for field, message in problems])


def _check_item(tp: TestPurchase) -> None:
    if tp.item_price is not None and tp.item_price < 0:
        raise PurchaseError("The price cannot be negative.", "item_price")
    judge_item(tp, new=tp.id is None)


def _check_times(tp: TestPurchase) -> None:
    if tp.time_from and tp.time_to and tp.time_to < tp.time_from:
        raise PurchaseError("The end time is before the start time.", "time_to")


def validate_in_store(tp: TestPurchase, aborted: bool) -> None:
    """Every independent check runs, so all the problems come back at once; a check that needs another's answer
    (the volunteer's age needs the date) runs only once that answer is good."""
    errors = ErrorCollector()
    date_ok = errors.check(_check_date, tp.purchase_date, "purchase_date", "date of the attempt")
    errors.check(_check_times, tp)
    errors.check(_validate_premises, tp)
    if date_ok:
        errors.check(_validate_tester, tp)
    errors.check(_validate_safeguards, tp)
    errors.check(_check_item, tp)
    errors.check(_derive_in_store, tp, aborted)
    errors.done()


def _derive_in_store(tp: TestPurchase, aborted: bool) -> None:
    tp.outcome = derive_in_store_outcome(tp.staff_action.value if tp.staff_action else None, tp.sale_made, aborted,
                                         item_verdict=tp.item_verdict, kind=tp.kind)


def validate_order(tp: TestPurchase) -> None:
    errors = ErrorCollector()
    date_ok = errors.check(_check_date, tp.purchase_date, "purchase_date", "order date")
    errors.check(_validate_store, tp)
    if date_ok:
        errors.check(_validate_tester, tp)
    errors.check(_validate_safeguards, tp)
    errors.check(_check_item, tp)
    errors.done()


def validate_stages(tp: TestPurchase) -> None:
    if tp.dispatched_on:
        _check_date(tp.dispatched_on, "dispatched_on", "dispatch date")
        if tp.dispatched_on < tp.purchase_date:
            raise PurchaseError("The parcel cannot be dispatched before the order date.", "dispatched_on")
    if tp.delivered_on:
        _check_date(tp.delivered_on, "delivered_on", "delivery date")
        if tp.delivered_on < (tp.dispatched_on or tp.purchase_date):
            raise PurchaseError("The delivery date is before the dispatch or order date.", "delivered_on")
