"""What the factor and candidate queries share: statements built once and reused with bound parameters, and the
conditions for a concluded failure the seller answers for."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..models.purchases import Channel, Outcome, PurchaseKind, Stage, TestPurchase
from ..rules import enforcement as enforcement_rules
from ..timeutil import today_london

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
UNDECIDED_BEFORE = sa.bindparam("undecided_up_to", type_=sa.Date)


LOW_ID = sa.bindparam("low_id", type_=sa.Integer)
HIGH_ID = sa.bindparam("high_id", type_=sa.Integer)
RANGE = "range"


class IdRange:
    """Businesses whose id is in [low, high]: how the full rescore takes the register in batches, so its memory stays
    that of one batch (issue 15 part 4). Statements use the business_id indexes with a BETWEEN."""

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high

    def __repr__(self) -> str:
        return f"IdRange({self.low}, {self.high})"


def scope_of(business_ids):
    """How a statement is restricted: False (every business), RANGE, or True (a list of ids)."""
    if business_ids is None:
        return False
    return RANGE if isinstance(business_ids, IdRange) else True


def cached_statement(name: str, scoped, build):
    key = (name, scoped)
    stmt = STATEMENTS.get(key)
    if stmt is None:
        stmt = STATEMENTS[key] = build(scoped)
    return stmt


def scope_to_ids(query, column, scoped):
    if scoped == RANGE:
        return query.where(column.between(LOW_ID, HIGH_ID))
    return query.where(column.in_(IDS)) if scoped else query


def bind_params(business_ids, **values) -> dict:
    if "today" in values:
        values["undecided_up_to"] = enforcement_rules.undecided_count_up_to(values["today"])
    if isinstance(business_ids, IdRange):
        values["low_id"], values["high_id"] = business_ids.low, business_ids.high
    elif business_ids is not None:
        values["ids"] = list(business_ids)
    return values


def seller_failure():
    """A failure the seller answers for: in store, or online at the seller's checkout or dispatch."""
    return sa.or_(TestPurchase.channel == Channel.IN_STORE, TestPurchase.checkout_failed.is_(True),
                  TestPurchase.dispatch_failed.is_(True))


def counts_against(undecided_up_to: date | None = None):
    """A failure counts against the business unless it was acquitted, prosecuted with the court's outcome not
    recorded, or is still undecided inside the prosecution time limit (rules.enforcement.counts_against)."""
    limit = UNDECIDED_BEFORE if undecided_up_to is None else sa.literal(undecided_up_to, sa.Date)
    return sa.and_(TestPurchase.enforcement_stage.notin_([s.value for s in enforcement_rules.NEVER_COUNTED]),
                   sa.or_(TestPurchase.enforcement_stage != enforcement_rules.Stage.UNDECIDED.value,
                          TestPurchase.purchase_date <= limit))


def concluded_failure():
    return sa.and_(TestPurchase.stage == Stage.CONCLUDED, TestPurchase.failed.is_(True))


def underage_sales_query(business_ids, since: date, today: date | None = None):
    """Underage sales the seller answers for (in store, or online at checkout/dispatch) that count against it: what
    the naming rule counts. Challenge 25 tests, courier-only failures, acquittals and sales still undecided inside
    the time limit are never in here."""
    today = today or today_london()
    query = sa.select(TestPurchase.business_id, TestPurchase.id, TestPurchase.purchase_date).where(
        concluded_failure(), TestPurchase.kind == PurchaseKind.UNDERAGE, seller_failure(),
        counts_against(enforcement_rules.undecided_count_up_to(today)), TestPurchase.purchase_date >= since)
    return _restrict(query, TestPurchase.business_id, business_ids)
