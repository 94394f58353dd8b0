"""The navigation bar: each area adds its entries with the roles that may see them."""
from dataclasses import dataclass

from flask import url_for
from flask_login import current_user

from .access import STAFF, Role


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset
    order: int = 50
    match: str | None = None  # the endpoints it is "active" on, by prefix; its blueprint's by default

    @property
    def prefix(self) -> str:
        return self.match or self.endpoint.split(".")[0] + "."


NAV: list[NavItem] = [
    NavItem("Home", "main.home", frozenset(Role), 0),
    NavItem("Register", "register.index", STAFF, 10),
    NavItem("Users", "admin.users", frozenset({Role.ADMIN}), 90),
    NavItem("Settings", "admin.settings", frozenset({Role.ADMIN}), 91),
]


def add_nav(label: str, endpoint: str, roles, order: int = 50, match: str | None = None) -> None:
    NAV.append(NavItem(label, endpoint, frozenset(roles), order, match))


def nav_items() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    items = sorted((i for i in NAV if current_user.role in i.roles), key=lambda i: i.order)
    return [{"label": i.label, "url": url_for(i.endpoint), "prefix": i.prefix} for i in items]
