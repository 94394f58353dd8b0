"""Rules for test purchases: validation, outcomes, letters, follow-up actions, and the queries other areas call.

For other areas:
- scoring/dashboards aggregate `test_purchase` in SQL: kind (underage|challenge25), channel (in-store|online),
  outcome, failed, checkout_failed/dispatch_failed/courier_failed, purchase_date, business_id (indexed),
  premises_id, online_store_id; and `follow_up_action` (action_type, status) — see `pending_enforcement`.
- the retailer portal calls `retailer_results(business_id)` and links to `/my/letters/<id>`.
Nothing here returns volunteer data to a retailer-facing caller.
"""
import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from .audit import record_event, set_reason
from .authorities import authorities_for_boroughs
from .extensions import db
from .models.purchases import (ACTION_LABELS, FAILING_PARTY_LABELS, IN_STORE_OUTCOMES, KIND_LABELS, ONLINE_OUTCOMES,
                               OUTCOME_LABELS, RETAILER_VISIBLE_ACTIONS, ActionStatus, ActionType, Channel,
                               DeliveredTo, DobEntered, FailingParty, FollowUpAction, LetterChannel, NotificationLetter,
                               Operation, Outcome, PurchaseKind, Stage, StaffAction, TestPurchase, Volunteer,
                               VolunteerConsent)
from .records import apply_fields
from .models.register import Business, OnlineStore, Premises, PremisesStatus
from .models.authority import Authority
from .register import StaleRecord, check_version, matching_premises_ids
from .scoping import current_authority_id
from .settings import volunteer_age_range
from .timeutil import today_london
from .validation import InvalidValue, normalise_url, url_domain

RETEST_MONTHS = 3
RETEST_PANEL_DAYS = 30


class PurchaseError(InvalidValue):
    """A rule the officer's entry breaks; `field` names the form field to show it next to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class LetterAlreadySent(Exception):
    """A plain edit after the letter went out: it must be an amendment with a reason instead."""


__all__ = ["PurchaseError", "LetterAlreadySent", "StaleRecord", "derive_in_store_outcome", "create_in_store",
           "create_online", "record_dispatch", "record_delivery", "conclude_online", "update_purchase",
           "amend_purchase", "add_action", "update_action", "mark_letters_sent", "retailer_results",
           "retests_due", "unsent_letters", "pending_enforcement", "export_rows"]


# --- small helpers ------------------------------------------------------------------------------------------------

def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def default_retest_due(purchase_date: date) -> date:
    """A failed premises is retested within three months by default."""
    return add_months(purchase_date, RETEST_MONTHS)


def letter_period(purchase: TestPurchase) -> str:
    """The period stated to the business: the operation's dates, or the month. Never the exact day and time."""
    op = purchase.operation
    if op is not None:
        if op.starts_on == op.ends_on:
            return f"on {_long(op.starts_on)}"
        return f"between {_long(op.starts_on)} and {_long(op.ends_on)}"
    return f"during {purchase.purchase_date:%B %Y}"




def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _str(value) -> str:
    return (value or "").strip() if isinstance(value, str) or value is None else str(value)


def _bool(value) -> bool | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() in {"1", "true", "yes", "y", "on"}


# --- outcome rules --------------------------------------------------------------------------------------------------

def derive_in_store_outcome(staff_action: str | None, sale_made: bool | None, aborted: bool = False) -> Outcome:
    """The in-store outcome code follows from what staff did and whether they sold; contradictions are refused."""
    if aborted:
        return Outcome.INCONCLUSIVE
    if sale_made is None:
        raise PurchaseError("Say whether the item was sold.", "sale_made")
    if not staff_action:
        raise PurchaseError("Say what the staff did.", "staff_action")
    action = StaffAction(staff_action)
    if sale_made:
        if action == StaffAction.REFUSED:
            raise PurchaseError("Staff cannot have refused and sold: check 'what staff did' or 'sold'.", "sale_made")
        if action == StaffAction.NO_CHALLENGE:
            return Outcome.FAIL_SOLD_NO_CHALLENGE
        return Outcome.FAIL_SOLD_AFTER_CHALLENGE
    if action == StaffAction.NO_CHALLENGE:
        raise PurchaseError("No challenge and no sale: if the attempt was abandoned, tick 'aborted'.", "staff_action")
    return Outcome.PASS_ID_REQUESTED_REFUSED if action == StaffAction.ASKED_ID else Outcome.PASS_REFUSED


def suggest_failing_parties(tp: TestPurchase) -> set[FailingParty]:
    """Which parties' duties the recorded facts suggest were not met (the officer confirms at the end)."""
    parties = set()
    if not tp.order_cancelled and not (tp.checkout_av_run or tp.checkout_id_upload):
        parties.add(FailingParty.SELLER_CHECKOUT)
    if tp.dispatched_on and (tp.parcel_marked is False or tp.age_verified_service is False
                             or tp.delivered_to == DeliveredTo.LOCKER):
        parties.add(FailingParty.SELLER_DISPATCH)
    if tp.delivered_on and tp.delivered_to != DeliveredTo.NOT_DELIVERED and (
            not tp.delivery_id_asked or tp.left_unattended or tp.left_with_neighbour):
        parties.add(FailingParty.COURIER)
    return parties


