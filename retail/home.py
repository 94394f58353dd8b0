"""What the home page shows. Later features add panels here (retests due, expiring certificates, alerts)."""
from collections.abc import Callable

from . import register_totals

# Each provider takes the user and returns a panel dict {"title", "template", ...} or None. Areas register theirs.
PANEL_PROVIDERS: list[Callable] = []


def panel(func: Callable) -> Callable:
    PANEL_PROVIDERS.append(func)
    return func


def staff_panels(user) -> list[dict]:
    panels = []
    for provider in PANEL_PROVIDERS:
        result = provider(user)
        if result:
            panels.append(result)
    # A panel may ask to come first (the operation a police team is on today); otherwise areas keep their order.
    return sorted(panels, key=lambda p: p.get("order", 50))


@panel
def register_counts(user) -> dict | None:
    if not user.is_staff:  # City Hall reads the measures, not the register's pages
        return None
    counts = register_totals.totals()  # kept by triggers: counting the register cost 23 ms a page at UK scale
    return {"title": "Register", "template": "main/_panel_register.html",
            "businesses": counts[register_totals.BUSINESSES], "premises": counts[register_totals.TRADING_PREMISES]}

