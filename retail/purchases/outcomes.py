"""Outcome rules: the in-store outcome derived from what staff did and the item sold; the online outcome judged per
party from the facts recorded at each stage (retail.rules.online: the seller under s.141A/s.141B and s.38, the courier
under s.39/s.42)."""
from ..models.purchases import DeliveredTo, Outcome, PurchaseKind, StaffAction, TestPurchase
from ..rules import items as item_rules
from ..rules import online as online_rules
from .errors import PurchaseError, PurchaseErrors


def derive_in_store_outcome(staff_action: str | None, sale_made: bool | None, aborted: bool = False,
                            item_verdict: str | None = None, kind: str = PurchaseKind.UNDERAGE) -> Outcome:
    """The in-store outcome code follows from what staff did and whether they sold; contradictions are refused.
    An exempt item sold to a volunteer is no offence (s.141A(3), brief 1.1), never a failure."""
    if aborted:
        return Outcome.INCONCLUSIVE
    missing = [PurchaseError(message, field) for field, message, absent in (
        ("staff_action", "Say what the staff did.", not staff_action),
        ("sale_made", "Say whether the item was sold.", sale_made is None)) if absent]
    if len(missing) > 1:
        raise PurchaseErrors(missing)
    if missing:
        raise missing[0]
    action = StaffAction(staff_action)
    if sale_made:
        if action == StaffAction.REFUSED:
            raise PurchaseError("Staff cannot have refused and sold: check 'what staff did' or 'sold'.", "sale_made")
        if item_verdict == item_rules.Kind.EXEMPT and kind == PurchaseKind.UNDERAGE:
            return Outcome.NO_OFFENCE_EXEMPT_ITEM
        if action == StaffAction.NO_CHALLENGE:
            return Outcome.FAIL_SOLD_NO_CHALLENGE
        return Outcome.FAIL_SOLD_AFTER_CHALLENGE
    if action == StaffAction.NO_CHALLENGE:
        raise PurchaseError("No challenge and no sale: if the attempt was abandoned, tick 'aborted'.", "staff_action")
    return Outcome.PASS_ID_REQUESTED_REFUSED if action == StaffAction.ASKED_ID else Outcome.PASS_REFUSED


def online_facts(tp) -> online_rules.Facts:
    """The facts the per-party judgment needs, from a TestPurchase or a mapping of its columns (the demo's rows)."""
    get = tp.get if isinstance(tp, dict) else lambda name: getattr(tp, name)

    def plain(name):
        value = get(name)
        return value.value if hasattr(value, "value") else value

    return online_rules.Facts(
        order_cancelled=get("order_cancelled"), checkout_av_run=get("checkout_av_run"),
        checkout_id_upload=get("checkout_id_upload"), dob_entered=plain("dob_entered"),
        dispatched=get("dispatched_on") is not None, parcel_marked=get("parcel_marked"),
        age_verified_service=get("age_verified_service"), delivered=get("delivered_on") is not None,
        delivered_to=plain("delivered_to"), residential=get("residential_premises"),
        delivery_id_asked=get("delivery_id_asked"), left_unattended=get("left_unattended"),
        left_with_neighbour=get("left_with_neighbour"), overseas_seller=get("overseas_seller"))


def judge_online(tp: TestPurchase) -> online_rules.Judgment:
    return online_rules.judge(online_facts(tp))


def online_outcome(facts: online_rules.Facts, judgment: online_rules.Judgment, item_verdict: str | None = None,
                   kind: str = PurchaseKind.UNDERAGE) -> Outcome:
    """The outcome code the per-party judgment comes to; facts the verdict needs but lack are refused with what is
    missing (the demo generator uses this too, so its records follow the same rules)."""
    seller, courier = judgment.seller, judgment.courier
    handed_over = facts.delivered_to not in (DeliveredTo.NOT_DELIVERED.value, None)
    if facts.order_cancelled:
        return Outcome.PASS_REFUSED_AT_CHECKOUT
    if seller.result == online_rules.Result.NOT_RECORDED:
        raise PurchaseError("The seller cannot be judged yet: " + " ".join(seller.reasons), "outcome")
    if item_verdict == item_rules.Kind.EXEMPT and kind == PurchaseKind.UNDERAGE and handed_over:
        return Outcome.NO_OFFENCE_EXEMPT_ITEM
    if seller.failed:
        if not handed_over:
            return Outcome.FAIL_SELLER_NO_SAFEGUARDS
        if facts.delivered_to == DeliveredTo.LOCKER.value:
            return Outcome.FAIL_DELIVERED_TO_LOCKER
        if facts.left_unattended or facts.left_with_neighbour:
            return Outcome.FAIL_LEFT_UNATTENDED
        return Outcome.FAIL_DELIVERED_NO_AGE_CHECK
    if courier.failed:
        return Outcome.PASS_SELLER_COURIER_FAILED
    if courier.result == online_rules.Result.PASSED:
        return Outcome.PASS_REFUSED_AT_DELIVERY
    if courier.result == online_rules.Result.NOT_RECORDED:
        raise PurchaseError("The courier cannot be judged yet: " + " ".join(courier.reasons), "outcome")
    raise PurchaseError("The seller met every s.141B condition and the delivery was not to residential premises, so "
                        "neither party committed an offence: mark the attempt inconclusive and say why in the notes.",
                        "outcome")


def party_failures(judgment: online_rules.Judgment, outcome: Outcome) -> tuple[bool, bool, bool]:
    """(checkout failed, dispatch failed, courier failed): condition A is the checkout; B, C and D the dispatch."""
    seller_failed = outcome.failed
    conditions = judgment.conditions
    checkout = seller_failed and conditions.get(online_rules.Condition.A) == online_rules.UNMET
    dispatch = seller_failed and any(conditions.get(c) == online_rules.UNMET for c in (
        online_rules.Condition.B, online_rules.Condition.C, online_rules.Condition.D))
    return checkout, dispatch, judgment.courier.failed


def apply_online_judgment(tp: TestPurchase) -> online_rules.Judgment:
    """Judge each party from the recorded facts and keep the verdicts, the conditions and the outcome on the record."""
    facts = online_facts(tp)
    judgment = online_rules.judge(facts)
    tp.outcome = online_outcome(facts, judgment, tp.item_verdict, tp.kind)
    tp.checkout_failed, tp.dispatch_failed, tp.courier_failed = party_failures(judgment, tp.outcome)
    tp.seller_result = judgment.seller.result.value
    tp.courier_result = judgment.courier.result.value
    tp.conditions = {c.value: state for c, state in judgment.conditions.items()}
    if tp.courier_failed and not tp.courier_business_id:
        raise PurchaseError("The courier failed: choose the courier from the register (add it as a business of type "
                            "'Courier' if it is not there), so it gets its own letter.", "courier_business_id")
    return judgment
