"""Who may read and change which owned records, applied in one place for every query (not a `where` per route).

One deployment serves many authorities. Operations, volunteers, test purchases, letters, follow-up actions,
training sessions and naming cases belong to the authority that ran them (`OwnedByAuthority`); the register,
RRA status, training completion and the monitor's findings are shared London-wide.

- Reads: every ORM SELECT run while a user is signed in gets `with_loader_criteria` for each owned model, so a
  list, a `session.get`, a join, an aggregate or a lazy load only ever sees rows the user may read.
- Writes: before each flush, new owned rows take the user's authority; changing or deleting a row of another
  authority (or a shop in another borough, or another authority's user) is refused with `OutsideAuthority` (403).
- PostgreSQL: row-level security policies (installed by the migrations, see `install_row_level_security`) enforce
  the same read rule as a second line; each scoped transaction switches to the `retail_scoped` role and sets
  `retail.scope`, `retail.authority_id` and `retail.business_id` from the signed-in user.

Jobs without a signed-in user (the CLI, the scheduler, nightly scoring) are unscoped; code that must compute a
London-wide fact inside a request (a business's score counts every borough's sales) uses `unscoped()`.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from itertools import chain

import sqlalchemy as sa
from flask import current_app, g, has_app_context
from sqlalchemy import event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, with_loader_criteria
from sqlalchemy.sql.functions import FunctionElement
from werkzeug.exceptions import Forbidden

from .access import Role
from .models.accounts import User
from .models.authority import Authority, operation_authority
from .models.base import OwnedByAuthority
from .models.compliance import CaseStatus, NamingAttachment, NamingCase, NamingStep
from .models.letters import LetterDispatch, OutboxMessage
from .models.purchases import (FollowUpAction, NotificationLetter, Operation, TestPurchase, Volunteer,
                               VolunteerConsent)
from .models.register import Premises
from .models.training import TrainingAttendance, TrainingInvitation, TrainingSession
from .models.visits import AdviceVisit

log = logging.getLogger(__name__)

AUTHORITY = "authority"  # staff of one authority: own rows, plus operations shared with it
ALL = "all"  # City Hall: read-only, London-wide, no volunteers, published naming only
BUSINESS = "business"  # a retailer: rows about their own business

PUBLIC_NAMING_STATUSES = (CaseStatus.PUBLISHED, CaseStatus.REMOVED)
RLS_ROLE = "retail_scoped"


class OutsideAuthority(Forbidden):
    description = "This record belongs to another authority: you can read it, but only its own staff can change it."


@dataclass(frozen=True)
class Scope:
    kind: str
    authority_id: int | None = None
    business_id: int | None = None
    user_id: int | None = None


def scope_for(user) -> Scope | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if user.role == Role.RETAILER:
        return Scope(BUSINESS, user.authority_id, user.business_id, user.id)
    if user.role == Role.CITY_HALL:
        return Scope(ALL, user.authority_id, None, user.id)
    return Scope(AUTHORITY, user.authority_id, None, user.id)


def current_scope() -> Scope | None:
    if not has_app_context() or g.get("_unscoped_depth"):
        return None
    return g.get("_retail_scope")


def current_authority_id() -> int | None:
    scope = current_scope()
    return scope.authority_id if scope is not None else None


def set_scope(scope: Scope | None) -> None:
    """Start (or end, with None) the signed-in user's scope for this app context."""
    g._retail_scope = scope
    from .extensions import db

    session = db.session()
    if session.in_transaction():  # a transaction already open (tests share one app context across requests)
        _apply_database_scope(session.connection(), scope)


def unscoped_session(session: Session) -> Session:
    """Mark a session the system opens for itself (rescoring after a commit) as London-wide."""
    session.info["unscoped"] = True
    return session


@contextmanager
def unscoped():
    """Read and write London-wide for a computation the system owns (a score counts every borough's sales)."""
    g._unscoped_depth = g.get("_unscoped_depth", 0) + 1
    _sync_database_scope()
    try:
        yield
    finally:
        g._unscoped_depth -= 1
        _sync_database_scope()


