"""Naming cases' personal data (who made representations, and any field the naming model declares personal), erased
once the retention period after the case closed has run (brief 5.2: the ICO removes its own published entries after
12 months for people, 2 years for companies)."""
from datetime import date

import sqlalchemy as sa

from ..extensions import db
from ..models.compliance import CaseStatus, NamingCase
from ..models.retention import AuditPersonal

# A case that can no longer be published: its personal data only waits for the retention period.
CLOSED = (CaseStatus.REMOVED, CaseStatus.NO_ACTION)


def closed_on(case: NamingCase) -> date | None:
    if case.status == CaseStatus.REMOVED:
        return case.removed_on or case.expires_on
    if case.status == CaseStatus.NO_ACTION:
        decided = case.appeal_decided_at or case.decided_at  # an appeal allowed closes the case when decided
        return decided.date() if decided else case.updated_at.date()
    return None


def has_personal_data(case: NamingCase) -> bool:
    return any(getattr(case, name) not in (None, "") for name in NamingCase.__audit_personal__)


def erase_personal_data(case: NamingCase) -> None:
    """Blank the case's personal fields and the personal values its audit entries held apart; the case, its public
    facts and the log of what happened stay."""
    for name in NamingCase.__audit_personal__:
        column = NamingCase.__table__.c[name]
        setattr(case, name, None if column.nullable else "")
    db.session.flush()
    db.session.execute(sa.delete(AuditPersonal).where(AuditPersonal.record_type == "NamingCase",
                                                      AuditPersonal.record_id == case.id))
