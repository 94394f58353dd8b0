"""The naming workflow: candidate → proposed → approved for notice → notice sent → representations → decided →
(appeal: naming_appeal) → published → removed. Every step records who, when and why; the fairness rules are checked
here, not in the views. The modules, lowest first:

- `rules`: the limits, who may propose and decide, NamingError, the step record and the two-person checks
- `candidacy`: the candidates list, those held by pending enforcement, the evidence a case keeps
- `workflow`: opening a case, the proposal, approval of the notice (or rejection), the notice, representations and
  attachments, the decision
- `publication`: whether a case may be published, publishing, early removal, withdrawal, expiry (and its nightly job)
- `reply`: the business's right of reply and the supervisor's check of it
- `queries`: lists for the pages (by stage, the retailer's own cases and what they cite, what waits for whom)
- `panels`: the retailer's portal section, the home panel and the timeline, registered when this package is imported

This package re-exports their names (with the step helpers naming_appeal and naming_correction share), so
`from retail import naming; naming.open_case(...)` works. The public register lives in naming_public, appeals in
naming_appeal, corrections in naming_correction.
"""
from .candidacy import CANDIDATES_PER_PAGE, candidates, held_candidates
from .panels import portal_section
from .publication import (can_publish, confirm_withdrawal, expire_published, nightly_expire, publish, remove_early,
                          request_withdrawal, withdraw, withdrawn_query)
from .queries import cases_by_stage, cited_records, retailer_case, retailer_cases, stage_counts, waiting_for
from .reply import check_reply, submit_reply
from .rules import (ALLOWED_ATTACHMENT_TYPES, APPEAL_ALLOWED, APPEAL_REFUSED, DECIDERS, EDIT_ACTIONS,
                    MAX_ATTACHMENT_BYTES, MAX_STATEMENT, MAX_TEXT, PROPOSERS, NamingError, _require, _require_role,
                    _step, _text, appeal_deciders_excluded, editor_ids, involved_user_ids, lock_case, open_case_for,
                    window_open)
from .workflow import (add_attachment, approve_notice, decide, open_case, propose, reject_proposal, send_notice,
                       submit_representations)


__all__ = [
    "ALLOWED_ATTACHMENT_TYPES", "APPEAL_ALLOWED", "APPEAL_REFUSED", "CANDIDATES_PER_PAGE", "DECIDERS", "EDIT_ACTIONS",
    "MAX_ATTACHMENT_BYTES", "MAX_STATEMENT", "MAX_TEXT", "NamingError", "PROPOSERS", "_require", "_require_role",
    "_step", "_text", "add_attachment", "appeal_deciders_excluded", "approve_notice", "can_publish", "candidates",
    "cases_by_stage", "check_reply", "cited_records", "confirm_withdrawal", "decide", "editor_ids",
    "expire_published", "held_candidates", "involved_user_ids", "lock_case", "nightly_expire", "open_case",
    "open_case_for", "portal_section", "propose", "publish", "reject_proposal", "remove_early", "request_withdrawal",
    "retailer_case", "retailer_cases", "send_notice", "stage_counts", "submit_reply", "submit_representations",
    "waiting_for", "window_open", "withdraw", "withdrawn_query",
]
