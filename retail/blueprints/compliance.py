"""Compliance scores: the list, one business's breakdown and trend, naming candidates, and the scoring rules."""
import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import naming, scoring
from ..access import DECIDERS, OPERATIONAL, STAFF, roles_required
from ..extensions import db
from ..models.compliance import ComplianceScore
from ..models.register import Business, OnlineStore, Premises
from ..nav import add_nav
from ..register import BUSINESS_SECTIONS
from ..validation import InvalidValue

bp = Blueprint("compliance", __name__)

add_nav("Scores", "compliance.scores", STAFF, 40)
add_nav("Candidates", "compliance.candidates", STAFF, 41)


def trend_points(history, width: int = 240, height: int = 48) -> dict:
    """Server-side sparkline of the score's totals (oldest first), as SVG polyline points."""
    if not history:
        return {"points": "", "width": width, "height": height, "max": 0}
    top = max(max(s.total for s in history), 1)
    step = width / max(len(history) - 1, 1)
    pts = [(round(i * step, 1), round(height - 4 - (s.total / top) * (height - 8), 1)) for i, s in enumerate(history)]
    return {"points": " ".join(f"{x},{y}" for x, y in pts), "width": width, "height": height, "max": top,
            "last": pts[-1]}


def score_context(business_id: int) -> dict | None:
    score = scoring.current_score(business_id)
    if score is None:
        return None
    factors = scoring.score_factors(score.id)
    history = scoring.score_history(business_id)
    premises_ids = {f.premises_id for f in factors if f.premises_id}
    store_ids = {f.online_store_id for f in factors if f.online_store_id}
    premises = {p.id: p for p in db.session.scalars(sa.select(Premises).where(Premises.id.in_(premises_ids)))} \
        if premises_ids else {}
    stores = {s.id: s for s in db.session.scalars(sa.select(OnlineStore).where(OnlineStore.id.in_(store_ids)))} \
        if store_ids else {}
    breakdown: dict = {}
    for f in factors:
        key = ("premises", f.premises_id) if f.premises_id else (("store", f.online_store_id) if f.online_store_id
                                                                  else ("business", None))
        breakdown.setdefault(key, 0)
        breakdown[key] += f.points
    rows = []
    for (kind, rid), points in sorted(breakdown.items(), key=lambda kv: -kv[1]):
        if kind == "premises" and rid in premises:
            rows.append({"label": f"{premises[rid].name}, {premises[rid].postcode}", "points": points,
                         "url": url_for("register.premises_view", premises_id=rid)})
        elif kind == "store" and rid in stores:
            rows.append({"label": f"Online: {stores[rid].display_name}", "points": points,
                         "url": url_for("register.store_view", store_id=rid)})
        else:
            rows.append({"label": "Business as a whole", "points": points, "url": None})
    return {"score": score, "factors": factors, "history": history, "trend": trend_points(history),
            "breakdown": rows, "labels": scoring.FACTOR_LABELS, "band_labels": scoring.BAND_LABELS,
            "band_tones": scoring.BAND_TONES, "record_url": scoring.record_url,
            "case": naming.open_case_for(business_id)}


def business_score_section(business, viewer) -> dict | None:
    if viewer is None or not getattr(viewer, "is_staff", False):
        return None
    context = score_context(business.id)
    return {"title": "Compliance score", "template": "compliance/_business_section.html", "business": business,
            **(context or {"score": None})}


BUSINESS_SECTIONS.append(business_score_section)


@bp.route("/compliance/scores")
@roles_required(STAFF)
def scores():
    band = request.args.get("band", "")
    query = (sa.select(ComplianceScore).options(joinedload(ComplianceScore.business))
             .where(ComplianceScore.current.is_(True)))
    if band in scoring.BAND_LABELS:
        query = query.where(ComplianceScore.band == band)
    query = query.order_by(ComplianceScore.total.desc(), ComplianceScore.business_id)
    page = db.paginate(query, per_page=50, error_out=False, max_per_page=100)
    counts = dict(db.session.execute(sa.select(ComplianceScore.band, sa.func.count())
                                     .where(ComplianceScore.current.is_(True)).group_by(ComplianceScore.band)).all())
    return render_template("compliance/scores.html", page=page, band=band, counts=counts,
                           band_labels=scoring.BAND_LABELS, band_tones=scoring.BAND_TONES,
                           labels=scoring.FACTOR_LABELS)


@bp.route("/compliance/businesses/<int:business_id>")
@roles_required(STAFF)
def business_score(business_id: int):
    business = db.session.get(Business, business_id) or abort(404)
    context = score_context(business_id)
    if context is None:
        scoring.rescore_business(business_id)
        context = score_context(business_id)
    return render_template("compliance/business.html", business=business, section=context)


@bp.route("/compliance/businesses/<int:business_id>/rescore", methods=["POST"])
@roles_required(OPERATIONAL)
def rescore(business_id: int):
    db.session.get(Business, business_id) or abort(404)
    scoring.rescore_business(business_id)
    flash("Score recomputed from the current records.", "success")
    return redirect(url_for("compliance.business_score", business_id=business_id))


@bp.route("/compliance/candidates")
@roles_required(STAFF)
def candidates():
    rules = scoring.current_rules()
    entries, page = naming.candidates(page=request.args.get("page", 1, type=int))
    return render_template("compliance/candidates.html", candidates=entries, page=page,
                           held=naming.held_candidates(), rules=rules, record_url=scoring.record_url)


@bp.route("/compliance/rules")
@roles_required(STAFF)
def rules_view():
    rules = scoring.current_rules()
    db.session.commit()  # the defaults are stored as version 1 on first use
    return render_template("compliance/rules.html", rules=rules, specs=scoring.RULE_SPECS,
                           groups=scoring.RULE_GROUPS, history=scoring.rules_history(), editing=False,
                           rescore_waiting=scoring.rescore_waiting())


@bp.route("/compliance/rules/edit", methods=["GET", "POST"])
@roles_required(DECIDERS)
def rules_edit():
    rules = scoring.current_rules()
    if request.method == "POST":
        if str(rules.version) != request.form.get("rules_version", ""):
            flash("Someone saved new rules while you were editing. Here are theirs: make your changes again.",
                  "danger")
            return redirect(url_for("compliance.rules_edit"))
        values = {spec.key: request.form.get(spec.key, "") for spec in scoring.RULE_SPECS}
        try:
            row = scoring.save_rules(values, current_user.email, request.form.get("note", "").strip()[:500])
        except InvalidValue as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return render_template("compliance/rules.html", rules=scoring.Rules(rules.version, values),
                                   specs=scoring.RULE_SPECS, groups=scoring.RULE_GROUPS,
                                   history=scoring.rules_history(), editing=True), 422
        # Every score is recomputed with the new rules by the scheduler (within a minute), not in this request.
        scoring.request_rescore(current_user.email)
        db.session.commit()
        flash(f"Rules version {row.version} saved. Every score is recomputed with it within a minute.", "success")
        return redirect(url_for("compliance.rules_view"))
    db.session.commit()
    return render_template("compliance/rules.html", rules=rules, specs=scoring.RULE_SPECS, groups=scoring.RULE_GROUPS,
                           history=scoring.rules_history(), editing=True)
