"""All models, imported here so Alembic and the app see every table."""
from .accounts import User
from .audit import AuditEntry, FormSubmission
from .register import (Business, BusinessType, ImportBatch, OnlineStore, Platform, Premises, PremisesSells,
                       PremisesStatus, RraScheme, RraSignature, RraStatus, RraStatusEvent, SellsCategory)
from .settings import Setting

__all__ = [
    "AuditEntry", "Business", "BusinessType", "FormSubmission", "ImportBatch", "OnlineStore", "Platform", "Premises",
    "PremisesSells", "PremisesStatus", "RraScheme", "RraSignature", "RraStatus", "RraStatusEvent", "SellsCategory",
    "Setting", "User",
]
