"""The public register of named businesses: which entries are live, the public search, and each entry as the public
and the open-data API see it (only the business's names, the shops where the sales happened, the approved statement
and reply, and dates). Split from naming.py, the workflow, which freezes what an entry shows at approval."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from .extensions import db
from .models.compliance import CaseStatus, NamingCase
from .models.register import Business, Premises
from .timeutil import today_london


def published_legal_name(business: Business) -> str:
    """The legal name the public may see: a registered company's own, never a person's (brief 5.3)."""
    return business.legal_name if (business.company_number or "").strip() else business.display_name



def live_query(today: date | None = None):
    """Published entries that are live today: hidden by date the moment they expire, whatever the nightly job did."""
    today = today or today_london()
    return sa.select(NamingCase).where(NamingCase.status == CaseStatus.PUBLISHED, NamingCase.published_on <= today,
                                       NamingCase.expires_on > today)


def public_query(q: str = "", postcode: str = "", borough: str = "", today: date | None = None):
    from .register import matching_business_ids
    from .validation import postcode_key, prefix_upper_bound

    query = live_query(today)
    if q.strip():
        # The published names only: a search for a sole trader's own name must not find an entry published under
        # another name (issue 9 part 3). Entries approved before names were frozen fall back to the register.
        words = q.strip().lower()
        query = query.where(sa.or_(
            sa.func.lower(NamingCase.published_name).contains(words, autoescape=True),
            sa.func.lower(NamingCase.published_legal_name).contains(words, autoescape=True),
            sa.and_(NamingCase.published_name == "", NamingCase.business_id.in_(matching_business_ids(q.strip())))))
    if postcode.strip():
        key = postcode_key(postcode)
        if key:
            upper = prefix_upper_bound(key)
            in_range = [Premises.postcode_key >= key] + ([Premises.postcode_key < upper] if upper else [])
            query = query.where(NamingCase.business_id.in_(sa.select(Premises.business_id).where(*in_range)))
    if borough:
        query = query.where(NamingCase.business_id.in_(
            sa.select(Premises.business_id).where(Premises.borough == borough)))
    return query.order_by(NamingCase.published_on.desc(), NamingCase.id.desc())


def sale_places(cases: list[NamingCase]) -> tuple[dict[int, list[Premises]], dict[int, list[str]]]:
    """By case id: the shops and websites where the case's cited sales happened (for the notice and the entry)."""
    from .models.register import OnlineStore
    from .models.purchases import TestPurchase

    # Only the shops and websites where the cited sales happened, not the whole chain (issue 9 part 3, brief 5.3
    # step 7): a chain is not shown against all its shops for one shop's sales.
    sale_ids = {int(e["record"].split(":")[1]) for c in cases for e in c.evidence
                if e["record"].startswith("test_purchase:")}
    where = {row.id: row for row in db.session.execute(
        sa.select(TestPurchase.id, TestPurchase.premises_id, TestPurchase.online_store_id)
        .where(TestPurchase.id.in_(sale_ids)))} if sale_ids else {}
    premises_by_id = {p.id: p for p in db.session.scalars(sa.select(Premises).where(
        Premises.id.in_({r.premises_id for r in where.values() if r.premises_id})))} if where else {}
    stores_by_id = dict(db.session.execute(sa.select(OnlineStore.id, OnlineStore.base_url).where(
        OnlineStore.id.in_({r.online_store_id for r in where.values() if r.online_store_id}))).all()) if where else {}
    premises: dict[int, list[Premises]] = {}
    websites: dict[int, list[str]] = {}
    for case in cases:
        rows = [where[int(e["record"].split(":")[1])] for e in case.evidence
                if e["record"].startswith("test_purchase:") and int(e["record"].split(":")[1]) in where]
        shops = {premises_by_id[r.premises_id].id: premises_by_id[r.premises_id] for r in rows
                 if r.premises_id in premises_by_id}
        premises[case.id] = sorted(shops.values(), key=lambda p: (p.name_key or "", p.id))
        websites[case.id] = sorted({stores_by_id[r.online_store_id] for r in rows
                                    if r.online_store_id in stores_by_id})
    return premises, websites


def _places(premises: list[Premises], websites: list[str]) -> dict:
    """The shops and websites as the public entry shows them."""
    return {"premises": [{"name": p.name, "address": ", ".join(x for x in (p.address_line1, p.address_line2, p.town)
                                                               if x),
                          "postcode": p.postcode, "borough": p.borough_name} for p in premises],
            "websites": list(websites)}


def public_entries(cases: list[NamingCase]) -> list[dict]:
    """The public view of entries: only the business's names, its shops, the approved statement, dates and the
    approved reply. Built field by field so nothing else (officers, volunteers, evidence) can leak."""
    if not cases:
        return []
    business_ids = {c.business_id for c in cases}
    businesses = {b.id: b for b in db.session.scalars(sa.select(Business).where(Business.id.in_(business_ids)))}

    legacy = [c for c in cases if not c.published_places]  # approved before the places were frozen on the case
    premises, websites = sale_places(legacy) if legacy else ({}, {})
    out = []
    for case in cases:
        business = businesses[case.business_id]
        places = case.published_places or _places(premises[case.id], websites[case.id])
        out.append({
            "id": case.id,
            "business_name": case.published_name or business.display_name,
            # A sole trader's or partnership's legal name is a person's name: published only for a company on the
            # Companies House register (already public); otherwise the trading name stands in (issue 9 part 3).
            "legal_name": case.published_legal_name or published_legal_name(business),
            "premises": [dict(p) for p in places["premises"]],
            "websites": list(places["websites"]),
            "statement": case.statement,
            "published_on": case.published_on.isoformat(),
            "expires_on": case.expires_on.isoformat(),
            "reply": case.public_reply,
            "reply_date": case.reply_checked_at.date().isoformat() if case.public_reply and case.reply_checked_at
            else None,
            "corrected_on": case.corrected_on.isoformat() if case.corrected_on else None,
        })
    return out