def london_wide(function):
    """Decorator: the function computes a London-wide fact (a business's score, its pending enforcement anywhere)."""
    @wraps(function)
    def wrapper(*args, **kwargs):
        if not has_app_context():
            return function(*args, **kwargs)
        with unscoped():
            return function(*args, **kwargs)

    return wrapper


@contextmanager
def acting_for(scope: Scope | None):
    """Run a block as a given scope (CLI commands that act for an authority, and tests)."""
    previous = g.get("_retail_scope")
    set_scope(scope)
    try:
        yield
    finally:
        set_scope(previous)


# --- reads ------------------------------------------------------------------------------------------------------

def _shared_operation_ids(authority_id: int):
    return sa.select(operation_authority.c.operation_id).where(operation_authority.c.authority_id == authority_id)


class _in_shared_operations(FunctionElement):
    """PostgreSQL: `column` is one of the operations shared with an authority, `col = ANY(ARRAY(SELECT ...))`.
    PostgreSQL cannot drive an index from an IN subquery inside an OR, so "ours or shared with us" read every test
    purchase (a sequential scan of 209,000 at UK scale, 135 ms for the test purchases list's count); with the ids as
    an array it combines the authority and operation indexes (11 ms)."""
    type = sa.Boolean()
    inherit_cache = True
    name = "in_shared_operations"


@compiles(_in_shared_operations, "postgresql")
def _in_shared_operations_pg(element, compiler, **kw):
    column, ids = element.clauses
    return f"{compiler.process(column, **kw)} = ANY(ARRAY{compiler.process(ids, **kw)})"


def _shared(column, authority_id: int):
    ids = _shared_operation_ids(authority_id)
    from .extensions import db

    if db.engine.dialect.name == "postgresql":
        return _in_shared_operations(column, ids.scalar_subquery())
    # SQLite: a plain IN, which its planner answers from the two indexes. (The element above would be written
    # `(...) = 1` there, as every boolean expression is on a database without booleans, and that reads every row.)
    return column.in_(ids)


def _business_sessions(business_id: int):
    inv, att = TrainingInvitation.__table__, TrainingAttendance.__table__
    return sa.union(sa.select(inv.c.session_id).where(inv.c.business_id == business_id, inv.c.session_id.is_not(None)),
                    sa.select(att.c.session_id).where(att.c.business_id == business_id))


# Each rule is a lambda of the model class: SQLAlchemy caches a lambda's SQL by its code and binds the ids it closes
# over as parameters, so adding the dozen rules to every statement costs about a fifth of what plain clauses did
# (their cache keys were rebuilt on every execution: ~3 ms a statement, a third of a busy page's time).

