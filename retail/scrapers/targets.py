"""What the monitor's checks add up to: each store's age-check verdict and report, the alerts an officer
acknowledges, and the online test purchase targets (ranked, with their riskiest listings and the CSV).

Split from monitor.py, which fetches and records; this module only reads what the checks stored.
"""
from __future__ import annotations

import io

import sqlalchemy as sa

from .. import csvout
from ..audit import record_event
from ..extensions import db
from ..models.listings import AGE_LABELS, AGE_RANK, Listing, ListingKind, MonitorAlert, StoreMonitor
from ..models.register import Business, OnlineStore, RraSignature
from ..timeutil import utcnow


def _max_level(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if AGE_RANK[a] >= AGE_RANK[b] else b


def store_verdict(store_id: int) -> dict:
    """The store's age-check level and the listings that led to it.

    A policy page (delivery, age verification, terms) that promises a real check counts for every listing of
    the store; the store's level is then the weakest of its bladed listings, each lifted by the best policy page.
    """
    listings = list(db.session.scalars(sa.select(Listing).where(Listing.online_store_id == store_id)
                                       .order_by(Listing.id)))
    policies = [item for item in listings if item.kind == ListingKind.POLICY and item.age_check]
    bladed = [item for item in listings if item.kind == ListingKind.PRODUCT and item.bladed and item.age_check]
    if not bladed:  # a one-page shop: the category page itself is the listing
        bladed = [item for item in listings if item.kind == ListingKind.CATEGORY and item.bladed and item.age_check]
    policy = max(policies, key=lambda item: AGE_RANK[item.age_check], default=None)
    policy_level = policy.age_check if policy else None
    if policy is not None and policy_level == "none":
        policy = None
        policy_level = None
    effective = {item.id: _max_level(item.age_check, policy_level) for item in bladed}
    prohibited = sorted({p for item in listings if item.kind != ListingKind.POLICY for p in (item.prohibited or [])})
    prohibited_count = sum(1 for item in listings if item.kind != ListingKind.POLICY and item.prohibited)
    result = {"age_check": None, "check_at_sale": None, "bladed_listings": len(bladed), "risky_listings": 0,
              "prohibited": prohibited,
              "prohibited_count": prohibited_count, "weakest": None, "policy": policy, "lifted": False,
              "effective": effective, "bladed": bladed, "reason": ""}
    if not bladed:
        result["reason"] = "No bladed articles found for sale on the pages checked."
        if prohibited:
            result["reason"] += f" Prohibited items named: {', '.join(prohibited)}."
        return result
    weakest = min(bladed, key=lambda item: (AGE_RANK[effective[item.id]], item.id))
    level = effective[weakest.id]
    result.update(age_check=level, weakest=weakest,
                  risky_listings=sum(1 for item in bladed if effective[item.id] in ("none", "weak")))
    lifted = policy is not None and AGE_RANK[policy_level] > AGE_RANK[weakest.age_check]
    result["lifted"] = lifted
    if level == "strong":
        # Condition A (at sale) must cover every bladed listing, from its own wording or the policy page's. A strong
        # verdict recorded before the conditions were kept (no conditions) is taken to be at sale until re-checked.
        strong_policy = policy is not None and policy_level == "strong"
        policy_conditions = set(policy.conditions or ["A"]) if strong_policy else set()

        def at_sale(item) -> bool:
            own = set(item.conditions or ["A"]) if item.age_check == "strong" else set()
            return "A" in own | policy_conditions

        result["check_at_sale"] = all(at_sale(item) for item in bladed)
    else:
        result["check_at_sale"] = False
    name = weakest.title or weakest.url
    parts = [f"{len(bladed)} bladed listing{'s' if len(bladed) != 1 else ''} found."]
    if lifted:
        parts.append(f"The policy page '{policy.title or policy.url}' promises a {policy_level} age check "
                     f"that covers every listing, so the store is rated {level}.")
        parts.append(f"Without it the weakest listing, '{name}', would be {weakest.age_check}.")
    else:
        parts.append(f"The weakest listing is '{name}': {AGE_LABELS[level].lower()}.")
        if policy is not None and AGE_RANK[policy_level] > AGE_RANK[level]:
            pass
        elif policy is not None and policy_level == level:
            parts.append(f"The policy page '{policy.title or policy.url}' says the same ({policy_level}).")
        elif policy is not None:
            parts.append(f"The best policy page, '{policy.title or policy.url}', is only {policy_level}.")
        else:
            parts.append("No delivery or age-verification policy page with age wording was found.")
    if result["check_at_sale"] is False and level == "strong":
        parts.append("The strong check is at delivery only (s.141B condition C): nothing checks age at the sale, so "
                     "the store stays on the targets list, after stores with no or a weak check.")
    if prohibited:
        parts.append(f"Prohibited items offered: {', '.join(prohibited)}.")
    result["reason"] = " ".join(parts)
    return result


def store_report(store_id: int) -> dict:
    """The per-store summary printed by `scrape run --json`."""
    store = db.session.get(OnlineStore, store_id)
    monitor = db.session.scalar(sa.select(StoreMonitor).where(StoreMonitor.online_store_id == store_id))
    listings = db.session.scalars(sa.select(Listing).where(Listing.online_store_id == store_id)
                                  .order_by(Listing.kind, Listing.id))
    return {
        "store_id": store_id, "url": store.base_url,
        "age_check": monitor.age_check if monitor else None,
        "bladed_listings": monitor.bladed_listings if monitor else 0,
        "prohibited": list(monitor.prohibited or []) if monitor else [],
        "listings": [{"url": item.url, "bladed": item.bladed, "age_check": item.age_check, "status": item.last_status,
                      "error": item.last_error or None} for item in listings],
    }


# --- alerts -------------------------------------------------------------------------------------------------------

def open_alerts_query():
    return sa.select(MonitorAlert).where(MonitorAlert.acknowledged_at.is_(None)).order_by(MonitorAlert.raised_at.desc(),
                                                                                           MonitorAlert.id.desc())


def acknowledge(alert: MonitorAlert, user) -> None:
    if alert.acknowledged_at is None:
        alert.acknowledged_at = utcnow()
        alert.acknowledged_by_id = user.id
        record_event("OnlineStore", alert.online_store_id, f"Monitor alert acknowledged: {alert.kind_label}")
        db.session.flush()


# --- online test purchase targets ---------------------------------------------------------------------------------

def _ranking_values() -> dict:
    """What refresh_ranking writes on each store_monitor row, as SQL over the row and the records it ranks by."""
    from ..models.purchases import Channel, TestPurchase

    age_rank = sa.case((StoreMonitor.age_check == "none", 0), (StoreMonitor.age_check == "weak", 1), else_=2)
    # No check, then a weak one, then a real check only at delivery (no check at sale: s.141B condition C only).
    delivery_only = sa.and_(StoreMonitor.age_check == "strong", StoreMonitor.check_at_sale.is_(False),
                            StoreMonitor.bladed_listings > 0)
    is_target = sa.or_(sa.and_(StoreMonitor.age_check.in_(("none", "weak")), StoreMonitor.risky_listings > 0),
                       StoreMonitor.prohibited_count > 0, delivery_only)
    return {
        "target_group": sa.case((is_target, age_rank), else_=sa.null()),
        "target_weight": StoreMonitor.risky_listings + StoreMonitor.prohibited_count,
        # Failed online test purchases of the store, London-wide: like the scores, the ranking is shared.
        "online_failures": (sa.select(sa.func.count()).select_from(TestPurchase)
                            .where(TestPurchase.online_store_id == StoreMonitor.online_store_id,
                                   TestPurchase.channel == Channel.ONLINE, TestPurchase.failed.is_(True))
                            .scalar_subquery()),
        # One level of correlation to the row being updated (a nested subquery would not correlate to it).
        "rra_active": sa.exists(sa.select(RraSignature.id)
                                .join(OnlineStore, OnlineStore.business_id == RraSignature.business_id)
                                .where(OnlineStore.id == StoreMonitor.online_store_id,
                                       RraSignature.status == "active")),
    }


def refresh_ranking(session=None, *, business_ids=None) -> int:
    """Write the targets ranking on store_monitor, for the stores of `business_ids` or (None) every store: one
    UPDATE. Called wherever scores are recomputed, which is after every commit that changes what it reads (the
    monitor's verdict, a test purchase, an RRA signature) and nightly. Does not commit. Returns the rows written."""
    session = session or db.session
    values = _ranking_values()
    # Only rows whose ranking changed are written: the nightly refresh of 20,000 stores rewrote every row (and its
    # index entries) though almost none had changed: 0.7 s on PostgreSQL at UK scale.
    changed = sa.or_(*(getattr(StoreMonitor, name).is_distinct_from(value) for name, value in values.items()))
    statement = sa.update(StoreMonitor.__table__).values(**values).where(changed)
    if business_ids is None:
        return session.execute(statement).rowcount
    ids = sorted(set(business_ids))
    written = 0
    for start in range(0, len(ids), 1000):
        stores = sa.select(OnlineStore.id).where(OnlineStore.business_id.in_(ids[start:start + 1000]))
        written += session.execute(statement.where(StoreMonitor.online_store_id.in_(stores))).rowcount
    return written


def _ranked():
    """Targets in rank order: no check, then weak, then a check only at delivery or prohibited items; within each,
    more risky and prohibited listings first, then more failed online test purchases, then non-signatories of the
    RRA before signatories."""
    return (StoreMonitor.target_group, StoreMonitor.target_weight.desc(), StoreMonitor.online_failures.desc(),
            StoreMonitor.rra_active, StoreMonitor.online_store_id)


def ranked_store_ids_query():
    """The targets' store ids in rank order: read from ix_store_monitor_target_rank alone (the page's first step)."""
    return sa.select(StoreMonitor.online_store_id).where(StoreMonitor.target_group.is_not(None)).order_by(*_ranked())


def targets_query():
    """Stores selling bladed articles with no or weak age checks, or a real check only at delivery, or prohibited
    items, best target first: (monitor, store, business, failures, rra_active) rows."""
    return (
        sa.select(StoreMonitor, OnlineStore, Business, StoreMonitor.online_failures.label("failures"),
                  StoreMonitor.rra_active.label("rra_active"))
        .join(OnlineStore, OnlineStore.id == StoreMonitor.online_store_id)
        .join(Business, Business.id == OnlineStore.business_id)
        .where(StoreMonitor.target_group.is_not(None))
        .order_by(*_ranked())
    )


def target_rows(store_ids: list[int]) -> list:
    """targets_query's rows for these stores, in the order given (a page of ranked_store_ids_query)."""
    if not store_ids:
        return []
    rows = {row[1].id: row for row in db.session.execute(
        targets_query().order_by(None).where(StoreMonitor.online_store_id.in_(store_ids)))}
    return [rows[store_id] for store_id in store_ids if store_id in rows]


def risky_listings(store_ids: list[int], per_store: int = 3) -> dict[int, list[Listing]]:
    """The listings that make each store a target: prohibited items first, then no check, then weak."""
    if not store_ids:
        return {}
    policy_levels: dict[int, str] = {}
    for store_id, level in db.session.execute(
            sa.select(Listing.online_store_id, Listing.age_check).where(
                Listing.online_store_id.in_(store_ids), Listing.kind == ListingKind.POLICY,
                Listing.age_check.is_not(None))):
        policy_levels[store_id] = _max_level(policy_levels.get(store_id), level)
    rows = db.session.scalars(sa.select(Listing).where(
        Listing.online_store_id.in_(store_ids), Listing.kind != ListingKind.POLICY,
        sa.or_(Listing.bladed.is_(True), Listing.age_check.is_(None))).order_by(Listing.id))
    found: dict[int, list[Listing]] = {sid: [] for sid in store_ids}
    for listing in rows:
        level = _max_level(listing.age_check, policy_levels.get(listing.online_store_id))
        if listing.prohibited or (listing.bladed and level in ("none", "weak")):
            found[listing.online_store_id].append(listing)
    for sid, items in found.items():
        items.sort(key=lambda item: (0 if item.prohibited else 1, AGE_RANK.get(item.age_check or "none", 0), item.id))
        found[sid] = items[:per_store]
    return found


TARGET_CSV_COLUMNS = ["rank", "store_id", "store", "url", "business", "platform", "age_check", "risky_listings",
                      "bladed_listings", "prohibited", "previous_online_failures", "rra_signatory",
                      "example_listing", "last_checked"]


def target_csv_rows(batch: int = 500):
    """The targets CSV's rows, in rank order. The ranked ids are read first (integers only), then 500 stores at a
    time with their example listings: memory stays bounded and the statements grow per 500 rows, not per row."""
    yield TARGET_CSV_COLUMNS
    ids = db.session.scalars(ranked_store_ids_query()).all()
    rank = 0
    for start in range(0, len(ids), batch):
        chunk = target_rows(ids[start:start + batch])
        examples = risky_listings([row[1].id for row in chunk], 1)
        for monitor, store, business, failures, rra in chunk:
            rank += 1
            example = examples.get(store.id) or []
            yield [rank, store.id, store.display_name, store.base_url, business.display_name, store.platform.value,
                   monitor.age_check or "", monitor.risky_listings, monitor.bladed_listings,
                   "; ".join(monitor.prohibited or []), failures or 0, "yes" if rra else "no",
                   example[0].url if example else "", monitor.last_run_at.isoformat() if monitor.last_run_at else ""]


def csv_chunks(rows, every: int = 500):
    """CSV text for `rows`, yielded every `every` rows (a streamed download: the first bytes go out at once)."""
    buffer = io.StringIO()
    writer = csvout.writer(buffer)
    for n, row in enumerate(rows, 1):
        writer.writerow(row)
        if n % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
