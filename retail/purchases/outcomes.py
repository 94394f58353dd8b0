"""Outcome rules: the in-store outcome derived from what staff did, the online outcome checked against its stages."""
from ..models.purchases import (FAILING_PARTY_LABELS, IN_STORE_OUTCOMES, ONLINE_OUTCOMES, OUTCOME_LABELS, Channel,
                                DeliveredTo, FailingParty, Outcome, StaffAction, TestPurchase)
from .errors import PurchaseError


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


def set_failing_parties(tp: TestPurchase, parties) -> None:
    parties = {FailingParty(p) for p in parties}
    tp.checkout_failed = FailingParty.SELLER_CHECKOUT in parties
    tp.dispatch_failed = FailingParty.SELLER_DISPATCH in parties
    tp.courier_failed = FailingParty.COURIER in parties


def failing_party_choices():
    return [(p.value, label) for p, label in FAILING_PARTY_LABELS.items()]


def outcome_choices(channel: str) -> list[tuple[str, str]]:
    outcomes = IN_STORE_OUTCOMES if channel == Channel.IN_STORE else ONLINE_OUTCOMES
    return [(o.value, OUTCOME_LABELS[o]) for o in outcomes]
