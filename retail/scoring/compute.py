"""Computing scores from the factors (total, worst factor, band, candidate flag) and storing them in bulk; the
full and per-business rescore."""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..bulk import insert_rows
from ..extensions import db
from ..models.compliance import ComplianceScore, ScoreFactor
from ..models.register import Business
from ..timeutil import today_london, utcnow
from .candidates import candidate_ids
from .factors import Factor, collect_factors
from .rules import FACTOR_LABELS, GOOD, Rules, band_for, current_rules
from .statements import IDS, IdRange, bind_params, cached_statement


def refresh_ranking(session: Session, business_ids=None) -> None:
    """The monitor's online targets are ranked by what the scores read (failed online test purchases, RRA, the
    store's verdict): their ranking is refreshed with them."""
    from ..scrapers.targets import refresh_ranking as refresh

    refresh(session, business_ids=None if business_ids is None else list(business_ids))


@dataclass
class BusinessScore:
    business_id: int
    total: int = 0
    worst_points: int = 0
    worst_kind: str = ""
    band: str = GOOD
    candidate: bool = False
    enforcement_pending: bool = False
    factors: list[Factor] = field(default_factory=list)
    fingerprint: str = ""
    score_id: int | None = None


_KIND_IDS = {kind: i for i, kind in enumerate(FACTOR_LABELS)}
_RECORD_IDS = {kind: i for i, kind in enumerate(("test_purchase", "invitation", "training_refusal", "attendance",
                                                 "premises", "signature", "business", "listing"))}


def _factor_key(f: Factor):
    return (-f.points, f.on or date.min, f.record_type, f.record_id)


def summarise(business_id: int, factors: list[Factor], rules: Rules, candidate: bool, held: bool) -> BusinessScore:
    per_kind: dict[str, int] = {}
    for f in factors:
        per_kind[f.kind] = per_kind.get(f.kind, 0) + f.points
    total = max(0, sum(per_kind.values()))
    worst_kind, worst = "", 0
    for kind, points in per_kind.items():
        if points > worst or (points == worst and points > 0 and kind > worst_kind):
            worst_kind, worst = kind, points
    if len(factors) > 1:
        factors = sorted(factors, key=_factor_key)
    # What the stored score depends on; an identical fingerprint means nothing changed and no row is added. Only
    # integers go in, so Python's hash is the same in every process (str hashes are salted per process).
    digest = str(hash((rules.version, candidate, held, tuple(
        (_KIND_IDS.get(f.kind, -1), f.points, f.on.toordinal() if f.on else 0, _RECORD_IDS.get(f.record_type, -1),
         f.record_id, f.premises_id or 0, f.online_store_id or 0) for f in factors))))
    return BusinessScore(business_id, total, worst, worst_kind, band_for(total, worst, rules), candidate, held,
                         factors, digest)


def compute_scores(business_ids=None, today: date | None = None, session: Session | None = None,
                   rules: Rules | None = None) -> dict[int, BusinessScore]:
    """Score every business (or the given ones) without storing anything."""
    session = session or db.session
    today = today or today_london()
    rules = rules or current_rules(session)
    if business_ids is None:
        ids = list(session.scalars(sa.select(Business.id)))
    elif isinstance(business_ids, IdRange):
        ids = list(session.scalars(sa.select(Business.id).where(
            Business.id.between(business_ids.low, business_ids.high))))
    else:
        ids = list(session.scalars(cached_statement("businesses", True, lambda scoped: sa.select(Business.id).where(
            Business.id.in_(IDS))), bind_params(business_ids)))
    by_business: dict[int, list[Factor]] = defaultdict(list)
    for f in collect_factors(rules, today, business_ids, session):
        by_business[f.business_id].append(f)
    candidates, held = candidate_ids(rules, today, business_ids, session)
    scores = {bid: summarise(bid, by_business.get(bid, []), rules, bid in candidates, bid in held) for bid in ids}
    for score in scores.values():
        score.rules_version = rules.version
    return scores


_SCORE_COLUMNS = ("business_id", "computed_at", "computed_for", "rules_version", "total", "worst_points", "worst_kind",
                  "band", "candidate", "enforcement_pending", "current", "fingerprint", "batch")
_FACTOR_COLUMNS = ("score_id", "business_id", "premises_id", "online_store_id", "kind", "points", "on", "record_type",
                   "record_id", "description")


def _no_longer_current(connection, table, score_ids: list[int], chunk: int) -> None:
    if connection.dialect.name == "postgresql":  # one statement, the ids as one array parameter
        connection.exec_driver_sql(f"UPDATE {table.name} SET current = false WHERE id = ANY(%s)", (score_ids,))
        return
    for start in range(0, len(score_ids), chunk):
        connection.execute(table.update().where(table.c.id.in_(score_ids[start:start + chunk])).values(current=False))