def check_online_outcome(tp: TestPurchase, outcome: Outcome, parties: set[FailingParty]) -> None:
    """The outcome must agree with the stages recorded and name who failed."""
    if outcome not in ONLINE_OUTCOMES:
        raise PurchaseError("That outcome is for in-store attempts.", "outcome")
    if outcome == Outcome.PASS_REFUSED_AT_CHECKOUT:
        if not tp.order_cancelled:
            raise PurchaseError("Refused at checkout means the order was cancelled: record that on the order first.",
                                "outcome")
        if parties:
            raise PurchaseError("A refusal at checkout has no failing party.", "failing_parties")
        return
    if outcome == Outcome.INCONCLUSIVE:
        return
    if not tp.delivered_on:
        raise PurchaseError("Record the delivery before setting this outcome.", "outcome")
    if outcome == Outcome.PASS_REFUSED_AT_DELIVERY and tp.delivered_to not in (DeliveredTo.NOT_DELIVERED, None):
        raise PurchaseError("The delivery is recorded as handed over: it was not refused at delivery.", "outcome")
    if outcome == Outcome.FAIL_DELIVERED_TO_LOCKER and tp.delivered_to != DeliveredTo.LOCKER:
        raise PurchaseError("The delivery was not recorded as going to a locker.", "outcome")
    if outcome == Outcome.FAIL_LEFT_UNATTENDED and not (tp.left_unattended or tp.left_with_neighbour):
        raise PurchaseError("The delivery was not recorded as left unattended or with a neighbour.", "outcome")
    if outcome.failed and not parties:
        raise PurchaseError("Say which party failed: the seller's checkout, the seller's dispatch, or the courier.",
                            "failing_parties")


def _set_failing(tp: TestPurchase, parties) -> None:
    parties = {FailingParty(p) for p in parties}
    tp.checkout_failed = FailingParty.SELLER_CHECKOUT in parties
    tp.dispatch_failed = FailingParty.SELLER_DISPATCH in parties
    tp.courier_failed = FailingParty.COURIER in parties


# --- validation -----------------------------------------------------------------------------------------------------

def volunteers_for_operation(operation_id: int | None, on: date | None = None) -> list[Volunteer]:
    """Active volunteers with consent for this operation (and under 18 on `on`, when given)."""
    if not operation_id:
        return []
    rows = db.session.scalars(
        sa.select(Volunteer).join(VolunteerConsent, VolunteerConsent.volunteer_id == Volunteer.id)
        .where(VolunteerConsent.operation_id == operation_id, VolunteerConsent.withdrawn.is_(False),
               Volunteer.active.is_(True)).order_by(Volunteer.code_name)).all()
    return [v for v in rows if on is None or v.age_on(on) < 18]


def current_operations(today: date | None = None) -> list[Operation]:
    """Operations running today first, then the most recent ones, for the 'operation' pick-list."""
    today = today or today_london()
    # Two index scans rather than one sort over every operation ever held.
    # Only the authority's own operations: a neighbour can read a Met operation shared with it, not log into it.
    own = Operation.authority_id == current_authority_id() if current_authority_id() else sa.true()
    running = db.session.scalars(
        sa.select(Operation).where(Operation.starts_on <= today, Operation.ends_on >= today,
                                   Operation.starts_on >= today - timedelta(days=366), own)
        .order_by(Operation.starts_on.desc()).limit(30)).all()
    recent = db.session.scalars(
        sa.select(Operation).where(Operation.starts_on <= today + timedelta(days=7), own)
        .order_by(Operation.starts_on.desc()).limit(30)).all()
    seen = {op.id for op in running}
    return (running + [op for op in recent if op.id not in seen])[:30]


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
    if volunteer.age_on(tp.purchase_date) >= 18:
        raise PurchaseError(f"{volunteer.code_name} is 18 or over on {tp.purchase_date:%d %b %Y}: an adult cannot "
                            "make an underage test purchase.", "volunteer_id")
    low, high = volunteer_age_range(volunteer.authority_id)
    age = volunteer.age_on(tp.purchase_date)
    if not low <= age <= high:
        raise PurchaseError(f"{volunteer.code_name} is {age} on {tp.purchase_date:%d %b %Y}: this authority's "
                            f"volunteers are aged {low} to {high} on the day of the attempt.", "volunteer_id")
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


# --- creating and changing --------------------------------------------------------------------------------------

IN_STORE_FIELDS = ("kind", "operation_id", "premises_id", "purchase_date", "time_from", "time_to", "volunteer_id",
                   "tester_age", "officer_inside", "officer_outside", "item_category", "item_description",
                   "item_price", "staff_action", "id_shown", "sale_made", "staff_description", "signage_seen",
                   "knives_secure", "receipt_number", "item_retained", "exhibit_ref", "notes")
ORDER_FIELDS = ("kind", "operation_id", "online_store_id", "purchase_date", "volunteer_id", "tester_age",
                "officer_inside", "item_category", "item_description", "item_price", "listing_url", "order_ref",
                "account_details", "dob_entered", "checkout_age_statement", "checkout_dob_asked", "checkout_tickbox",
                "checkout_av_run", "checkout_av_provider", "checkout_av_result", "checkout_id_upload",
                "order_cancelled", "notes")
DISPATCH_FIELDS = ("dispatched_on", "parcel_marked", "parcel_marking_text", "parcel_photo_ref", "courier",
                   "courier_service", "age_verified_service")
DELIVERY_FIELDS = ("delivered_on", "delivered_to", "received_by", "delivery_id_asked", "delivery_dob_entered",
                   "left_unattended", "left_with_neighbour", "signature_taken")
_NULLABLE = {"operation_id", "premises_id", "online_store_id", "volunteer_id", "tester_age", "item_price",
             "staff_action", "dob_entered", "delivered_to", "time_from", "time_to", "dispatched_on", "delivered_on"}
_BOOLS = {"sale_made", "signage_seen", "knives_secure", "checkout_age_statement", "checkout_dob_asked",
          "checkout_tickbox", "checkout_av_run", "checkout_id_upload", "order_cancelled", "parcel_marked",
          "age_verified_service", "delivery_id_asked", "delivery_dob_entered", "left_unattended",
          "left_with_neighbour", "signature_taken"}

_ENUMS = {"kind": PurchaseKind, "staff_action": StaffAction, "dob_entered": DobEntered, "delivered_to": DeliveredTo}


