"""Bulk loads (the demo seed): rows given as dicts are stored as the ORM would store them, on both databases
(PostgreSQL takes them by COPY, SQLite by executemany)."""
from datetime import UTC, datetime

import sqlalchemy as sa

from retail.demo import bulk_insert, reset_sequences
from retail.extensions import db
from retail.models.compliance import ScoringRules
from retail.models.register import Business, BusinessType


def test_bulk_insert_stores_enums_json_and_fills_python_defaults(app):
    before = datetime.now(UTC)
    bulk_insert(Business.__table__, [
        {"id": 9001, "legal_name": "Blades O'Brien\tLtd", "legal_name_key": "blades obrien",
         "business_type": BusinessType.NATIONAL_AGREEMENT, "company_number": None},
        {"id": 9002, "legal_name": "Back\\slash & Co\nLine two", "legal_name_key": "backslash",
         "business_type": BusinessType.COURIER, "company_number": "01234567"},
    ])
    bulk_insert(ScoringRules.__table__, [{"version": 77, "values": {"rra_never": 6, "windows": [1, "a\tb"]}}])
    reset_sequences()
    db.session.commit()
    db.session.expunge_all()

    first, second = db.session.get(Business, 9001), db.session.get(Business, 9002)
    # Tabs, quotes, backslashes and newlines survive COPY's text format.
    assert (first.legal_name, second.legal_name) == ("Blades O'Brien\tLtd", "Back\\slash & Co\nLine two")
    # The enum is stored as its value (the CHECK constraint would refuse anything else) and read back as the member.
    assert (first.business_type, second.business_type) == (BusinessType.NATIONAL_AGREEMENT, BusinessType.COURIER)
    assert db.session.scalar(sa.text("SELECT business_type FROM business WHERE id = 9001")) == "national-agreement"
    assert first.company_number is None and second.company_number == "01234567"
    # Columns left out get the model's Python-side defaults, as an ORM insert would give them.
    assert first.trading_name == "" and first.notes == "" and first.version == 1
    assert first.created_at >= before.replace(microsecond=0) and first.updated_at is not None
    rules = db.session.scalar(sa.select(ScoringRules).where(ScoringRules.version == 77))
    assert rules.values == {"rra_never": 6, "windows": [1, "a\tb"]} and rules.created_by == ""
    # The sequences moved past the explicit ids: the next ORM insert gets a fresh id.
    later = Business(legal_name="Later Ltd", legal_name_key="later", business_type=BusinessType.INDEPENDENT)
    db.session.add(later)
    db.session.commit()
    assert later.id > 9002
