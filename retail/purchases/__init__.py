"""Test purchases: the rules for logging attempts, their outcomes, letters and follow-up, and the queries other areas
call. The modules, lowest first:

- `errors`: PurchaseError and LetterAlreadySent
- `outcomes`: the outcome rules (in store derived, online checked against the stages)
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
                      default_retest_due, sync_retest, update_action)
from .attempts import (amend_purchase, conclude_online, create_in_store, create_online, record_delivery,
                       record_dispatch, update_purchase)
from .errors import LetterAlreadySent, PurchaseError
from .export import EXPORT_COLUMNS, export_rows
from .letters import (letter_context, letter_html, letter_period, letter_template, mark_letters_sent,
                      render_letter_body, sync_letter, unsent_letters)
from .operations import (CONSENT_FIELDS, OPERATION_FIELDS, VOLUNTEER_FIELDS, add_consent, create_operation,
                         create_volunteer, current_operations, update_operation, update_volunteer,
                         volunteers_for_operation, withdraw_consent)
from .outcomes import (check_online_outcome, derive_in_store_outcome, failing_party_choices, outcome_choices,
                       set_failing_parties, suggest_failing_parties)
from .queries import (RETEST_PANEL_DAYS, PurchaseFilters, business_purchases, pending_enforcement, purchases_query,
                      repeat_failures, resolve_premises, retailer_results, retests_due, with_names)
from .validation import (BOOL_FIELDS, DELIVERY_FIELDS, DISPATCH_FIELDS, IN_STORE_FIELDS, ORDER_FIELDS,
                         apply_purchase_fields, check_listing_url, fields_for, validate_in_store, validate_order,
                         validate_stages)


__all__ = [
    "ACTION_FIELDS", "BOOL_FIELDS", "CONSENT_FIELDS", "DELIVERY_FIELDS", "DISPATCH_FIELDS", "EXPORT_COLUMNS",
    "IN_STORE_FIELDS", "OPERATION_FIELDS", "ORDER_FIELDS", "RETEST_MONTHS", "RETEST_PANEL_DAYS", "VOLUNTEER_FIELDS",
    "LetterAlreadySent", "PurchaseError", "PurchaseFilters", "StaleRecord",
    "add_action", "add_consent", "add_months", "amend_purchase", "apply_purchase_fields", "business_purchases",
    "check_listing_url", "check_online_outcome", "complete_pending_retests", "conclude_online", "create_in_store",
    "create_online", "create_operation", "create_volunteer", "current_operations", "default_retest_due",
    "derive_in_store_outcome", "export_rows", "failing_party_choices", "fields_for", "letter_context", "letter_html",
    "letter_period", "letter_template", "mark_letters_sent", "outcome_choices", "pending_enforcement",
    "purchases_query", "record_delivery", "record_dispatch", "render_letter_body", "repeat_failures",
    "resolve_premises", "retailer_results", "retests_due", "set_failing_parties", "suggest_failing_parties",
    "sync_letter", "sync_retest", "unsent_letters", "update_action", "update_operation", "update_purchase",
    "update_volunteer", "validate_in_store", "validate_order", "validate_stages", "volunteers_for_operation",
    "with_names", "withdraw_consent",
]
