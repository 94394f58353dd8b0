"""Test purchases: the rules for logging attempts, their outcomes, letters and follow-up, and the queries other areas
call. The modules, lowest first:

- `errors`: PurchaseError and LetterAlreadySent
- `items`: the item tried, judged by the rules layer (article, exempt, prohibited)
- `outcomes`: the outcome rules (in store derived; online judged per party by the rules layer)
- `validation`: reading the form fields into a record and checking them
- `actions`: follow-up actions and the retest scheduled after a failure
- `letters`: notification letters, drafted in step with the record, rendered and marked sent
- `attempts`: creating and changing attempts (in store, online by stage, edits, amendments)
- `operations`: operations, volunteers and consent
- `queries` and `export`: lists, panels, the retailer's own results, the CSV export

This package re-exports their public names, so `from retail import purchases as P; P.create_in_store(...)` works.
Nothing here returns volunteer data to a retailer-facing caller.
"""
from ..register import StaleRecord
from .actions import (ACTION_FIELDS, RETEST_MONTHS, add_action, add_months, complete_pending_retests,
                      default_retest_due, enforcement_summary, primary_authority_name, sync_enforcement_stage,
                      sync_retest, update_action)
from .attempts import (amend_purchase, check_in_store, conclude_online, create_in_store, create_online, record_delivery,
                       record_dispatch, update_purchase)
from .errors import LetterAlreadySent, PurchaseError
from .export import EXPORT_COLUMNS, export_rows
from .letters import (letter_context, letter_html, letter_period, letter_template, mark_letters_sent,
                      render_letter_body, sync_letter, unsent_letters)
from .operations import (CONSENT_FIELDS, OPERATION_FIELDS, VOLUNTEER_FIELDS, add_consent, create_operation,
                         create_volunteer, current_operations, operations_this_week, update_operation,
                         update_volunteer,
                         volunteer_availability, volunteers_for_operation, withdraw_consent)
from .items import ITEM_FIELDS, judge_item, verdict_label
from .outcomes import apply_online_judgment, derive_in_store_outcome, judge_online, online_facts
from .queries import (LIST_ORDER, RETEST_PANEL_DAYS, PurchaseFilters, business_purchases, couriers, pending_enforcement,
                      purchases_query, repeat_failures, resolve_premises, retailer_results, retests_due, with_names)
from .validation import (BOOL_FIELDS, DELIVERY_FIELDS, DISPATCH_FIELDS, IN_STORE_FIELDS, ORDER_FIELDS,
                         SAFEGUARD_FIELDS, apply_purchase_fields, check_listing_url, fields_for, validate_in_store,
                         validate_order, validate_stages)


__all__ = [
    "ACTION_FIELDS", "BOOL_FIELDS", "CONSENT_FIELDS", "DELIVERY_FIELDS", "DISPATCH_FIELDS", "EXPORT_COLUMNS",
    "IN_STORE_FIELDS", "ITEM_FIELDS", "OPERATION_FIELDS", "ORDER_FIELDS", "RETEST_MONTHS", "RETEST_PANEL_DAYS",
    "SAFEGUARD_FIELDS", "VOLUNTEER_FIELDS", "add_action", "add_consent", "add_months", "amend_purchase",
    "apply_online_judgment", "apply_purchase_fields", "business_purchases", "check_listing_url",
    "check_in_store", "complete_pending_retests", "conclude_online", "couriers", "create_in_store", "create_online",
    "create_operation",
    "create_volunteer", "current_operations", "operations_this_week", "default_retest_due", "derive_in_store_outcome",
    "enforcement_summary",
    "export_rows", "fields_for", "judge_item", "judge_online", "letter_context", "letter_html", "letter_period",
    "letter_template", "LetterAlreadySent", "mark_letters_sent", "online_facts", "pending_enforcement",
    "primary_authority_name", "PurchaseError", "PurchaseFilters", "LIST_ORDER", "purchases_query", "record_delivery",
    "record_dispatch", "render_letter_body", "repeat_failures", "resolve_premises", "retailer_results", "retests_due",
    "StaleRecord", "sync_enforcement_stage", "sync_letter", "sync_retest", "unsent_letters", "update_action",
    "update_operation", "update_purchase", "update_volunteer", "validate_in_store", "validate_order",
    "validate_stages", "verdict_label", "volunteer_availability", "volunteers_for_operation",
    "with_names", "withdraw_consent",
]
