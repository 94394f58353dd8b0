"""Sign-in throttling: exponential back-off on failed passwords, counted in the database so all web workers agree.

Three counters slow an attacker down without letting anyone lock the real user out:
- per (account, client address): the tightest; what one guesser hits first, and what no one elsewhere can touch;
- per client address, across accounts: bounds the guesses one address makes a minute, whatever accounts it tries;
- per account, across addresses: bounds a spread-out attack on one account. A browser the account has signed in
  from before (a signed "known device" cookie) is not held up by it, so an attacker elsewhere cannot keep the
  real user out.
Within a back-off the password is not checked at all (the answer is 429 with Retry-After); once it has passed,
the right password signs in and clears the account's counters. Nothing ever locks an account outright.
"""
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from .extensions import db
from .models.accounts import LoginThrottle
from .timeutil import utcnow


@dataclass(frozen=True)
class Rule:
    free: int  # failures allowed before any wait
    first_wait: float  # seconds, after the first failure past `free`; doubled after each further one
    longest_wait: float


RULES = {
    "pair": Rule(free=3, first_wait=2, longest_wait=15 * 60),
    "address": Rule(free=10, first_wait=2, longest_wait=60),
    "account": Rule(free=10, first_wait=2, longest_wait=5 * 60),
}
FORGET_AFTER = timedelta(hours=1)  # a counter with no failure for this long starts again from nothing
DEVICE_COOKIE = "retail_known_device"
DEVICE_COOKIE_DAYS = 365
_DEVICE_SALT = "retail-known-device"
_DEVICE_MAX_USERS = 5


def keys_for(email: str, address: str) -> dict[str, str]:
    email = email.strip().lower()[:254]
    address = (address or "unknown")[:64]
    return {"pair": f"pair:{email}|{address}", "address": f"address:{address}", "account": f"account:{email}"}


def wait_after(rule: Rule, failures: int) -> float:
    """Seconds to wait after `failures` consecutive failures (0 while within the free allowance)."""
    if failures <= rule.free:
        return 0
    return min(rule.longest_wait, rule.first_wait * 2 ** min(failures - rule.free - 1, 30))


def seconds_to_wait(keys, now: datetime | None = None) -> int:
    """The longest back-off still running on any of `keys`, in whole seconds (0: go ahead)."""
    now = now or utcnow()
    until = db.session.scalar(sa.select(sa.func.max(LoginThrottle.blocked_until))
                              .where(LoginThrottle.key.in_(list(keys)), LoginThrottle.blocked_until > now))
    return math.ceil((until - now).total_seconds()) if until is not None else 0


def record_failure(keys: dict[str, str], now: datetime | None = None) -> dict[str, int]:
    """Count one failure on each key; returns the back-offs this failure started, {kind: seconds}.

    Each count is one atomic upsert, so two workers failing at once both count."""
    now = now or utcnow()
    table = LoginThrottle.__table__
    started = {}
    for kind, key in keys.items():
        failures = db.session.execute(_upsert(table, key, now)).scalar_one()
        wait = wait_after(RULES[kind], failures)
        if wait:
            until = now + timedelta(seconds=wait)
            db.session.execute(sa.update(table).where(
                table.c.key == key, sa.or_(table.c.blocked_until.is_(None), table.c.blocked_until < until))
                .values(blocked_until=until))
            started[kind] = math.ceil(wait)
    # Stale counters go, so the table stays as small as the current attack.
    db.session.execute(sa.delete(table).where(
        table.c.last_failure_at < now - FORGET_AFTER,
        sa.or_(table.c.blocked_until.is_(None), table.c.blocked_until < now)))
    return started


def _upsert(table, key: str, now: datetime):
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(key=key, failures=1, last_failure_at=now, blocked_until=None)
    return statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"failures": sa.case((table.c.last_failure_at < now - FORGET_AFTER, 1), else_=table.c.failures + 1),
              "last_failure_at": now},
    ).returning(table.c.failures)


def clear(keys) -> None:
    db.session.execute(sa.delete(LoginThrottle.__table__).where(LoginThrottle.__table__.c.key.in_(list(keys))))


def slowed_accounts(emails) -> set[str]:
    """Which of these accounts are in an account-wide back-off now (for the admin's user list)."""
    keys = {f"account:{e.lower()}": e for e in emails}
    if not keys:
        return set()
    rows = db.session.scalars(sa.select(LoginThrottle.key).where(
        LoginThrottle.key.in_(list(keys)), LoginThrottle.blocked_until > utcnow())).all()
    return {keys[k] for k in rows}


# --- Known devices ------------------------------------------------------------------------------------------------

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=_DEVICE_SALT)


def known_user_ids(cookie: str | None) -> frozenset[int]:
    """The accounts that have signed in from this browser before (from its signed cookie)."""
    if not cookie:
        return frozenset()
    try:
        ids = _serializer().loads(cookie)
    except BadSignature:
        return frozenset()
    return frozenset(i for i in ids if isinstance(i, int)) if isinstance(ids, list) else frozenset()


def remember_device(cookie: str | None, user_id: int) -> str:
    """The cookie value after `user_id` has signed in from this browser."""
    ids = [i for i in known_user_ids(cookie) if i != user_id][-(_DEVICE_MAX_USERS - 1):]
    return _serializer().dumps(sorted(ids) + [user_id])
