"""Blueprints, one per area. Each route declares who may use it (see retail.access).

Area blueprints are modules with a `bp` (and optionally more blueprints in `BLUEPRINTS`), imported when present.
"""
import importlib

from . import admin, auth, main, register

BLUEPRINTS = [auth.bp, main.bp, admin.bp, register.bp]

AREA_MODULES = ("purchases", "operations", "training", "portal", "monitor", "compliance", "naming", "public", "api",
                "dashboard", "visits", "programme", "letters")

for _name in AREA_MODULES:
    try:
        _module = importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{_name}":
            raise
        continue
    BLUEPRINTS.extend(getattr(_module, "BLUEPRINTS", [_module.bp]))