def _apply(tp: TestPurchase, data: dict, fields) -> None:
    for field in fields:
        if field not in data:
            continue
        value = data[field]
        if isinstance(value, str):
            value = value.strip()
        if field in _BOOLS:
            value = _bool(value)
        elif field == "item_retained":
            value = bool(_bool(value))
        elif field in _NULLABLE and value in ("", None):
            value = None
        elif field in {"operation_id", "premises_id", "online_store_id", "volunteer_id", "tester_age"}:
            value = int(value)
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


def _validate_in_store(tp: TestPurchase, aborted: bool) -> None:
    _check_date(tp.purchase_date, "purchase_date", "date of the attempt")
    if tp.time_from and tp.time_to and tp.time_to < tp.time_from:
        raise PurchaseError("The end time is before the start time.", "time_to")
    _validate_premises(tp)
    _validate_tester(tp)
    if tp.item_price is not None and tp.item_price < 0:
        raise PurchaseError("The price cannot be negative.", "item_price")
    tp.outcome = derive_in_store_outcome(tp.staff_action.value if tp.staff_action else None, tp.sale_made, aborted)


def _validate_order(tp: TestPurchase) -> None:
    _check_date(tp.purchase_date, "purchase_date", "order date")
    _validate_store(tp)
    _validate_tester(tp)


def _validate_stages(tp: TestPurchase) -> None:
    if tp.dispatched_on:
        _check_date(tp.dispatched_on, "dispatched_on", "dispatch date")
        if tp.dispatched_on < tp.purchase_date:
            raise PurchaseError("The parcel cannot be dispatched before the order date.", "dispatched_on")
    if tp.delivered_on:
        _check_date(tp.delivered_on, "delivered_on", "delivery date")
        if tp.delivered_on < (tp.dispatched_on or tp.purchase_date):
            raise PurchaseError("The delivery date is before the dispatch or order date.", "delivered_on")


def create_in_store(data: dict, user=None) -> TestPurchase:
    """Log an in-store attempt: validated, outcome derived, letter drafted, retest scheduled after a failure."""
    tp = TestPurchase(channel=Channel.IN_STORE, stage=Stage.CONCLUDED, created_by_id=getattr(user, "id", None),
                      letters=[], actions=[])
    _apply(tp, data, IN_STORE_FIELDS)
    tp.kind = PurchaseKind(tp.kind or PurchaseKind.UNDERAGE)
    _validate_in_store(tp, bool(data.get("aborted")))
    db.session.add(tp)
    db.session.flush()
    _conclude(tp, user)
    return tp


def create_online(data: dict, user=None) -> TestPurchase:
    """Stage 1 of an online attempt: the order and what the checkout asked."""
    tp = TestPurchase(channel=Channel.ONLINE, stage=Stage.ORDERED, created_by_id=getattr(user, "id", None),
                      letters=[], actions=[])
    _apply(tp, data, ORDER_FIELDS)
    tp.kind = PurchaseKind(tp.kind or PurchaseKind.UNDERAGE)
    _validate_order(tp)
    db.session.add(tp)
    db.session.flush()
    return tp


def _require_online(tp: TestPurchase) -> None:
    if tp.channel != Channel.ONLINE:
        raise PurchaseError("This is an in-store attempt.")


def record_dispatch(tp: TestPurchase, data: dict, version=None) -> TestPurchase:
    check_version(tp, version)
    _require_online(tp)
    if tp.sent_letter:
        raise LetterAlreadySent()
    if tp.order_cancelled:
        raise PurchaseError("The order was cancelled at checkout: there is no dispatch to record.")
    _apply(tp, data, DISPATCH_FIELDS)
    if not tp.dispatched_on:
        raise PurchaseError("Enter the dispatch date.", "dispatched_on")
    _validate_stages(tp)
    if tp.stage == Stage.ORDERED:
        tp.stage = Stage.DISPATCHED
    db.session.flush()
    return tp


def record_delivery(tp: TestPurchase, data: dict, version=None) -> TestPurchase:
    check_version(tp, version)
    _require_online(tp)
    if tp.sent_letter:
        raise LetterAlreadySent()
    if tp.order_cancelled:
        raise PurchaseError("The order was cancelled at checkout: there is no delivery to record.")
    _apply(tp, data, DELIVERY_FIELDS)
    if not tp.delivered_on:
        raise PurchaseError("Enter the delivery (or attempted delivery) date.", "delivered_on")
    if not tp.delivered_to:
        raise PurchaseError("Say where it was delivered.", "delivered_to")
    _validate_stages(tp)
    if tp.stage in (Stage.ORDERED, Stage.DISPATCHED):
        tp.stage = Stage.DELIVERED
    db.session.flush()
    return tp


def conclude_online(tp: TestPurchase, outcome: str, parties, version=None, user=None) -> TestPurchase:
    """Set the outcome at the end, naming who failed. Drafts the letter and, after a failure, the retest."""
    check_version(tp, version)
    _require_online(tp)
    if tp.sent_letter:
        raise LetterAlreadySent()
    outcome = Outcome(outcome)
    parties = {FailingParty(p) for p in parties or ()}
    check_online_outcome(tp, outcome, parties)
    tp.outcome = outcome
    _set_failing(tp, parties if outcome.failed or outcome == Outcome.PASS_REFUSED_AT_DELIVERY else ())
    tp.stage = Stage.CONCLUDED
    db.session.flush()
    _conclude(tp, user)
    return tp


def _conclude(tp: TestPurchase, user=None) -> None:
    tp.failed = bool(tp.outcome and tp.outcome.failed)
    tp.concluded_on = tp.concluded_on or today_london()
    _complete_pending_retests(tp)
    _sync_letter(tp, user)
    _sync_retest(tp, user)
    db.session.flush()


