"""All models, imported here so Alembic and the app see every table.

Each area keeps its models in its own module; the area modules listed in AREA_MODULES are imported when present.
"""
import importlib

from .accounts import LoginThrottle, User
from .authority import Authority, AuthorityKind, OperationAuthority
from .audit import AuditEntry, FormSubmission
from .register import (Business, BusinessType, ImportBatch, OnlineStore, Platform, Premises, PremisesSells,
                       PremisesStatus, RraScheme, RraSignature, RraStatus, RraStatusEvent, SellsCategory)
from .settings import Setting

AREA_MODULES = ("purchases", "training", "listings", "compliance", "visits", "retention", "letters")

for _name in AREA_MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{_name}":
            raise

__all__ = [
    "AuditEntry", "Authority", "AuthorityKind", "OperationAuthority",
    "Business", "BusinessType", "FormSubmission", "ImportBatch", "OnlineStore", "Platform", "Premises",
    "PremisesSells", "PremisesStatus", "RraScheme", "RraSignature", "RraStatus", "RraStatusEvent", "SellsCategory",
    "LoginThrottle", "Setting", "User",
]
