"""Officers' words for the codes stored on records, so pages (the history table included) never show a raw code."""
from .models.purchases import OUTCOME_LABELS, Outcome
from .rules import enforcement, items, online

_FIELD_LABELS = {
    "outcome": {o.value: label for o, label in OUTCOME_LABELS.items()},
    "enforcement_stage": {s.value: label for s, label in enforcement.STAGE_LABELS.items()},
    "court_outcome": {c.value: label for c, label in enforcement.COURT_OUTCOME_LABELS.items()},
    "item_verdict": {k.value: label for k, label in items.KIND_LABELS.items()},
    "seller_result": {r.value: label for r, label in online.RESULT_LABELS.items()},
    "courier_result": {r.value: label for r, label in online.RESULT_LABELS.items()},
}


def value_label(field: str, value):
    """The label for a stored value of `field`, or the value itself when the field has no coded values."""
    if field == "item_category" and isinstance(value, str):
        return items.category_label(value)
    labels = _FIELD_LABELS.get(field)
    if labels is None or value is None:
        return value
    key = value.value if isinstance(value, Outcome) else value
    return labels.get(key, value)