def _complete_pending_retests(tp: TestPurchase) -> None:
    """A new concluded attempt at the same shop or store (same kind) completes a retest that was waiting for it."""
    target = (FollowUpAction.premises_id == tp.premises_id) if tp.premises_id else \
        (FollowUpAction.online_store_id == tp.online_store_id)
    pending = db.session.scalars(
        sa.select(FollowUpAction).join(TestPurchase, FollowUpAction.test_purchase_id == TestPurchase.id)
        .where(target, FollowUpAction.action_type == ActionType.RETEST,
               FollowUpAction.status == ActionStatus.PENDING, FollowUpAction.test_purchase_id != tp.id,
               TestPurchase.purchase_date < tp.purchase_date, TestPurchase.kind == tp.kind)).all()
    for action in pending:
        action.status = ActionStatus.COMPLETED
        action.completed_on = tp.purchase_date
        action.retest_purchase_id = tp.id


def letter_template(tp: TestPurchase) -> str | None:
    """The template for this attempt's letter (templates/letters/<name>.html); None for an aborted attempt."""
    if tp.outcome is None or tp.outcome == Outcome.INCONCLUSIVE:
        return None
    if tp.kind == PurchaseKind.CHALLENGE25:
        return "challenge25_fail" if tp.outcome.failed else "challenge25_pass"
    return tp.outcome.value.lower()


def _recipient(tp: TestPurchase) -> tuple[str, str]:
    business = tp.business or db.session.get(Business, tp.business_id)
    name = business.legal_name
    if tp.premises_id:
        premises = tp.premises or db.session.get(Premises, tp.premises_id)
        address = "\n".join(p for p in (f"The Manager, {premises.name}", premises.address_line1,
                                        premises.address_line2, premises.town, premises.postcode) if p)
    else:
        address = "\n".join(p for p in (business.head_office_address, business.head_office_postcode or "") if p) \
            or (f"By email: {business.contact_email}" if business.contact_email else "Address not recorded")
    return name, address


def _sync_letter(tp: TestPurchase, user=None, replaces: NotificationLetter | None = None) -> None:
    """Keep the unsent letter in step with the record; draft one if the attempt needs a letter and has none."""
    template = letter_template(tp)
    unsent = [letter for letter in tp.letters if not letter.sent_on]
    if template is None:
        for letter in unsent:
            db.session.delete(letter)
        return
    name, address = _recipient(tp)
    if unsent:
        letter = unsent[-1]
        letter.template, letter.recipient_name, letter.recipient_address = template, name, address
        return
    if tp.letters and replaces is None:
        return  # already sent; a correction goes through an amendment
    letter = NotificationLetter(test_purchase=tp, business_id=tp.business_id, template=template,
                                recipient_name=name, recipient_address=address, drafted_on=today_london(),
                                signed_by_name=getattr(user, "name", "") or "",
                                replaces_letter_id=replaces.id if replaces else None)
    db.session.add(letter)


def _sync_retest(tp: TestPurchase, user=None) -> None:
    retests = [a for a in tp.actions if a.action_type == ActionType.RETEST]
    if tp.failed and not retests:
        db.session.add(FollowUpAction(
            test_purchase=tp, business_id=tp.business_id, premises_id=tp.premises_id,
            online_store_id=tp.online_store_id, action_type=ActionType.RETEST, status=ActionStatus.PENDING,
            decided_on=today_london(), decided_by=getattr(user, "name", "") or "automatic",
            due_on=default_retest_due(tp.purchase_date), notes="Scheduled automatically after a failed test."))
    elif not tp.failed:
        for action in retests:
            if action.status == ActionStatus.PENDING:
                action.status = ActionStatus.CANCELLED
                note = "Cancelled: the result is no longer a failure."
                action.notes = f"{action.notes}\n{note}" if action.notes else note


def _fields_for(tp: TestPurchase) -> tuple:
    if tp.channel == Channel.IN_STORE:
        return IN_STORE_FIELDS
    return ORDER_FIELDS + DISPATCH_FIELDS + DELIVERY_FIELDS


def _revalidate(tp: TestPurchase, data: dict) -> None:
    if tp.channel == Channel.IN_STORE:
        _validate_in_store(tp, bool(data.get("aborted", tp.outcome == Outcome.INCONCLUSIVE)))
    else:
        _validate_order(tp)
        _validate_stages(tp)
        if "outcome" in data and data["outcome"]:
            parties = {FailingParty(p) for p in data.get("failing_parties") or ()}
            outcome = Outcome(data["outcome"])
            check_online_outcome(tp, outcome, parties)
            tp.outcome = outcome
            _set_failing(tp, parties)


def update_purchase(tp: TestPurchase, data: dict, version=None, user=None) -> TestPurchase:
    """A plain edit, allowed until the letter has been sent."""
    check_version(tp, version)
    if tp.sent_letter:
        raise LetterAlreadySent()
    _apply(tp, data, _fields_for(tp))
    _revalidate(tp, data)
    db.session.flush()
    if tp.stage == Stage.CONCLUDED:
        _conclude(tp, user)
    return tp


def amend_purchase(tp: TestPurchase, data: dict, reason: str, version=None, user=None) -> TestPurchase:
    """Correct a record whose letter has gone out. The audit log keeps the original values and the reason; if the
    result changes, a corrected letter is drafted to replace the one sent."""
    check_version(tp, version)
    reason = (reason or "").strip()
    if not reason:
        raise PurchaseError("Give the reason for the amendment.", "reason")
    sent = tp.sent_letter
    before_outcome = tp.outcome
    before = {f: getattr(tp, f) for f in _fields_for(tp)}
    set_reason(f"Amendment: {reason}")
    _apply(tp, data, _fields_for(tp))
    _revalidate(tp, data)
    changes = {f: [_plain(before[f]), _plain(getattr(tp, f))] for f in before if before[f] != getattr(tp, f)}
    if before_outcome != tp.outcome:
        changes["outcome"] = [_plain(before_outcome), _plain(tp.outcome)]
    if not changes:
        raise PurchaseError("Nothing was changed.", "reason")
    tp.amendment_count += 1
    db.session.flush()
    record_event("TestPurchase", tp.id, f"Amended after the letter was sent: {reason}", changes)
    if tp.stage == Stage.CONCLUDED:
        tp.failed = bool(tp.outcome and tp.outcome.failed)
        if before_outcome != tp.outcome and sent is not None:
            _sync_letter(tp, user, replaces=sent)
        _sync_retest(tp, user)
        db.session.flush()
    return tp


