"""Candidacy: businesses whose score meets the candidate rule, those held by pending enforcement, the evidence kept."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from .. import scoring
from ..extensions import db
from ..models.compliance import ComplianceScore, NamingCase
from ..models.register import Business

CANDIDATES_PER_PAGE = 50


def candidates(today: date | None = None, page: int = 1, per_page: int = CANDIDATES_PER_PAGE):
    """Businesses whose current score says they meet the candidate rule, highest score first, a page at a time:
    (entries with their evidence and any open case, the paginator). A fixed number of statements per page."""
    query = (sa.select(ComplianceScore).join(Business, Business.id == ComplianceScore.business_id)
             .options(sa.orm.contains_eager(ComplianceScore.business))
             .where(ComplianceScore.current.is_(True), ComplianceScore.candidate.is_(True))
             .order_by(ComplianceScore.total.desc(), Business.trading_name_key, Business.id))
    pager = db.paginate(query, page=page, per_page=per_page, error_out=False, max_per_page=per_page)
    scores = list(pager.items)
    ids = [score.business_id for score in scores]
    cases = {}
    if ids:
        for case in db.session.scalars(sa.select(NamingCase).where(NamingCase.business_id.in_(ids))
                                       .order_by(NamingCase.id)):
            cases[case.business_id] = case
    evidence = scoring.candidate_evidence_for(ids, today, scoring.current_rules())  # one query each, not per row
    entries = [{"score": score, "business": score.business, "case": cases.get(score.business_id),
                "evidence": evidence[score.business_id]} for score in scores]
    return entries, pager


def held_candidates() -> list[tuple[ComplianceScore, Business]]:
    """Businesses that would be candidates but a caution or prosecution decision is pending, by trading name.

    Sorted here, not in SQL: asked for them in name order, SQLite with statistics (after ANALYZE) walked every
    business in the name index and probed each one's score (550 ms at UK scale) rather than read the few held
    scores from (current, enforcement_pending) and sort them (1 ms). There are tens or hundreds of them."""
    rows = db.session.execute(
        sa.select(ComplianceScore, Business).join(Business, Business.id == ComplianceScore.business_id)
        .where(ComplianceScore.current.is_(True), ComplianceScore.enforcement_pending.is_(True))).all()
    return sorted(rows, key=lambda row: (row[1].trading_name_key or "", row[1].id))


def _evidence_snapshot(evidence: dict) -> list[dict]:
    items = []
    for key in ("sales", "refusals"):
        for item in evidence[key]:
            items.append({"kind": "sale" if key == "sales" else "refusal", "date": item["date"].isoformat(),
                          "record": item["record"], "description": item["description"]})
    return items
