"""Officers' words for the codes stored on records, so pages (the history table included) never show a raw code."""
from .models import purchases as P
from .models import register as R
from .models.purchases import OUTCOME_LABELS
from .rules import enforcement, items, online

_FIELD_LABELS = {
    "outcome": {o.value: label for o, label in OUTCOME_LABELS.items()},
    "enforcement_stage": {s.value: label for s, label in enforcement.STAGE_LABELS.items()},
    "court_outcome": {c.value: label for c, label in enforcement.COURT_OUTCOME_LABELS.items()},
    "item_verdict": {k.value: label for k, label in items.KIND_LABELS.items()},
    "seller_result": {r.value: label for r, label in online.RESULT_LABELS.items()},
    "courier_result": {r.value: label for r, label in online.RESULT_LABELS.items()},
    "kind": {k.value: label for k, label in P.KIND_LABELS.items()},
    "channel": {c.value: label for c, label in P.CHANNEL_LABELS.items()},
    "stage": {s.value: label for s, label in P.STAGE_LABELS.items()},
    "staff_action": {a.value: label for a, label in P.STAFF_ACTION_LABELS.items()},
    "dob_entered": {d.value: label for d, label in P.DOB_LABELS.items()},
    "delivered_to": {d.value: label for d, label in P.DELIVERED_TO_LABELS.items()},
    "lead_agency": {a.value: label for a, label in P.LEAD_AGENCY_LABELS.items()},
    "action_type": {a.value: label for a, label in P.ACTION_LABELS.items()},
    "status": {**{a.value: label for a, label in P.ACTION_STATUS_LABELS.items()},
               "booked": "Booked", "attended": "Attended", "no-show": "Did not attend", "active": "Active",
               "suspended": "Suspended", "withdrawn": "Withdrawn", "trading": "Trading", "closed": "Closed"},
    "business_type": {b.value: label for b, label in R.BUSINESS_TYPE_LABELS.items()},
    "display": {d.value: label for d, label in R.DISPLAY_LABELS.items()},
    "platform": {p.value: label for p, label in R.PLATFORM_LABELS.items()},
    "scheme": {s.value: label for s, label in R.RRA_SCHEME_LABELS.items()},
}


def value_label(field: str, value):
    """The label for a stored value of `field`, or the value itself when the field has no coded values."""
    if field == "item_category" and isinstance(value, str):
        return items.category_label(value)
    labels = _FIELD_LABELS.get(field)
    if labels is None or value is None:
        return value
    key = value.value if hasattr(value, "value") else value
    return labels.get(key, value)
