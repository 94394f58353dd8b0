"""Logging test purchase attempts: in store in one go, online in stages (order, dispatch, delivery, outcome), plain
edits until the letter is sent and amendments after it."""

from ..audit import record_event, set_reason
from ..extensions import db
from ..models.purchases import Channel, Outcome, PurchaseKind, Stage, TestPurchase
from ..register import check_version
from ..timeutil import today_london
from .actions import complete_pending_retests, sync_retest
from .errors import LetterAlreadySent, PurchaseError
from .letters import sync_letter
from .outcomes import apply_online_judgment
from .validation import (DELIVERY_FIELDS, DISPATCH_FIELDS, IN_STORE_FIELDS, ORDER_FIELDS, apply_purchase_fields,
                         fields_for, validate_in_store, validate_order, validate_stages)


def create_in_store(data: dict, user=None) -> TestPurchase:
    """Log an in-store attempt: validated, outcome derived, letter drafted, retest scheduled after a failure."""
    tp = TestPurchase(channel=Channel.IN_STORE, stage=Stage.CONCLUDED, created_by_id=getattr(user, "id", None),
                      letters=[], actions=[])
    apply_purchase_fields(tp, data, IN_STORE_FIELDS)
    tp.kind = PurchaseKind(tp.kind or PurchaseKind.UNDERAGE)
    validate_in_store(tp, bool(data.get("aborted")))
    db.session.add(tp)
    db.session.flush()
    _conclude(tp, user)
    return tp


def check_in_store(data: dict) -> None:
    """Every rule an in-store entry breaks, raised together, with nothing saved: used when the form itself was
    refused, so the officer sees all the problems in one round trip rather than one kind per submit."""
    tp = TestPurchase(channel=Channel.IN_STORE, stage=Stage.CONCLUDED)
    with db.session.no_autoflush:
        apply_purchase_fields(tp, data, IN_STORE_FIELDS)
        tp.kind = PurchaseKind(tp.kind or PurchaseKind.UNDERAGE)
        validate_in_store(tp, bool(data.get("aborted")))


def create_online(data: dict, user=None) -> TestPurchase:
    """Stage 1 of an online attempt: the order and what the checkout asked."""
    tp = TestPurchase(channel=Channel.ONLINE, stage=Stage.ORDERED, created_by_id=getattr(user, "id", None),
                      letters=[], actions=[])
    apply_purchase_fields(tp, data, ORDER_FIELDS)
    tp.kind = PurchaseKind(tp.kind or PurchaseKind.UNDERAGE)
    validate_order(tp)
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
    apply_purchase_fields(tp, data, DISPATCH_FIELDS)
    if not tp.dispatched_on:
        raise PurchaseError("Enter the dispatch date.", "dispatched_on")
    validate_stages(tp)
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
    apply_purchase_fields(tp, data, DELIVERY_FIELDS)
    if not tp.delivered_on:
        raise PurchaseError("Enter the delivery (or attempted delivery) date.", "delivered_on")
    if not tp.delivered_to:
        raise PurchaseError("Say where it was delivered.", "delivered_to")
    validate_stages(tp)
    if tp.stage in (Stage.ORDERED, Stage.DISPATCHED):
        tp.stage = Stage.DELIVERED
    db.session.flush()
    return tp


def conclude_online(tp: TestPurchase, version=None, user=None, inconclusive: bool = False) -> TestPurchase:
    """Conclude the attempt: each party judged from the facts recorded (the seller can fail although the courier
    refused at the door; a courier's failure is the courier's). Drafts the letters and, after a seller's failure,
    the retest. `inconclusive`: the attempt was abandoned."""
    check_version(tp, version)
    _require_online(tp)
    if tp.sent_letter:
        raise LetterAlreadySent()
    if inconclusive:
        tp.outcome = Outcome.INCONCLUSIVE
        tp.checkout_failed = tp.dispatch_failed = tp.courier_failed = False
    else:
        if not (tp.order_cancelled or tp.delivered_on):
            raise PurchaseError("Record the delivery (or the cancelled order) before concluding.", "outcome")
        apply_online_judgment(tp)
    tp.stage = Stage.CONCLUDED
    db.session.flush()
    _conclude(tp, user)
    return tp


def _conclude(tp: TestPurchase, user=None) -> None:
    tp.failed = bool(tp.outcome and tp.outcome.failed)
    tp.concluded_on = tp.concluded_on or today_london()
    complete_pending_retests(tp)
    sync_letter(tp, user)
    sync_retest(tp, user)
    db.session.flush()


def _revalidate(tp: TestPurchase, data: dict) -> None:
    if tp.channel == Channel.IN_STORE:
        validate_in_store(tp, bool(data.get("aborted", tp.outcome == Outcome.INCONCLUSIVE)))
    else:
        validate_order(tp)
        validate_stages(tp)
        if tp.stage == Stage.CONCLUDED and tp.outcome != Outcome.INCONCLUSIVE:
            apply_online_judgment(tp)


def update_purchase(tp: TestPurchase, data: dict, version=None, user=None) -> TestPurchase:
    """A plain edit, allowed until the letter has been sent."""
    check_version(tp, version)
    if tp.sent_letter:
        raise LetterAlreadySent()
    apply_purchase_fields(tp, data, fields_for(tp))
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
    before = {f: getattr(tp, f) for f in fields_for(tp)}
    set_reason(f"Amendment: {reason}")
    apply_purchase_fields(tp, data, fields_for(tp))
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
            sync_letter(tp, user, replaces=sent)
        sync_retest(tp, user)
        db.session.flush()
    return tp


def _plain(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value.value if hasattr(value, "value") else value
    return str(value)
