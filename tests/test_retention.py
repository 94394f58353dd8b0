"""Retention (issue 9 part 6, brief 5.2-5.3): the authority's schedule, the job that applies it and what it leaves.

The test that matters most: once a volunteer is removed, their date of birth and notes are nowhere in the database,
not in any table, nor in the SQLite file's free pages or write-ahead log, nor (PostgreSQL) after VACUUM.
"""
from datetime import date, timedelta

import sqlalchemy as sa

from retail import purchases as P
from retail import retention
from retail.access import Role
from retail.audit import PERSONAL_MARK
from retail.models.audit import AuditEntry
from retail.models.purchases import TestPurchase, Volunteer
from retail.models.retention import AuditPersonal, RetentionRun
from retail.settings import save_settings
from retail.timeutil import add_months
from tests.conftest import authority_id, csrf_token_from, login_as
from tests.test_purchases import TODAY, give_consent, in_store_data, make_operation

DOB = date(TODAY.year - 14, 3, 17)
MARKERS = ("WELFARE-QZX-NOTE", "AVOID-QZX-ROAD", "PARENT-QZX-NAME", "PHOTO-QZX-77", DOB.isoformat())


def _child(code="KESTREL"):
    volunteer = P.create_volunteer({"code_name": code, "date_of_birth": DOB, "active": True,
                                    "areas_to_avoid": "AVOID-QZX-ROAD", "welfare_notes": "first note"})
    _commit()
    P.update_volunteer(volunteer, {"code_name": code, "date_of_birth": DOB, "active": True,
                                   "areas_to_avoid": "AVOID-QZX-ROAD", "welfare_notes": "WELFARE-QZX-NOTE"},
                       volunteer.version)
    _commit()
    return volunteer


def _commit():
    from retail.extensions import db

    db.session.commit()


def _everything_as_text(db) -> str:
    """Every value of every row of every table, as text."""
    parts = []
    with db.engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


def _raw_files(db) -> bytes:
    path = db.engine.url.database
    data = b""
    for suffix in ("", "-wal", "-journal"):
        try:
            with open(path + suffix, "rb") as handle:
                data += handle.read()
        except FileNotFoundError:
            pass
    return data


def test_audit_log_records_that_personal_fields_changed_but_not_their_values(app, db):
    """Issue 9: 'the audit log copies volunteers' dates of birth and notes' — no longer."""
    volunteer = _child()
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.record_type == "Volunteer")).all()
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[0].changes["date_of_birth"] == [None, PERSONAL_MARK]
    assert entries[1].changes["welfare_notes"] == [PERSONAL_MARK, PERSONAL_MARK]
    assert entries[0].changes["code_name"] == [None, "KESTREL"]
    assert DOB.isoformat() not in str([e.changes for e in entries])
    held = db.session.scalars(sa.select(AuditPersonal).where(AuditPersonal.record_id == volunteer.id)).all()
    assert held[0].changes["date_of_birth"] == [None, DOB.isoformat()]
    assert held[1].changes["welfare_notes"] == ["first note", "WELFARE-QZX-NOTE"]


def test_removed_volunteer_is_nowhere_in_the_database(app, db, runner, make_business):
    """brief 2.2 and 5.2, issue 9 part 6: erased means gone — every table, free pages, WAL; SQLite and PostgreSQL."""
    business = make_business(legal_name="Sharp Corner Ltd", trading_name="Sharp Corner", postcode="E8 2AA")
    op = make_operation()
    volunteer = _child()
    give_consent(op, volunteer, photo="PHOTO-QZX-77")
    consent = volunteer.consents[0]
    consent.given_by = "PARENT-QZX-NAME"
    _commit()
    tp = P.create_in_store(in_store_data({"op": op, "premises": business.premises[0], "volunteer": volunteer},
                                         staff_action="asked-id", sale_made=False))
    _commit()
    text = _everything_as_text(db)
    assert all(marker in text for marker in MARKERS)  # the scan would see them

    # Within the periods nothing goes; a dry run reports without changing anything.
    result = runner.invoke(args=["apply-retention", "--as-of", add_months(TODAY, 6).isoformat()])
    assert "removed 0 volunteer(s)" in result.output and db.session.get(Volunteer, volunteer.id) is not None
    later = add_months(TODAY, 25)
    result = runner.invoke(args=["apply-retention", "--as-of", later.isoformat(), "--dry-run"])
    assert result.exit_code == 0 and "would remove 1 volunteer(s)" in result.output
    db.session.expire_all()
    assert db.session.get(Volunteer, volunteer.id) is not None

    result = runner.invoke(args=["apply-retention", "--as-of", later.isoformat()])
    assert result.exit_code == 0, result.output
    assert "Hackney" in result.output and "removed 1 volunteer(s)" in result.output
    db.session.expire_all()
    assert db.session.get(Volunteer, volunteer.id) is None
    purchase = db.session.get(TestPurchase, tp.id)
    assert purchase is not None and purchase.volunteer_id is None  # the business's record stays, without the child
    # The log keeps that the record was removed.
    actions = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.record_type == "Volunteer",
                                                                    AuditEntry.record_id == volunteer.id)).all()
    assert actions == ["create", "update", "delete"]

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM")
    text = _everything_as_text(db)
    for marker in MARKERS:
        assert marker not in text, marker
    if db.engine.dialect.name == "sqlite":
        raw = _raw_files(db)
        assert raw, "the database file was read"
        for marker in MARKERS:
            assert marker.encode() not in raw, f"{marker} left in the SQLite file or its WAL"
    run = db.session.scalar(sa.select(RetentionRun).order_by(RetentionRun.id.desc()))
    hackney = run.report[str(authority_id("hackney"))]
    assert hackney["volunteers_erased"] == 1 and hackney["volunteer_ids_erased"] == [volunteer.id]


