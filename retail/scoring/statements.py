"""What the factor and candidate queries share: statements built once and reused with bound parameters, and the
conditions for a concluded failure the seller answers for."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..models.purchases import Channel, Outcome, PurchaseKind, Stage, TestPurchase

PASS_OUTCOMES = tuple(o for o in Outcome if o.value.startswith("PASS"))


def _restrict(query, column, business_ids):
    if business_ids is None:
        return query
    return query.where(column.in_(list(business_ids)))


# Statements are built once per (query, scope) and reused with bound parameters: building and cache-keying a
# statement costs more than running it for one business, and the incremental rescore must stay fast.
STATEMENTS: dict = {}
IDS = sa.bindparam("ids", expanding=True)
SINCE = sa.bindparam("since", type_=sa.Date)
TODAY = sa.bindparam("today", type_=sa.Date)
CAP = sa.bindparam("cap", type_=sa.Integer)


def cached_statement(name: str, scoped: bool, build):
    key = (name, scoped)
    stmt = STATEMENTS.get(key)
    if stmt is None:
        stmt = STATEMENTS[key] = build(scoped)
    return stmt


def scope_to_ids(query, column, scoped: bool):
    return query.where(column.in_(IDS)) if scoped else query


def bind_params(business_ids, **values) -> dict:
    if business_ids is not None:
        values["ids"] = list(business_ids)
    return values


def seller_failure():
    """A failure the seller answers for: in store, or online at the seller's checkout or dispatch."""
    return sa.or_(TestPurchase.channel == Channel.IN_STORE, TestPurchase.checkout_failed.is_(True),
                  TestPurchase.dispatch_failed.is_(True))


def concluded_failure():
    return sa.and_(TestPurchase.stage == Stage.CONCLUDED, TestPurchase.failed.is_(True))


def underage_sales_query(business_ids, since: date):
    """Underage sales the seller answers for (in store, or online at checkout/dispatch): what the naming rule counts.
    Challenge 25 tests and courier-only failures are never in here."""
    query = sa.select(TestPurchase.business_id, TestPurchase.id, TestPurchase.purchase_date).where(
        concluded_failure(), TestPurchase.kind == PurchaseKind.UNDERAGE, seller_failure(),
        TestPurchase.purchase_date >= since)
    return _restrict(query, TestPurchase.business_id, business_ids)
