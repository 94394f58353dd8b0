"""The item tried, read from the officer's entry and judged by the rules layer (retail.rules.items, brief 1.1/1.4):
an article under s.141A, an exempt item, or a prohibited weapon, with the reason kept on the record."""
from decimal import Decimal, InvalidOperation

from ..models.purchases import TestPurchase
from ..rules import items as item_rules
from .errors import PurchaseError

ITEM_FIELDS = ("item_blade_length_cm", "item_locking", "item_features", "item_cartridge_exposure_under_2mm",
               "item_traditional_or_antique")
ITEM_BOOL_FIELDS = {"item_locking", "item_cartridge_exposure_under_2mm", "item_traditional_or_antique"}
# rules.items.check_measurements names fields without the record's `item_` prefix.
_RULE_FIELD = {"blade_length_cm": "item_blade_length_cm", "locking": "item_locking",
               "cartridge_exposure_under_2mm": "item_cartridge_exposure_under_2mm"}


def read_blade_length(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        length = Decimal(str(value).strip().lower().removesuffix("cm").strip())
    except InvalidOperation as exc:
        raise PurchaseError("Enter the blade length in centimetres, e.g. 7.5.", "item_blade_length_cm") from exc
    if not length.is_finite():
        raise PurchaseError("Enter the blade length in centimetres, e.g. 7.5.", "item_blade_length_cm")
    return length.quantize(Decimal("0.01"))


def read_features(value) -> list[str] | None:
    if value in (None, "", []):
        return None
    values = [value] if isinstance(value, str) else list(value)
    known = {f.value for f in item_rules.Feature}
    unknown = [v for v in values if v not in known]
    if unknown:
        raise PurchaseError(f"'{unknown[0]}' is not a blade feature this form knows.", "item_features")
    return [f.value for f in item_rules.Feature if f.value in values]


def item_of(tp: TestPurchase) -> item_rules.Item:
    return item_rules.Item(
        category=tp.item_category or "", blade_length_cm=tp.item_blade_length_cm,
        folding=None, locking=tp.item_locking, features=frozenset(tp.item_features or ()),
        cartridge_exposure_under_2mm=tp.item_cartridge_exposure_under_2mm,
        traditional_or_antique=tp.item_traditional_or_antique, description=tp.item_description or "")


def judge_item(tp: TestPurchase, *, new: bool) -> item_rules.Verdict:
    """Check the measurements and keep the verdict on the record. A new record must give what the verdict needs
    (a folding knife's length and lock, a curved sword's length...); an older record being edited keeps whatever
    it never recorded as "not recorded" rather than being blocked."""
    item = item_of(tp)
    for field, message in item_rules.check_measurements(item):
        field = _RULE_FIELD.get(field, field)
        if new or getattr(tp, field) is not None:
            raise PurchaseError(message, field)
    verdict = item_rules.judge(item, tp.purchase_date)
    tp.item_verdict = verdict.kind.value
    tp.item_verdict_reason = verdict.reason
    return verdict


def verdict_label(tp: TestPurchase) -> str:
    """The item's standing in officers' words, for the record page, letters and exports."""
    if not tp.item_verdict:
        return "Not recorded (logged before items were judged)"
    if tp.item_verdict == item_rules.Kind.PROHIBITED:
        return "Prohibited weapon"
    return item_rules.KIND_LABELS[item_rules.Kind(tp.item_verdict)]
