"""Who may use which route: every view declares its roles, and a test walks the URL map to prove it."""
from enum import StrEnum
from functools import wraps

from flask import abort, request
from flask_login import current_user

from .extensions import login_manager


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    OFFICER = "officer"
    POLICE = "police"
    RETAILER = "retailer"
    CITY_HALL = "city-hall"  # read-only, London-wide measures (the Mayor's office)


ROLE_LABELS = {
    Role.ADMIN: "Administrator",
    Role.SUPERVISOR: "Supervisor (senior officer)",
    Role.OFFICER: "Trading Standards officer",
    Role.POLICE: "Police test-purchase team",
    Role.RETAILER: "Retailer",
    Role.CITY_HALL: "City Hall (read-only, London-wide measures)",
}

ALL_ROLES = frozenset(Role)
# The enforcement side: everyone but retailers.
STAFF = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.OFFICER, Role.POLICE})
# Staff who take part in operational work (logging, editing the register); admins manage the system.
OPERATIONAL = frozenset({Role.SUPERVISOR, Role.OFFICER, Role.POLICE, Role.ADMIN})
DECIDERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
# Who reads the measures dashboard and its exports: staff for their own authority, City Hall across London.
MEASURES_READERS = STAFF | {Role.CITY_HALL}

PUBLIC = "public"
ANY_USER = "any-user"


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _mark(view, rule):
    view.access_rule = rule
    return view


def public(view):
    """No login needed (the login page, the public register, open data)."""
    return _mark(view, PUBLIC)


def login_required(view):
    """Any signed-in user, whatever the role (own password, logout, home)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return _mark(wrapper, ANY_USER)


def roles_required(*roles):
    """Only signed-in users with one of `roles`; others get 403 (anonymous users go to login)."""
    allowed = frozenset(Role(r) for group in roles for r in ([group] if isinstance(group, str) else group))

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapper.allowed_roles = allowed
        return _mark(wrapper, allowed)

    return decorator


def has_role(*roles) -> bool:
    flat = {Role(r) for group in roles for r in ([group] if isinstance(group, str) else group)}
    return current_user.is_authenticated and current_user.role in flat