def test_volunteer_is_kept_while_enforcement_is_pending(app, db, runner, make_business):
    """brief 5.3: no loss of evidence while a follow-up (retest, caution, prosecution) is pending."""
    business = make_business(legal_name="Sharp Corner Ltd", trading_name="Sharp Corner", postcode="E8 2AA")
    op = make_operation()
    volunteer = _child()
    give_consent(op, volunteer)
    tp = P.create_in_store(in_store_data({"op": op, "premises": business.premises[0], "volunteer": volunteer}))
    _commit()
    assert tp.failed
    # 18 months on: past the volunteer period, still inside the 24-month enforcement period.
    run = retention.apply_retention(add_months(TODAY, 18))
    assert run.report[str(authority_id("hackney"))]["volunteers_held_for_enforcement"] == 1
    _commit()
    assert db.session.get(Volunteer, volunteer.id) is not None


def test_each_authority_sets_its_own_schedule(app, db):
    """An authority may keep volunteers for less time; another authority's volunteers follow its own schedule."""
    hackney, camden = authority_id("hackney"), authority_id("camden")
    save_settings({"retention_volunteer_months": "3"}, authority_id=hackney)
    _commit()
    assert retention.schedule(hackney)["retention_volunteer_months"] == 3
    assert retention.schedule(camden)["retention_volunteer_months"] == 12
    volunteer = _child()
    run = retention.apply_retention(TODAY + timedelta(days=120))
    _commit()
    assert run.report[str(hackney)]["volunteers_erased"] == 1
    assert db.session.get(Volunteer, volunteer.id) is None


def test_schedule_out_of_bounds_is_refused(app):
    problems = retention.validate_schedule({"retention_volunteer_months": "0", "retention_enforcement_months": "x",
                                            "retention_naming_months": "24"})
    assert set(problems) == {"retention_volunteer_months", "retention_enforcement_months"}


def test_admin_sets_the_schedule_and_sees_the_last_run(client, users, db):
    """Issue 9 part 6: the authority sets the schedule; bad input is refused next to the field, nothing saved."""

    login_as(client, users[Role.ADMIN])
    page = client.get("/admin/retention").get_data(as_text=True)
    assert "has not run yet" in page
    data = {"csrf_token": csrf_token_from(page), "retention_volunteer_months": "0",
            "retention_enforcement_months": "24", "retention_naming_months": "24"}
    bad = client.post("/admin/retention", data=data)
    assert bad.status_code == 422 and "from 1 to 36" in bad.get_data(as_text=True)
    assert retention.schedule(authority_id("hackney"))["retention_volunteer_months"] == 12
    assert client.post("/admin/retention", data={**data, "retention_volunteer_months": "6"}).status_code == 302
    assert retention.schedule(authority_id("hackney"))["retention_volunteer_months"] == 6
    retention.apply_retention(dry_run=True, actor="cli:apply-retention")
    _commit()
    page = client.get("/admin/retention").get_data(as_text=True)
    assert "dry run" in page and "Volunteers that would be erased: 0" in page


def test_only_admins_set_the_schedule(client, users):

    for role in (Role.SUPERVISOR, Role.OFFICER, Role.POLICE, Role.RETAILER, Role.CITY_HALL):
        login_as(client, users[role])
        assert client.get("/admin/retention").status_code == 403, role
        client.post("/logout")


def test_nightly_job_is_scheduled_and_keeps_its_report(app, db):
    from retail.scrapers.scheduler import NIGHTLY_JOBS

    assert retention.nightly_retention in NIGHTLY_JOBS
    volunteer = _child()
    save_settings({"retention_volunteer_months": "1"}, authority_id=authority_id("hackney"))
    _commit()
    retention.nightly_retention()  # as of today: a volunteer added today is not yet due
    run = retention.last_run()
    assert run.actor == "scheduler:retention" and run.report[str(authority_id("hackney"))]["volunteers_erased"] == 0
    assert db.session.get(Volunteer, volunteer.id) is not None
