"""The compliance score: versioned rules, factor queries aggregated in SQL, bands with a worst-factor cap, history.

Every cross-area query (test purchases, follow-up actions, training, the agreement, monitored listings) lives in
this package and reads the models only. Each factor is one set-based SELECT over all businesses (or one business)
that yields one row per record behind the points; the rows are summed per business in one pass and written with
bulk inserts. The modules, lowest first:

- `rules`: rule specs and versions, the months window, the bands
- `statements`: statements cached per scope and the failure conditions the factors and the candidate rule share
- `factors`: the factor queries
- `candidates`: the naming candidate rule and the evidence `retail.naming` reads
- `compute`: summing, storing, and the full and per-business rescore
- `queries`: reading stored scores
- `rescoring`: rescoring after a commit, the nightly job, and `listings_checked`, which the listing monitor calls

Areas above scoring tell it of their events through the functions it owns (`scoring_paused`, `listings_checked`,
`nightly_rescore`, which the scheduler runs); scoring imports none of them. This package re-exports the public names.
"""
from .candidates import (candidate_evidence, candidate_evidence_for, candidate_ids, candidate_query,
                         early_removal_evidence, enforcement_pending, enforcement_pending_ids)
from .compute import (BusinessScore, compute_scores, rescore_all, rescore_business, rescore_businesses, store_scores,
                      summarise)
from .factors import FACTOR_SOURCES, Factor, collect_factors
from .queries import current_score, record_url, score_factors, score_history, score_json
from .rescoring import (BULK_THRESHOLD, WATCHED, listings_checked, nightly_rescore, request_rescore, rescore_waiting,
                        run_requested_rescore, scoring_paused)
from .rules import (BAND_LABELS, BAND_TONES, DEFAULT_RULES, FACTOR_LABELS, GOOD, IMPROVEMENT, RULE_GROUPS, RULE_SPECS,
                    SERIOUS, RuleSpec, Rules, band_for, current_rules, months_before, rules_history, save_rules)
from .statements import PASS_OUTCOMES, underage_sales_query

__all__ = [
    "BAND_LABELS", "BAND_TONES", "BULK_THRESHOLD", "DEFAULT_RULES", "FACTOR_LABELS", "FACTOR_SOURCES", "GOOD",
    "IMPROVEMENT", "PASS_OUTCOMES", "RULE_GROUPS", "RULE_SPECS", "SERIOUS", "WATCHED",
    "BusinessScore", "Factor", "RuleSpec", "Rules",
    "band_for", "candidate_evidence", "candidate_evidence_for", "candidate_ids", "candidate_query", "collect_factors",
    "compute_scores",
    "current_rules", "current_score", "early_removal_evidence", "enforcement_pending", "enforcement_pending_ids",
    "listings_checked", "months_before", "nightly_rescore", "record_url", "rescore_all", "rescore_business",
    "rescore_businesses", "rules_history", "save_rules", "score_factors", "score_history", "score_json",
    "request_rescore", "rescore_waiting", "run_requested_rescore", "scoring_paused", "store_scores", "summarise",
    "underage_sales_query",
]