def _criteria(scope: Scope) -> list[tuple[type, object]]:
    """The read rule for each owned model under `scope`, as (model, lambda cls: clause)."""
    if scope.kind == ALL:
        return [(Volunteer, lambda cls: sa.false()), (VolunteerConsent, lambda cls: sa.false()),
                (AdviceVisit, lambda cls: sa.false()),
                (NamingCase, lambda cls: cls.status.in_(PUBLIC_NAMING_STATUSES)),
                (NamingStep, lambda cls: cls.case_id.in_(sa.select(NamingCase.__table__.c.id).where(
                    NamingCase.__table__.c.status.in_(PUBLIC_NAMING_STATUSES)))),
                (NamingAttachment, lambda cls: cls.case_id.in_(sa.select(NamingCase.__table__.c.id).where(
                    NamingCase.__table__.c.status.in_(PUBLIC_NAMING_STATUSES)))),
                (LetterDispatch, lambda cls: sa.false()), (OutboxMessage, lambda cls: sa.false())]
    if scope.kind == BUSINESS:
        b = scope.business_id
        return [(Operation, lambda cls: sa.false()), (Volunteer, lambda cls: sa.false()),
                (VolunteerConsent, lambda cls: sa.false()),
                (TestPurchase, lambda cls: cls.business_id == b),
                (NotificationLetter, lambda cls: cls.business_id == b),
                (FollowUpAction, lambda cls: cls.business_id == b), (NamingCase, lambda cls: cls.business_id == b),
                (NamingStep, lambda cls: cls.case_id.in_(sa.select(NamingCase.__table__.c.id).where(
                    NamingCase.__table__.c.business_id == b))),
                (NamingAttachment, lambda cls: cls.case_id.in_(sa.select(NamingCase.__table__.c.id).where(
                    NamingCase.__table__.c.business_id == b))),
                (TrainingSession, lambda cls: cls.id.in_(_business_sessions(b))),
                (AdviceVisit, lambda cls: cls.business_id == b),
                (LetterDispatch, lambda cls: cls.business_id == b), (OutboxMessage, lambda cls: sa.false())]
    a = scope.authority_id
    return [
        (Operation, lambda cls: sa.or_(cls.authority_id == a, _shared(cls.id, a))),
        (TestPurchase, lambda cls: sa.or_(cls.authority_id == a, _shared(cls.operation_id, a))),
        # A letter or action carries its test purchase's operation (_carry_operation): one lookup of the shared
        # operations, not a list of every purchase made in them (issue 15).
        (NotificationLetter, lambda cls: sa.or_(cls.authority_id == a, _shared(cls.operation_id, a))),
        (FollowUpAction, lambda cls: sa.or_(cls.authority_id == a, _shared(cls.operation_id, a))),
        (Volunteer, lambda cls: cls.authority_id == a),  # never shared, not even with an operation's partners
        (VolunteerConsent, lambda cls: cls.authority_id == a),
        (TrainingSession, lambda cls: cls.authority_id == a),
        (NamingCase, lambda cls: cls.authority_id == a),
        (NamingStep, lambda cls: cls.case_id.in_(sa.select(NamingCase.__table__.c.id).where(
            NamingCase.__table__.c.authority_id == a))),
        (NamingAttachment, lambda cls: cls.case_id.in_(sa.select(NamingCase.__table__.c.id).where(
            NamingCase.__table__.c.authority_id == a))),
        (AdviceVisit, lambda cls: cls.authority_id == a),  # an officer's notes stay with their authority
        (LetterDispatch, lambda cls: cls.authority_id == a),
        (OutboxMessage, lambda cls: cls.authority_id == a),
    ]


@event.listens_for(Session, "do_orm_execute")
def _scope_reads(state) -> None:
    if (not state.is_select or state.is_column_load or state.execution_options.get("unscoped")
            or state.session.info.get("unscoped")):
        return
    scope = current_scope()
    if scope is None:
        return
    # Added to every statement: the rule then also reaches owned models that appear only in a subquery or a join,
    # as PostgreSQL's row-level security does.
    cached = g.get("_retail_criteria")
    if cached is None or cached[0] != scope:
        cached = (scope, [with_loader_criteria(model, clause, include_aliases=True)
                          for model, clause in _criteria(scope)])
        g._retail_criteria = cached
    state.statement = state.statement.options(*cached[1])


# --- writes -----------------------------------------------------------------------------------------------------

def _committed(obj, name: str):
    state = sa.inspect(obj)
    history = state.attrs[name].history
    return history.deleted[0] if history.deleted else getattr(obj, name)


def _parent_purchase(session: Session, obj: NotificationLetter | FollowUpAction) -> TestPurchase | None:
    """The test purchase a new letter or action hangs from, whether it was given as an object or as an id."""
    return obj.test_purchase if obj.test_purchase is not None else session.get(TestPurchase, obj.test_purchase_id)


def _derive_owner(session: Session, obj, scope: Scope | None) -> int | None:
    """The authority a new owned row belongs to: its parent's, else the signed-in user's."""
    parent = None
    if isinstance(obj, (NotificationLetter, FollowUpAction)):
        parent = _parent_purchase(session, obj)
    elif isinstance(obj, VolunteerConsent):
        parent = obj.volunteer if obj.volunteer is not None else session.get(Volunteer, obj.volunteer_id)
    elif isinstance(obj, TestPurchase) and scope is None and obj.operation_id:
        parent = obj.operation if obj.operation is not None else session.get(Operation, obj.operation_id)
    if parent is not None and parent.authority_id:
        return parent.authority_id
    # Unscoped code (CLI, jobs) names the owner itself; tests may set a default owner for brevity.
    return default_owner_id(session.connection())