def _plain(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value.value if hasattr(value, "value") else value
    return str(value)


# --- letters --------------------------------------------------------------------------------------------------------

def unsent_letters(limit: int | None = None) -> list[NotificationLetter]:
    query = (sa.select(NotificationLetter).where(NotificationLetter.sent_on.is_(None))
             .options(selectinload(NotificationLetter.test_purchase).selectinload(TestPurchase.operation),
                      selectinload(NotificationLetter.test_purchase).selectinload(TestPurchase.premises),
                      selectinload(NotificationLetter.test_purchase).selectinload(TestPurchase.online_store))
             .order_by(NotificationLetter.id))
    if limit:
        query = query.limit(limit)
    return db.session.scalars(query).all()


def mark_letters_sent(letters, on: date, channel: str, user=None, render=None) -> int:
    """Record when and how letters went out, freezing each letter's text as sent. Returns how many were marked."""
    if on is None:
        raise PurchaseError("Enter the date the letters were sent.", "sent_on")
    if on > today_london():
        raise PurchaseError("The sending date cannot be in the future.", "sent_on")
    channel = LetterChannel(channel)
    if render is None:
        from .letters import render_letter_body as render
    count = 0
    for letter in letters:
        if letter.sent_on:
            continue
        if on < letter.test_purchase.purchase_date:
            raise PurchaseError("A letter cannot be sent before the test purchase took place.", "sent_on")
        letter.sent_on = on
        letter.channel = channel
        letter.sent_by_id = getattr(user, "id", None)
        if not letter.signed_by_name:
            letter.signed_by_name = getattr(user, "name", "") or ""
        letter.content = render(letter)
        db.session.flush()
        record_event("NotificationLetter", letter.id, f"Letter sent by {channel.value} on {on:%d %b %Y}")
        count += 1
    return count


# --- follow-up actions ----------------------------------------------------------------------------------------------

ACTION_FIELDS = ("action_type", "status", "decided_on", "decided_by", "due_on", "completed_on", "court", "hearing_on",
                 "court_result", "fine", "costs", "notes")


def _apply_action(action: FollowUpAction, data: dict) -> None:
    for field in ACTION_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if isinstance(value, str):
            value = value.strip()
        if field in {"due_on", "completed_on", "hearing_on", "fine", "costs"} and value in ("", None):
            value = None
        elif field in {"fine", "costs"}:
            value = Decimal(str(value))
        elif value is None:
            value = ""
        setattr(action, field, value)
    action.action_type = ActionType(action.action_type)
    action.status = ActionStatus(action.status or ActionStatus.PENDING)


def _validate_action(action: FollowUpAction, tp: TestPurchase) -> None:
    today = today_london()
    if action.decided_on is None:
        raise PurchaseError("Enter the date of the decision.", "decided_on")
    if action.decided_on > today:
        raise PurchaseError("The decision date cannot be in the future.", "decided_on")
    if action.decided_on < tp.purchase_date:
        raise PurchaseError("The decision cannot come before the test purchase.", "decided_on")
    if action.action_type == ActionType.RETEST:
        if action.due_on is None:
            action.due_on = default_retest_due(tp.purchase_date)
        if action.due_on < tp.purchase_date:
            raise PurchaseError("The retest is due before the test purchase it follows.", "due_on")
    else:
        action.due_on = None
    if action.completed_on and action.completed_on > today:
        raise PurchaseError("The completion date cannot be in the future.", "completed_on")
    enforcement = action.action_type in (ActionType.SIMPLE_CAUTION, ActionType.PROSECUTION)
    if enforcement and tp.kind == PurchaseKind.CHALLENGE25:
        raise PurchaseError("A Challenge 25 test is a policy check, not an offence: it cannot lead to a caution or "
                            "prosecution.", "action_type")
    if action.action_type == ActionType.PROSECUTION:
        for field in ("fine", "costs"):
            value = getattr(action, field)
            if value is not None and value < 0:
                raise PurchaseError("Amounts cannot be negative.", field)
        if action.status == ActionStatus.COMPLETED and not action.court_result:
            raise PurchaseError("Record the court's result to complete a prosecution.", "court_result")
    else:
        action.court, action.hearing_on, action.court_result, action.fine, action.costs = "", None, "", None, None
    if action.action_type in (ActionType.NONE, ActionType.ADVICE_LETTER, ActionType.WARNING_LETTER) and \
            action.status == ActionStatus.PENDING and action.completed_on:
        action.status = ActionStatus.COMPLETED


def add_action(tp: TestPurchase, data: dict, user=None) -> FollowUpAction:
    if tp.stage != Stage.CONCLUDED:
        raise PurchaseError("Set the outcome before deciding the follow-up.", "action_type")
    action = FollowUpAction(test_purchase=tp, business_id=tp.business_id, premises_id=tp.premises_id,
                            online_store_id=tp.online_store_id)
    _apply_action(action, {"decided_by": getattr(user, "name", ""), **data})
    _validate_action(action, tp)
    db.session.add(action)
    db.session.flush()
    return action


def update_action(action: FollowUpAction, data: dict, version=None) -> FollowUpAction:
    check_version(action, version)
    _apply_action(action, data)
    _validate_action(action, action.test_purchase)
    db.session.flush()
    return action


# --- queries for panels, timeline, exports, retailers, scoring -------------------------------------------------------

@dataclass
class PurchaseFilters:
    q: str = ""
    kind: str = ""
    channel: str = ""
    outcome: str = ""
    stage: str = ""
    borough: str = ""
    operation_id: int | None = None
    business_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def purchases_query(filters: PurchaseFilters):
    query = sa.select(TestPurchase)
    if filters.q:
        from .register import matching_business_ids

        query = query.where(TestPurchase.business_id.in_(matching_business_ids(filters.q)))
    for field in ("kind", "channel", "outcome", "stage"):
        value = getattr(filters, field)
        if value:
            query = query.where(getattr(TestPurchase, field) == value)
    if filters.borough:
        query = query.where(TestPurchase.premises_id.in_(sa.select(Premises.id).where(
            Premises.borough == filters.borough)))
    if filters.operation_id:
        query = query.where(TestPurchase.operation_id == filters.operation_id)
    if filters.business_id:
        query = query.where(TestPurchase.business_id == filters.business_id)
    if filters.date_from:
        query = query.where(TestPurchase.purchase_date >= filters.date_from)
    if filters.date_to:
        query = query.where(TestPurchase.purchase_date <= filters.date_to)
    return query.order_by(TestPurchase.purchase_date.desc(), TestPurchase.id.desc())


def with_names(query):
    return query.options(selectinload(TestPurchase.premises), selectinload(TestPurchase.online_store),
                         selectinload(TestPurchase.business), selectinload(TestPurchase.letters))


def retests_due(today: date | None = None, within_days: int = RETEST_PANEL_DAYS, limit: int = 12) -> dict:
    """Pending retests due within `within_days` (and all overdue ones), soonest first, with counts."""
    today = today or today_london()
    horizon = today + timedelta(days=within_days)
    base = sa.and_(FollowUpAction.action_type == ActionType.RETEST, FollowUpAction.status == ActionStatus.PENDING,
                   FollowUpAction.due_on <= horizon)
    overdue, due_soon = db.session.execute(
        sa.select(sa.func.count(sa.case((FollowUpAction.due_on < today, 1))),
                  sa.func.count(sa.case((FollowUpAction.due_on >= today, 1)))).where(base)).one()
    rows = db.session.execute(
        sa.select(FollowUpAction, Business.trading_name, Premises.name, Premises.postcode, OnlineStore.name,
                  OnlineStore.domain)
        .join(Business, FollowUpAction.business_id == Business.id)
        .outerjoin(Premises, FollowUpAction.premises_id == Premises.id)
        .outerjoin(OnlineStore, FollowUpAction.online_store_id == OnlineStore.id)
        .where(base).order_by(FollowUpAction.due_on, FollowUpAction.id).limit(limit)).all()
    items = [{"action": a, "business": trading, "target": p_name or s_name or s_domain or "",
              "postcode": postcode or "", "overdue": a.due_on < today, "days": (a.due_on - today).days}
             for a, trading, p_name, postcode, s_name, s_domain in rows]
    return {"overdue": overdue or 0, "due_soon": due_soon or 0, "items": items, "today": today}


def pending_enforcement(business_ids=None) -> dict[int, dict]:
    """For scoring/naming: per business, pending cautions and prosecutions and completed ones (one query)."""
    query = (sa.select(FollowUpAction.business_id, FollowUpAction.action_type, FollowUpAction.status,
                       sa.func.count())
             .where(FollowUpAction.action_type.in_([ActionType.SIMPLE_CAUTION, ActionType.PROSECUTION]))
             .group_by(FollowUpAction.business_id, FollowUpAction.action_type, FollowUpAction.status))
    if business_ids is not None:
        query = query.where(FollowUpAction.business_id.in_(list(business_ids)))
    result: dict[int, dict] = {}
    for business_id, action_type, status, count in db.session.execute(query):
        entry = result.setdefault(business_id, {"pending": 0, "cautions": 0, "prosecutions": 0})
        if status == ActionStatus.PENDING:
            entry["pending"] += count
        elif status == ActionStatus.COMPLETED:
            entry["cautions" if action_type == ActionType.SIMPLE_CAUTION else "prosecutions"] += count
    return result


def retailer_results(business_id: int) -> list[dict]:
    """The business's own results, for the retailer portal: only attempts whose letter has been sent.

    No volunteer data, no officer names beyond the letter's signatory and the authority. Retests are not listed
    (announcing one would defeat it)."""
    rows = db.session.execute(
        sa.select(TestPurchase, NotificationLetter, Premises.name, Premises.postcode, OnlineStore.name,
                  OnlineStore.domain, Operation.starts_on, Operation.ends_on)
        .join(NotificationLetter, NotificationLetter.test_purchase_id == TestPurchase.id)
        .outerjoin(Premises, TestPurchase.premises_id == Premises.id)
        .outerjoin(OnlineStore, TestPurchase.online_store_id == OnlineStore.id)
        .outerjoin(Operation, TestPurchase.operation_id == Operation.id)
        .where(TestPurchase.business_id == business_id, NotificationLetter.sent_on.is_not(None))
        .order_by(TestPurchase.purchase_date.desc(), TestPurchase.id.desc(), NotificationLetter.id.desc())
    ).all()
    ids = list(dict.fromkeys(row[0].id for row in rows))
    actions: dict[int, list[dict]] = {}
    if ids:
        for a in db.session.scalars(sa.select(FollowUpAction).where(
                FollowUpAction.test_purchase_id.in_(ids),
                FollowUpAction.action_type.in_(RETAILER_VISIBLE_ACTIONS),
                FollowUpAction.status != ActionStatus.CANCELLED).order_by(FollowUpAction.decided_on)):
            actions.setdefault(a.test_purchase_id, []).append({
                "type": a.action_type.value, "label": ACTION_LABELS[a.action_type], "status": a.status.value,
                "decided_on": a.decided_on, "court": a.court, "hearing_on": a.hearing_on,
                "court_result": a.court_result, "fine": a.fine, "costs": a.costs})
    out, seen = [], set()
    for tp, letter, p_name, postcode, s_name, s_domain, op_start, op_end in rows:
        if tp.id in seen:
            continue  # the newest sent letter only
        seen.add(tp.id)
        if op_start:
            period = f"{op_start:%d %b %Y}" if op_start == op_end else f"{op_start:%d %b %Y} – {op_end:%d %b %Y}"
        else:
            period = f"{tp.purchase_date:%B %Y}"
        out.append({
            "id": tp.id, "period": period, "channel": tp.channel.value, "kind": tp.kind.value,
            "kind_label": KIND_LABELS[tp.kind], "where": f"{p_name}, {postcode}" if p_name else (s_name or s_domain),
            "premises_id": tp.premises_id, "online_store_id": tp.online_store_id,
            "outcome": tp.outcome.value if tp.outcome else "", "outcome_label": OUTCOME_LABELS.get(tp.outcome, ""),
            "failed": tp.failed, "failing_parties": [FAILING_PARTY_LABELS[p] for p in tp.failing_parties],
            "letter_id": letter.id, "letter_sent_on": letter.sent_on, "actions": actions.get(tp.id, []),
        })
    return out


def repeat_failures(since: date, kind: str = PurchaseKind.UNDERAGE, min_failures: int = 2) -> list[tuple[int, int]]:
    """(business_id, failures) for businesses with at least `min_failures` failed tests since `since`."""
    rows = db.session.execute(
        sa.select(TestPurchase.business_id, sa.func.count())
        .where(TestPurchase.failed.is_(True), TestPurchase.kind == kind, TestPurchase.purchase_date >= since)
        .group_by(TestPurchase.business_id).having(sa.func.count() >= min_failures)
        .order_by(sa.func.count().desc())).all()
    return [(b, n) for b, n in rows]


EXPORT_COLUMNS = [
    "test_purchase_id", "kind", "channel", "stage", "purchase_date", "operation", "business_id", "business",
    "business_type", "premises", "postcode", "borough", "online_store", "listing_url", "item_category", "item_price",
    "staff_action", "sale_made", "signage_seen", "knives_secure", "checkout_dob_asked", "checkout_av_run",
    "checkout_av_provider", "order_cancelled", "parcel_marked", "courier", "age_verified_service", "delivered_to",
    "delivery_id_asked", "left_unattended", "outcome", "failed", "failing_parties", "letter_sent_on",
    "letter_channel", "follow_up_actions",
]


def _yn(value) -> str:
    return "" if value is None else ("yes" if value else "no")


def export_rows(filters: PurchaseFilters | None = None):
    """Yield CSV text for test purchases: pseudonymised (no volunteer, no tester, no officer names)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush():
        data = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow(EXPORT_COLUMNS)
    yield flush()
    query = purchases_query(filters or PurchaseFilters()).with_only_columns(TestPurchase.id)
    ids = db.session.scalars(query).all()
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        rows = db.session.execute(
            sa.select(TestPurchase, Business.trading_name, Business.business_type, Premises.name, Premises.postcode,
                      Premises.borough, OnlineStore.domain, Operation.name)
            .join(Business, TestPurchase.business_id == Business.id)
            .outerjoin(Premises, TestPurchase.premises_id == Premises.id)
            .outerjoin(OnlineStore, TestPurchase.online_store_id == OnlineStore.id)
            .outerjoin(Operation, TestPurchase.operation_id == Operation.id)
            .where(TestPurchase.id.in_(chunk))).all()
        order = {tp_id: i for i, tp_id in enumerate(chunk)}
        rows.sort(key=lambda r: order[r[0].id])
        letters = {sent.test_purchase_id: sent for sent in db.session.scalars(
            sa.select(NotificationLetter).where(NotificationLetter.test_purchase_id.in_(chunk),
                                                NotificationLetter.sent_on.is_not(None))
            .order_by(NotificationLetter.id))}
        acts: dict[int, list[str]] = {}
        for a in db.session.scalars(sa.select(FollowUpAction).where(FollowUpAction.test_purchase_id.in_(chunk))
                                    .order_by(FollowUpAction.id)):
            acts.setdefault(a.test_purchase_id, []).append(f"{a.action_type.value}:{a.status.value}")
        for tp, trading, btype, p_name, postcode, borough, domain, op_name in rows:
            letter = letters.get(tp.id)
            writer.writerow([
                tp.id, tp.kind.value, tp.channel.value, tp.stage.value, tp.purchase_date.isoformat(), op_name or "",
                tp.business_id, trading, btype.value if hasattr(btype, "value") else btype, p_name or "",
                postcode or "", borough or "", domain or "", tp.listing_url, tp.item_category,
                "" if tp.item_price is None else f"{tp.item_price:.2f}",
                tp.staff_action.value if tp.staff_action else "", _yn(tp.sale_made), _yn(tp.signage_seen),
                _yn(tp.knives_secure), _yn(tp.checkout_dob_asked), _yn(tp.checkout_av_run), tp.checkout_av_provider,
                _yn(tp.order_cancelled), _yn(tp.parcel_marked), tp.courier, _yn(tp.age_verified_service),
                tp.delivered_to.value if tp.delivered_to else "", _yn(tp.delivery_id_asked), _yn(tp.left_unattended),
                tp.outcome.value if tp.outcome else "", _yn(tp.failed),
                "|".join(p.value for p in tp.failing_parties), letter.sent_on.isoformat() if letter else "",
                letter.channel.value if letter and letter.channel else "", "|".join(acts.get(tp.id, [])),
            ])
        yield flush()


def resolve_premises(text: str, limit: int = 8) -> list[Premises]:
    """Shops matching typed text (name or postcode prefix): the no-JavaScript path of the shop picker."""
    text = (text or "").strip()
    if len(text) < 2:
        return []
    return db.session.scalars(sa.select(Premises).where(Premises.id.in_(matching_premises_ids(text)))
                              .order_by(Premises.name_key).limit(limit)).all()


def business_purchases(business_id: int, limit: int = 50) -> list[TestPurchase]:
    return db.session.scalars(with_names(
        sa.select(TestPurchase).where(TestPurchase.business_id == business_id)
        .order_by(TestPurchase.purchase_date.desc(), TestPurchase.id.desc()).limit(limit))).all()


def failing_party_choices():
    return [(p.value, label) for p, label in FAILING_PARTY_LABELS.items()]


def outcome_choices(channel: str) -> list[tuple[str, str]]:
    outcomes = IN_STORE_OUTCOMES if channel == Channel.IN_STORE else ONLINE_OUTCOMES
    return [(o.value, OUTCOME_LABELS[o]) for o in outcomes]


# --- operations and volunteers --------------------------------------------------------------------------------------

OPERATION_FIELDS = ("name", "lead_agency", "boroughs", "starts_on", "ends_on", "lead_officer_id", "officer_ids",
                    "risk_assessment_ref", "authorisation_ref", "briefing_on", "notes")
VOLUNTEER_FIELDS = ("code_name", "date_of_birth", "areas_to_avoid", "welfare_notes", "active")
CONSENT_FIELDS = ("volunteer_id", "given_by", "relationship_to_volunteer", "given_on",
                  "birth_certificate_checked_by", "photo_ref")


def _apply_plain(record, data: dict, fields) -> None:
    apply_fields(record, data, fields, nullable={"lead_officer_id", "briefing_on"})


def _validate_operation(op: Operation) -> None:
    if op.ends_on < op.starts_on:
        raise PurchaseError("The last day is before the first day.", "ends_on")
    if (op.ends_on - op.starts_on).days > 366:
        raise PurchaseError("An operation lasts a year at most: split it.", "ends_on")
    if op.briefing_on and op.briefing_on > op.ends_on:
        raise PurchaseError("The briefing is after the operation has ended.", "briefing_on")
    outside = db.session.scalar(sa.select(sa.func.count()).select_from(TestPurchase).where(
        TestPurchase.operation_id == op.id,
        sa.or_(TestPurchase.purchase_date < op.starts_on, TestPurchase.purchase_date > op.ends_on))) if op.id else 0
    if outside:
        raise PurchaseError(f"{outside} test purchase(s) of this operation fall outside these dates.", "starts_on")


def create_operation(data: dict, authority_id: int | None = None) -> Operation:
    op = Operation(authority_id=authority_id or current_authority_id())
    _apply_plain(op, data, OPERATION_FIELDS)
    _validate_operation(op)
    _share_with_named_boroughs(op)
    db.session.add(op)
    db.session.flush()
    return op


def update_operation(op: Operation, data: dict, version=None) -> Operation:
    check_version(op, version)
    _apply_plain(op, data, OPERATION_FIELDS)
    _validate_operation(op)
    _share_with_named_boroughs(op)
    db.session.flush()
    return op


def _share_with_named_boroughs(op: Operation) -> None:
    """A police operation works across the boroughs it names: those boroughs read its records (never its
    volunteers). A borough's own operation is shared with no one."""
    owner = db.session.get(Authority, op.authority_id) if op.authority_id else None
    if owner is None or not owner.runs_test_purchases_across_boroughs:
        op.shared_with = []
        return
    op.shared_with = [a for a in authorities_for_boroughs(op.boroughs) if a.id != owner.id]


def _validate_volunteer(volunteer: Volunteer) -> None:
    today = today_london()
    if volunteer.date_of_birth >= today:
        raise PurchaseError("The date of birth must be in the past.", "date_of_birth")
    if volunteer.age_on(today) < 12:
        raise PurchaseError("Volunteers are at least 12 years old.", "date_of_birth")
    query = sa.select(Volunteer.id).where(sa.func.lower(Volunteer.code_name) == volunteer.code_name.lower())
    if volunteer.id:
        query = query.where(Volunteer.id != volunteer.id)
    if db.session.scalar(query):
        raise PurchaseError(f"The code name {volunteer.code_name} is already used.", "code_name")


def create_volunteer(data: dict) -> Volunteer:
    volunteer = Volunteer()
    _apply_plain(volunteer, data, VOLUNTEER_FIELDS)
    _validate_volunteer(volunteer)
    db.session.add(volunteer)
    db.session.flush()
    return volunteer


def update_volunteer(volunteer: Volunteer, data: dict, version=None) -> Volunteer:
    check_version(volunteer, version)
    _apply_plain(volunteer, data, VOLUNTEER_FIELDS)
    _validate_volunteer(volunteer)
    db.session.flush()
    return volunteer


def add_consent(op: Operation, data: dict) -> VolunteerConsent:
    consent = VolunteerConsent(operation_id=op.id)
    _apply_plain(consent, data, CONSENT_FIELDS)
    volunteer = db.session.get(Volunteer, consent.volunteer_id) if consent.volunteer_id else None
    if volunteer is None:
        raise PurchaseError("Choose the volunteer.", "volunteer_id")
    if not volunteer.active:
        raise PurchaseError(f"{volunteer.code_name} is not an active volunteer.", "volunteer_id")
    if consent.given_on > today_london():
        raise PurchaseError("The consent date cannot be in the future.", "given_on")
    if consent.given_on > op.ends_on:
        raise PurchaseError("Consent must be given before the operation ends.", "given_on")
    if volunteer.age_on(op.starts_on) >= 18:
        raise PurchaseError(f"{volunteer.code_name} is 18 or over when the operation starts.", "volunteer_id")
    if db.session.scalar(sa.select(VolunteerConsent.id).where(VolunteerConsent.volunteer_id == volunteer.id,
                                                              VolunteerConsent.operation_id == op.id)):
        raise PurchaseError(f"Consent for {volunteer.code_name} is already recorded for this operation.",
                            "volunteer_id")
    db.session.add(consent)
    db.session.flush()
    return consent


def withdraw_consent(consent: VolunteerConsent) -> None:
    consent.withdrawn = True
    db.session.flush()
