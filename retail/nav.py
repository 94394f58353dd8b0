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
    NavItem("Retention", "admin.retention_schedule", frozenset({Role.ADMIN}), 92),
    NavItem("Letter wording", "admin.letter_wording", frozenset({Role.ADMIN}), 93, "admin.letter"),
]


def add_nav(label: str, endpoint: str, roles, order: int = 50, match: str | None = None) -> None:
    NAV.append(NavItem(label, endpoint, frozenset(roles), order, match))


# Entries that share a menu, so the bar fits a laptop (shown from 992 px): the group opens as a dropdown.
GROUP_OF = {
    "purchases.index": "Test purchases", "operations.index": "Test purchases", "purchases.letters": "Test purchases",
    "letters.week": "Test purchases", "letters.outbox_page": "Test purchases",
    "monitor.index": "Online listings", "monitor.targets": "Online listings",
    "compliance.scores": "Compliance", "compliance.candidates": "Compliance", "naming.index": "Compliance",
    "admin.users": "Administration", "admin.settings": "Administration",
    "visits.index": "Visits", "programme.index": "Visits",
    "admin.retention_schedule": "Administration", "admin.letter_wording": "Administration",
}


def nav_items() -> list[dict]:
    """The entries this user may see, in order; entries of one group become one dropdown (a group with a single
    visible entry stays a plain link). Each entry: label, url, prefixes (to mark it active) and children."""
    if not current_user.is_authenticated:
        return []
    items = sorted((i for i in NAV if current_user.role in i.roles), key=lambda i: i.order)
    out: list[dict] = []
    groups: dict[str, dict] = {}
    for item in items:
        entry = {"label": item.label, "url": url_for(item.endpoint), "prefixes": (item.prefix,), "children": []}
        group = GROUP_OF.get(item.endpoint)
        if group is None:
            out.append(entry)
        elif group in groups:
            groups[group]["children"].append(entry)
            groups[group]["prefixes"] += (item.prefix,)
        else:
            groups[group] = {"label": group, "url": None, "prefixes": (item.prefix,), "children": [entry]}
            out.append(groups[group])
    return [entry["children"][0] if entry["url"] is None and len(entry["children"]) == 1 else entry
            for entry in out]