def default_owner_id(connection) -> int | None:
    """The owner of a row inserted without one: the signed-in user's authority, else the configured default."""
    scope = current_scope()
    if scope is not None:
        return scope.authority_id if scope.kind == AUTHORITY else None
    default = current_app.config.get("RETAIL_UNSCOPED_OWNER") if has_app_context() else None
    if not default:
        return None
    return connection.scalar(sa.select(Authority.id).where(Authority.code == default))


def borough_authorities(session: Session) -> dict[str, int]:
    return dict(session.execute(sa.select(Authority.borough, Authority.id).where(Authority.borough.is_not(None)),
                                execution_options={"unscoped": True}).all())


def may_change(obj) -> bool:
    """Whether the signed-in user may change this record (they may read more than they may change)."""
    scope = current_scope()
    if scope is None or not isinstance(obj, (OwnedByAuthority, User, TrainingAttendance, Premises)):
        # Shared registers (businesses, storefronts, invitations) are guarded by role, not by owner.
        return True
    return _may_write(obj, scope)


def _may_write(obj, scope: Scope) -> bool:
    if isinstance(obj, TrainingAttendance):
        # Completion is read London-wide; only the authority that ran the session records who came and passed.
        if scope.kind == BUSINESS:
            return False
        session_owner = sa.inspect(obj).session.scalar(
            sa.select(TrainingSession.authority_id).where(TrainingSession.id == obj.session_id),
            execution_options={"unscoped": True})
        return scope.kind == AUTHORITY and session_owner == scope.authority_id
    if isinstance(obj, User):
        if obj.id is not None and obj.id == scope.user_id:
            return True
        return scope.kind == AUTHORITY and _committed(obj, "authority_id") == scope.authority_id
    if isinstance(obj, Premises):
        owner = _committed(obj, "authority_id")
        return scope.kind != ALL and (owner is None or scope.kind == BUSINESS or owner == scope.authority_id)
    if scope.kind == ALL:
        return False
    if scope.kind == BUSINESS:
        return getattr(obj, "business_id", None) == scope.business_id
    return _committed(obj, "authority_id") == scope.authority_id and obj.authority_id == scope.authority_id


@event.listens_for(Session, "before_flush")
def _carry_operation(session: Session, flush_context, instances) -> None:
    """A letter or action carries its test purchase's operation (the sharing rule reads it); a purchase moved to
    another operation takes its letters and actions with it."""
    for obj in session.new:
        if isinstance(obj, (NotificationLetter, FollowUpAction)):
            parent = _parent_purchase(session, obj)
            obj.operation_id = parent.operation_id if parent is not None else None
    for obj in session.dirty:
        if isinstance(obj, TestPurchase) and sa.inspect(obj).attrs.operation_id.history.has_changes():
            for table in (NotificationLetter.__table__, FollowUpAction.__table__):
                session.connection().execute(sa.update(table).where(table.c.test_purchase_id == obj.id)
                                             .values(operation_id=obj.operation_id))


@event.listens_for(Session, "before_flush")
def _guard_writes(session: Session, flush_context, instances) -> None:
    scope = None if session.info.get("unscoped") else current_scope()
    boroughs = None
    new = session.new  # a fresh set on each access: taken once (a 1,000-row import adds 2,000 objects at a time)
    for obj in new:
        if isinstance(obj, OwnedByAuthority) and obj.authority_id is None:
            obj.authority_id = _derive_owner(session, obj, scope)
    for obj in chain(new, session.dirty):
        if isinstance(obj, Premises) and (obj.authority_id is None or sa.inspect(obj).attrs.borough.history.added):
            boroughs = boroughs if boroughs is not None else borough_authorities(session)
            obj.authority_id = boroughs.get(obj.borough)
    if scope is None:
        return
    changed = chain(new, (o for o in session.dirty if session.is_modified(o)), session.deleted)
    for obj in changed:
        if (isinstance(obj, (OwnedByAuthority, User, TrainingAttendance))
                or (isinstance(obj, Premises) and obj not in new)):
            if not _may_write(obj, scope):
                raise OutsideAuthority()


