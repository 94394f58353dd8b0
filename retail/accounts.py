"""Account rules: signing in with lock-out, creating and changing users."""
import sqlalchemy as sa
from flask import current_app

from .access import Role
from .extensions import db
from .models.accounts import User
from .models.register import Business
from .validation import InvalidValue


class LoginRefused(Exception):
    pass


def authenticate(email: str, password: str) -> User:
    """Return the user, or raise LoginRefused with the message to show. Counts failures and locks after too many."""
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    generic = "Email or password not recognised."
    if user is None:
        raise LoginRefused(generic)
    if user.is_locked():
        raise LoginRefused(_locked_message(user))
    if not user.check_password(password):
        user.record_failed_login(current_app.config["LOGIN_MAX_FAILURES"], current_app.config["LOGIN_LOCK_MINUTES"])
        db.session.commit()
        if user.is_locked():
            raise LoginRefused(_locked_message(user))
        raise LoginRefused(generic)
    if not user.active:
        raise LoginRefused("This account has been disabled. Ask an administrator.")
    user.record_login()
    db.session.commit()
    return user


def _locked_message(user: User) -> str:
    from .timeutil import format_datetime

    return ("This account is locked for 15 minutes after 5 failed sign-in attempts. "
            f"Try again after {format_datetime(user.locked_until, '%H:%M')}, or ask an administrator to unlock it.")


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
    if len(password) < 10:
        raise InvalidValue("The password must have at least 10 characters.")
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
    user.email = email.strip().lower()
    user.name = name
    user.role = role
    user.business_id = business_id if role == Role.RETAILER else None
    user.active = active
    if password:
        user.set_password(password)
    if active:
        user.locked_until = None
        user.failed_logins = 0
    db.session.flush()
    return user
