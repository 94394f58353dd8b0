"""Reading stored scores: the current one, the trend, its factors, the page behind each factor, the JSON form."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from werkzeug.routing import BuildError

from ..extensions import db
from ..models.compliance import ComplianceScore, ScoreFactor
from ..models.register import Business
from .compute import BusinessScore


def current_score(business_id: int) -> ComplianceScore | None:
    return db.session.scalar(sa.select(ComplianceScore).where(ComplianceScore.business_id == business_id,
                                                              ComplianceScore.current.is_(True))
                             .order_by(ComplianceScore.id.desc()).limit(1))


def score_history(business_id: int, limit: int = 24) -> list[ComplianceScore]:
    """Oldest first, for the trend."""
    rows = db.session.scalars(sa.select(ComplianceScore).where(ComplianceScore.business_id == business_id)
                              .order_by(ComplianceScore.id.desc()).limit(limit)).all()
    return list(reversed(rows))


def score_factors(score_id: int) -> list[ScoreFactor]:
    return db.session.scalars(sa.select(ScoreFactor).where(ScoreFactor.score_id == score_id)
                              .order_by(ScoreFactor.points.desc(), ScoreFactor.id)).all()


def record_url(record_type: str, record_id: int) -> str | None:
    """The page of the record behind a factor (None when its area has no page for it)."""
    options = {
        "test_purchase": [("purchases.view", "purchase_id")],
        "invitation": [("training.invitation_view", "invitation_id")],
        "listing": [("monitor.listing_view", "listing_id")],
        "signature": [("register.rra_view", "signature_id")],
        "premises": [("register.premises_view", "premises_id")],
        "business": [("register.business_view", "business_id")],
        "attendance": [],
        "training_refusal": [],
    }
    for endpoint, arg in options.get(record_type, []):
        try:
            return url_for(endpoint, **{arg: record_id})
        except BuildError:
            continue
    return None


def score_json(scores: dict[int, BusinessScore]) -> list[dict]:
    names = dict(db.session.execute(sa.select(Business.id, sa.func.coalesce(
        sa.func.nullif(Business.trading_name, ""), Business.legal_name)).where(Business.id.in_(list(scores)))).all()) \
        if len(scores) < 30000 else dict(db.session.execute(sa.select(Business.id, sa.func.coalesce(
            sa.func.nullif(Business.trading_name, ""), Business.legal_name))).all())
    return [{"business_id": s.business_id, "name": names.get(s.business_id, ""), "score": s.total, "band": s.band,
             "candidate": s.candidate,
             "factors": [{"kind": f.kind, "points": f.points, "date": f.on.isoformat() if f.on else None,
                          "record": f.record, "description": f.description} for f in s.factors]}
            for s in sorted(scores.values(), key=lambda s: s.business_id)]