# --- PostgreSQL row-level security (the second line) ------------------------------------------------------------

def _database_scope_values(scope: Scope | None) -> tuple[str, str, str]:
    if scope is None:
        return "", "", ""
    return scope.kind, str(scope.authority_id or ""), str(scope.business_id or "")


def _rls_available(connection) -> bool:
    engine = connection.engine
    cached = getattr(engine, "_retail_rls", None)
    if cached is None:
        cached = bool(connection.exec_driver_sql(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(r)s) "
            "AND ((SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
            "     OR pg_has_role(current_user, %(r)s, 'MEMBER'))", {"r": RLS_ROLE}).scalar())
        if not cached:
            log.warning("PostgreSQL role %s is missing: row-level security is not enforced", RLS_ROLE)
        engine._retail_rls = cached
    return cached


def _apply_database_scope(connection, scope: Scope | None) -> None:
    if connection.dialect.name != "postgresql" or not _rls_available(connection):
        return
    kind, authority, business = _database_scope_values(scope)
    connection.exec_driver_sql(
        "SELECT set_config('retail.scope', %(k)s, true), set_config('retail.authority_id', %(a)s, true), "
        "set_config('retail.business_id', %(b)s, true)", {"k": kind, "a": authority, "b": business})
    connection.exec_driver_sql(f"SET LOCAL ROLE {RLS_ROLE}" if scope is not None else "RESET ROLE")


def _sync_database_scope() -> None:
    from .extensions import db

    session = db.session()
    if session.in_transaction():
        _apply_database_scope(session.connection(), current_scope())


@event.listens_for(Session, "after_begin")
def _scope_transaction(session, transaction, connection) -> None:
    scope = current_scope()
    if scope is not None and not session.info.get("unscoped"):
        _apply_database_scope(connection, scope)


# Each owned table's read rule, in SQL, mirroring `_criteria`. `{a}` / `{b}` are the session's authority/business.
_A = "nullif(current_setting('retail.authority_id', true), '')::int"
_B = "nullif(current_setting('retail.business_id', true), '')::int"
_SHARED_OPS = f"(SELECT operation_id FROM operation_authority WHERE authority_id = {_A})"
_SHARED_TPS = f"(SELECT id FROM test_purchase WHERE operation_id IN {_SHARED_OPS})"
# Letters and actions read the operation they carry (migration 0023). The migrations before it install the rule
# through the test purchase instead, since their tables have no such column yet.
_CARRIES_OPERATION = ("notification_letter", "follow_up_action")
_THROUGH_PURCHASE = f"authority_id = {_A} OR test_purchase_id IN {_SHARED_TPS}"
_SESSIONS = (f"(SELECT session_id FROM training_invitation WHERE business_id = {_B} "
             f"UNION SELECT session_id FROM training_attendance WHERE business_id = {_B})")