def _storage(connection):
    """(date, datetime) converters to what SQLAlchemy would store: ISO text on SQLite, native values elsewhere."""
    if connection.dialect.name != "sqlite":
        return (lambda d: d), (lambda dt: dt)
    return ((lambda d: d.isoformat() if d is not None else None),
            (lambda dt: dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")))


def store_scores(scores: dict[int, BusinessScore], rules_version: int, today: date,
                 session: Session | None = None, chunk: int = 5000, id_range: IdRange | None = None) -> int:
    """Add a score row (and its factors) for each business whose score changed; mark it current. Returns rows added.
    Nothing is deleted: earlier rows stay as the business's trend."""
    session = session or db.session
    connection = session.connection()
    ids = list(scores)
    existing: dict[int, tuple[int, str]] = {}
    table = ComplianceScore.__table__
    query = sa.select(table.c.business_id, table.c.id, table.c.fingerprint).where(
        table.c.current.is_(True)).order_by(table.c.id)
    if id_range is not None:
        query = query.where(table.c.business_id.between(id_range.low, id_range.high))
    elif len(ids) <= 1000:  # a few businesses: use the index; many: one scan of the current rows
        query = query.where(table.c.business_id.in_(ids))
    wanted = set(ids)
    for business_id, score_id, fingerprint in connection.execute(query):
        if business_id in wanted:
            existing[business_id] = (score_id, fingerprint)
    changed = []
    for s in scores.values():
        previous = existing.get(s.business_id)
        if previous is not None and previous[1] == s.fingerprint:
            s.score_id = previous[0]
        else:
            changed.append(s)
    if not changed:
        return 0
    stale = [existing[s.business_id][0] for s in changed if s.business_id in existing]
    if stale:
        _no_longer_current(connection, table, stale, chunk)
    as_date, as_datetime = _storage(connection)
    now, day = as_datetime(utcnow()), as_date(today)
    batch = uuid.uuid4().hex
    before = connection.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
    insert_rows(connection, table, _SCORE_COLUMNS, [
        (s.business_id, now, day, rules_version, s.total, s.worst_points, s.worst_kind, s.band, s.candidate,
         s.enforcement_pending, True, s.fingerprint, batch) for s in changed])
    new_ids = dict(connection.execute(sa.select(table.c.business_id, table.c.id)
                                      .where(table.c.id > before, table.c.batch == batch)).all())
    factor_rows = []
    for s in changed:
        s.score_id = score_id = new_ids[s.business_id]
        factor_rows.extend((score_id, s.business_id, f.premises_id, f.online_store_id, f.kind, f.points,
                            as_date(f.on), f.record_type, f.record_id, f.description[:300]) for f in s.factors)
    insert_rows(connection, ScoreFactor.__table__, _FACTOR_COLUMNS, factor_rows)
    return len(changed)


FULL_RESCORE_BATCH = 10000  # businesses per batch: what the full rescore holds in memory at once


def rescore_all(today: date | None = None, session: Session | None = None,
                batch: int = FULL_RESCORE_BATCH) -> dict:
    """The nightly full recompute: every business, set-based queries, bulk writes, in batches of `batch` business
    ids so that memory stays that of one batch whatever the size of the register. One transaction. Commits."""
    session = session or db.session
    today = today or today_london()
    rules = current_rules(session)
    low, high = session.execute(sa.select(sa.func.min(Business.id), sa.func.max(Business.id))).one()
    businesses = added = candidates = 0
    for start in range(low or 0, (high or 0) + 1, batch):
        id_range = IdRange(start, start + batch - 1)
        scores = compute_scores(id_range, today, session, rules)
        added += store_scores(scores, rules.version, today, session, id_range=id_range)
        businesses += len(scores)
        candidates += sum(1 for s in scores.values() if s.candidate)
        del scores
    refresh_ranking(session)
    session.commit()
    return {"businesses": businesses, "changed": added, "rules_version": rules.version, "candidates": candidates}


def rescore_businesses(business_ids, today: date | None = None, session: Session | None = None,
                       commit: bool = True) -> dict[int, BusinessScore]:
    session = session or db.session
    today = today or today_london()
    rules = current_rules(session)
    ids = list(business_ids)
    scores = compute_scores(ids, today, session, rules)
    store_scores(scores, rules.version, today, session)
    refresh_ranking(session, ids)
    if commit:
        session.commit()
    return scores


def rescore_business(business_id: int, today: date | None = None, session: Session | None = None,
                     commit: bool = True) -> BusinessScore | None:
    """Recompute one business now (what the change hook calls after a relevant record is saved)."""
    return rescore_businesses([business_id], today, session, commit).get(business_id)
