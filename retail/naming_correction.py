"""Correcting a published naming entry (issue 9 part 1): a wrong date in the statement, a misspelt name. Like a
withdrawal it takes two supervisors: one proposes the corrected statement and name with a reason, another confirms;
the public page, the API and the CSV show the corrected entry at once, with the date it was corrected so open-data
re-users can follow."""
from __future__ import annotations

from datetime import date

from .extensions import db
from .models.compliance import CaseStatus, NamingCase
from .naming import DECIDERS, MAX_STATEMENT, NamingError, _require, _require_role, _step, _text
from .timeutil import today_london, utcnow


def request_correction(case: NamingCase, user, statement: str, published_name: str, reason: str) -> NamingCase:
    _require(case, CaseStatus.PUBLISHED)
    _require_role(user, DECIDERS, "supervisors")
    if case.correction_requested_by_id:
        raise NamingError("A correction has already been proposed: another supervisor must confirm it.")
    statement = _text(statement, "corrected statement", MAX_STATEMENT)
    name = _text(published_name, "corrected name to publish", 200)
    reason = _text(reason, "reason for the correction", 2000)
    if statement == case.statement and name == case.published_name:
        raise NamingError("The corrected statement and name are the same as the published ones.")
    case.correction_statement, case.correction_name, case.correction_reason = statement, name, reason
    case.correction_requested_by_id = user.id
    case.correction_requested_at = utcnow()
    _step(case, user, "correction proposed", None, reason)
    db.session.flush()
    return case


def confirm_correction(case: NamingCase, user, today: date | None = None) -> NamingCase:
    _require(case, CaseStatus.PUBLISHED)
    _require_role(user, DECIDERS, "supervisors")
    if not case.correction_requested_by_id:
        raise NamingError("No correction has been proposed.")
    if user.id == case.correction_requested_by_id:
        raise NamingError("You proposed this correction: another supervisor must confirm it.")
    was = f"Was: {case.published_name}: {case.statement}"
    if case.published_legal_name == case.published_name:  # not a registered company: the name stands in for both
        case.published_legal_name = case.correction_name
    case.statement, case.published_name = case.correction_statement, case.correction_name
    case.corrected_on = today or today_london()
    reason = case.correction_reason
    case.correction_statement = case.correction_name = case.correction_reason = ""
    case.correction_requested_by_id = None
    case.correction_requested_at = None
    _step(case, user, "corrected", None, f"{reason} ({was})"[:4000])
    db.session.flush()
    return case


def correct(case: NamingCase, user, statement: str = "", published_name: str = "", reason: str = "") -> str:
    """The case page's correction form: proposes a correction, or confirms another supervisor's. Returns the message."""
    if case.correction_requested_by_id:
        confirm_correction(case, user)
        return "Corrected: the public register and open data show the corrected entry."
    request_correction(case, user, statement, published_name, reason)
    return "Correction proposed: another supervisor must confirm it."