RLS_RULES: dict[str, tuple[str, str, str]] = {
    # table: (authority rule, business rule, City Hall rule)
    "operation": (f"authority_id = {_A} OR id IN {_SHARED_OPS}", "false", "true"),
    "test_purchase": (f"authority_id = {_A} OR operation_id IN {_SHARED_OPS}", f"business_id = {_B}", "true"),
    "notification_letter": (f"authority_id = {_A} OR operation_id IN {_SHARED_OPS}", f"business_id = {_B}", "true"),
    "follow_up_action": (f"authority_id = {_A} OR operation_id IN {_SHARED_OPS}", f"business_id = {_B}", "true"),
    "volunteer": (f"authority_id = {_A}", "false", "false"),
    "volunteer_consent": (f"authority_id = {_A}", "false", "false"),
    "training_session": (f"authority_id = {_A}", f"id IN {_SESSIONS}", "true"),
    "naming_case": (f"authority_id = {_A}", f"business_id = {_B}",
                    "status IN (" + ", ".join(f"'{s.value}'" for s in PUBLIC_NAMING_STATUSES) + ")"),
    "advice_visit": (f"authority_id = {_A}", f"business_id = {_B}", "false"),
    # Personal values held apart from the audit log, and who viewed a volunteer's details (issue 9, parts 5-6).
    # A retailer's own representations on a naming case write their email here, so the business may add those.
    "audit_personal": (f"authority_id = {_A}",
                       "record_type = 'NamingCase' AND record_id IN (SELECT id FROM naming_case)", "false"),
    "personal_data_view": (f"authority_id = {_A}", "false", "false"),
    # Letters sent (issue 12): the sender's authority and the business they went to; email copies staff only.
    "letter_dispatch": (f"authority_id = {_A}", f"business_id = {_B}", "false"),
    "outbox_message": (f"authority_id = {_A}", "false", "false"),
}
# Children follow their parent's policy: the subquery on the parent is itself filtered by the parent's policy.
RLS_CHILD_RULES = {"naming_step": "case_id IN (SELECT id FROM naming_case)",
                   "naming_attachment": "case_id IN (SELECT id FROM naming_case)",
                   "operation_target": "operation_id IN (SELECT id FROM operation)"}


def row_level_security_sql(existing_tables: set[str] | None = None, carry_operation: bool = True) -> list[str]:
    """The role, grants and policies. With `existing_tables`, policies only for those tables: a migration installs
    the rules for the tables that exist at its revision, and each later migration that adds a table re-runs it.
    `carry_operation` False: letters and actions have no operation_id yet (a migration before 0023)."""
    statements = [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{RLS_ROLE}') THEN "
        f"CREATE ROLE {RLS_ROLE} NOLOGIN; END IF; END $$",
        # The app's own login must be able to SET ROLE to it (a superuser always can).
        f"DO $$ BEGIN EXECUTE 'GRANT {RLS_ROLE} TO ' || quote_ident(current_user); "
        f"EXCEPTION WHEN others THEN NULL; END $$",
        f"GRANT USAGE ON SCHEMA public TO {RLS_ROLE}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {RLS_ROLE}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {RLS_ROLE}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {RLS_ROLE}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {RLS_ROLE}",
    ]
    scope = "coalesce(current_setting('retail.scope', true), '')"
    for table, (authority_rule, business_rule, all_rule) in RLS_RULES.items():
        if existing_tables is not None and table not in existing_tables:
            continue
        if table in _CARRIES_OPERATION and not carry_operation:
            authority_rule = _THROUGH_PURCHASE
        rule = (f"{scope} = '' OR ({scope} = 'authority' AND ({authority_rule})) "
                f"OR ({scope} = 'business' AND ({business_rule})) OR ({scope} = 'all' AND ({all_rule}))")
        statements += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS scoped_by_authority ON {table}",
            f"CREATE POLICY scoped_by_authority ON {table} USING ({rule})",
        ]
    for table, rule in RLS_CHILD_RULES.items():
        if existing_tables is not None and table not in existing_tables:
            continue
        statements += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS scoped_by_authority ON {table}",
            f"CREATE POLICY scoped_by_authority ON {table} USING ({scope} = '' OR ({rule}))",
        ]
    return statements


def install_row_level_security(connection, carry_operation: bool | None = None) -> None:
    """Create the `retail_scoped` role, its grants and the policies (PostgreSQL only; idempotent). `carry_operation`:
    whether letters and actions have their operation_id (None: look)."""
    if connection.dialect.name != "postgresql":
        return
    from sqlalchemy import inspect

    inspector = inspect(connection)
    existing = set(inspector.get_table_names())
    if carry_operation is None:
        carry_operation = "notification_letter" not in existing or "operation_id" in {
            column["name"] for column in inspector.get_columns("notification_letter")}
    for statement in row_level_security_sql(existing, carry_operation):
        connection.exec_driver_sql(statement)
