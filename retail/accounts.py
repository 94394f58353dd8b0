"""Account rules: signing in (throttled), revocable sessions, creating and changing users."""
import hmac
import math

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from . import throttle
from .access import Role
from .audit import record_event
from .extensions import db
from .models.accounts import User
from .models.register import Business
from .passwords import check_password_rule, verify_against_nothing
from .validation import InvalidValue


class LoginRefused(Exception):
    status = 200


class LoginThrottled(LoginRefused):
    """Too many failures: answer 429 with Retry-After, without checking the password."""

    status = 429

    def __init__(self, seconds: int, lead: str = ""):
        self.retry_after = max(1, int(seconds))
        wait = (f"{self.retry_after} seconds" if self.retry_after < 120
                else f"{math.ceil(self.retry_after / 60)} minutes")
        super().__init__(f"{lead}Too many failed sign-in attempts: wait {wait} before trying again. "
                         "The right password works once the wait is over.".lstrip())


GENERIC_REFUSAL = "Email or password not recognised."


def authenticate(email: str, password: str, address: str = "unknown",
                 known_user_ids: frozenset[int] = frozenset()) -> User:
    """Return the user, or raise LoginRefused (LoginThrottled while a back-off runs) with the message to show.

    An unknown email costs the same password hash as a known one and counts against the same throttles, so the
    answer tells nothing about which emails have accounts. See retail.throttle for the back-off rules."""
    email = email.strip().lower()
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))
    keys = throttle.keys_for(email, address)
    enforced = dict(keys)
    if user is not None and user.id in known_user_ids:
        del enforced["account"]  # a browser this account used before is not held up by guessing elsewhere
    wait = throttle.seconds_to_wait(enforced.values())
    if wait:
        raise LoginThrottled(wait)
    right = user.check_password(password) if user is not None else verify_against_nothing(password)
    if not right:
        started = throttle.record_failure(keys)
        record_type, record_id = ("User", user.id) if user is not None else ("Login", 0)
        details = {"email": [None, email], "address": [None, address]}
        record_event(record_type, record_id, "Sign-in failed: wrong password" if user is not None
                     else "Sign-in failed: no such account", details)
        if started:
            record_event(record_type, record_id, "Sign-in slowed down after repeated failures", {
                **details, **{f"wait_{kind}_seconds": [None, seconds] for kind, seconds in started.items()}})
        db.session.commit()
        wait = throttle.seconds_to_wait(enforced.values())
        if wait:
            raise LoginThrottled(wait, lead=GENERIC_REFUSAL + " ")
        raise LoginRefused(GENERIC_REFUSAL)
    if not user.active:
        raise LoginRefused("This account has been disabled. Ask an administrator.")
    throttle.clear([keys["pair"], keys["account"]])
    user.record_login()
    db.session.commit()
    return user


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's user loader: the session cookie names the user and their current session token."""
    user_id, _, token = (session_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None  # a cookie from before sessions were revocable, or a forged one
    user = db.session.get(User, int(user_id))
    if user is None or not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


def sign_out(user: User) -> None:
    """End every session of `user` (the cookie just used, and any copy of it)."""
    user.end_sessions()
    db.session.flush()


def change_own_password(user: User, current_password: str, new_password: str) -> None:
    """Raise InvalidValue (WeakPassword for the new one) or change it; the user's other sessions end."""
    if not user.check_password(current_password):
        raise InvalidValue("That is not your current password.")
    check_password_rule(new_password, (user.email, user.name))
    user.set_password(new_password)
    db.session.flush()


# What ends a user's other sessions: a session must not outlive the rights or the password it was opened with.
SESSION_ENDING_CHANGES = ("password_hash", "role", "authority_id", "business_id", "active")


@event.listens_for(Session, "before_flush")
def _end_sessions_on_account_changes(session: Session, flush_context, instances) -> None:
    for user in session.dirty:
        if not isinstance(user, User):
            continue
        state = sa.inspect(user)
        changed = [name for name in SESSION_ENDING_CHANGES if _really_changed(state.attrs[name].history)]
        if not changed:
            continue
        if not state.attrs.session_token.history.added:
            user.end_sessions()
        if "password_hash" in changed:
            # The hash itself is never logged; this says that it changed and who changed it.
            record_event("User", user.id, "Password changed; the user's other sessions ended")


def _really_changed(history) -> bool:
    return bool(history.added) and list(history.added) != list(history.deleted or ())


def create_user(email: str, role: str, password: str, name: str = "", business_id: int | None = None,
                authority_id: int | None = None) -> User:
    """Create an account in `authority_id` (by default the signed-in admin's own authority)."""
    from .scoping import current_authority_id

    email = email.strip().lower()
    role = Role(role)
    authority_id = authority_id or current_authority_id()
    if authority_id is None:
        raise InvalidValue("Say which authority or partner organisation the user works for.")
    if db.session.scalar(sa.select(User.id).where(sa.func.lower(User.email) == email)):
        raise InvalidValue(f"A user with the email {email} already exists.")
    _check_role_fits_organisation(role, authority_id)
    if role == Role.RETAILER:
        if not business_id or db.session.get(Business, business_id) is None:
            raise InvalidValue("A retailer must belong to an existing business (give its register id).")
    elif business_id:
        raise InvalidValue("Only retailer accounts belong to a business.")
    check_password_rule(password, (email, name))
    user = User(email=email, role=role, name=name or email.split("@")[0], business_id=business_id, active=True,
                authority_id=authority_id)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def _check_role_fits_organisation(role: Role, authority_id: int) -> None:
    """City Hall reads London-wide measures; its staff have that role (or manage its accounts), and no one else."""
    from .models.authority import Authority, AuthorityKind

    kind = db.session.scalar(sa.select(Authority.kind).where(Authority.id == authority_id))
    if kind is None:
        raise InvalidValue("There is no such authority.")
    if role == Role.CITY_HALL and kind != AuthorityKind.CITY_HALL:
        raise InvalidValue("The City Hall role is for City Hall's own staff.")
    if kind == AuthorityKind.CITY_HALL and role not in (Role.CITY_HALL, Role.ADMIN):
        raise InvalidValue("City Hall's staff have the read-only City Hall role.")


def update_user(user: User, *, email: str, name: str, role: str, business_id: int | None, active: bool,
                password: str | None, acting_user: User) -> User:
    role = Role(role)
    if user.id == acting_user.id and (not active or role != Role.ADMIN):
        raise InvalidValue("You cannot disable your own account or remove your own admin role.")
    clash = db.session.scalar(sa.select(User.id).where(sa.func.lower(User.email) == email.strip().lower(),
                                                       User.id != user.id))
    if clash:
        raise InvalidValue(f"A user with the email {email} already exists.")
    _check_role_fits_organisation(role, user.authority_id)
    if role == Role.RETAILER and (not business_id or db.session.get(Business, business_id) is None):
        raise InvalidValue("A retailer must belong to an existing business (give its register id).")
    if password:
        check_password_rule(password, (email, name))
    user.email = email.strip().lower()
    user.name = name
    user.role = role
    user.business_id = business_id if role == Role.RETAILER else None
    user.active = active
    if password:
        user.set_password(password)
    if active:  # an admin saving an enabled account lifts any back-off on it (as unlocking did before)
        throttle.clear([throttle.keys_for(user.email, "")["account"]])
    db.session.flush()
    return user
