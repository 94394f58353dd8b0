"""Volunteer data (issue 9 part 5, brief 2.2): date of birth, welfare notes, areas to avoid and consent/photo
references only for the officers of an operation the volunteer has consent for and for supervisors; every view is
logged for supervisors; everyone else sees the code name and age band."""
import sqlalchemy as sa

from retail import purchases as P
from retail.access import Role
from retail.models.retention import PersonalDataView
from tests.conftest import login_as, make_user
from tests.test_purchases import TODAY, give_consent, make_operation
from datetime import date

DOB = date(TODAY.year - 14, 3, 17)
SECRETS = ("WELFARE-QZX", "AVOID-QZX", "Mrs Guardian", "PH-778", f"{DOB:%d %b %Y}")


def _setup(db, officer):
    op = make_operation()
    op.officer_ids = [officer.id]
    volunteer = P.create_volunteer({"code_name": "KESTREL", "date_of_birth": DOB, "active": True,
                                    "areas_to_avoid": "AVOID-QZX", "welfare_notes": "WELFARE-QZX"})
    db.session.commit()
    give_consent(op, volunteer)
    return op, volunteer


def _views(db):
    return db.session.scalars(sa.select(PersonalDataView)).all()


def test_officer_of_the_operation_and_supervisor_see_details_and_are_logged(client, users, db):
    op, volunteer = _setup(db, users[Role.OFFICER])
    for role in (Role.OFFICER, Role.SUPERVISOR):
        login_as(client, users[role])
        page = client.get(f"/volunteers/{volunteer.id}").get_data(as_text=True)
        assert all(s in page for s in SECRETS), role
        client.post("/logout")
    assert [v.actor for v in _views(db)] == [users[Role.OFFICER].email, users[Role.SUPERVISOR].email]
    login_as(client, users[Role.SUPERVISOR])
    log = client.get("/volunteers/access-log").get_data(as_text=True)
    assert users[Role.OFFICER].email in log and "KESTREL" in log


def test_other_staff_see_code_name_and_age_band_only(client, users, db):
    op, volunteer = _setup(db, users[Role.OFFICER])
    other_officer = make_user(Role.OFFICER, "not-on-op@test.example")
    for user in (other_officer, users[Role.POLICE], users[Role.ADMIN]):
        login_as(client, user)
        for url in (f"/volunteers/{volunteer.id}", f"/operations/{op.id}", "/volunteers"):
            page = client.get(url).get_data(as_text=True)
            assert "KESTREL" in page and "14–15" in page, (user.email, url)
            assert not any(s in page for s in SECRETS), (user.email, url)
        assert client.get(f"/volunteers/{volunteer.id}/edit").status_code == 403
        client.post("/logout")
    assert _views(db) == []


def test_withdrawn_consent_ends_the_officers_access(client, users, db):
    op, volunteer = _setup(db, users[Role.OFFICER])
    P.withdraw_consent(volunteer.consents[0])
    db.session.commit()
    login_as(client, users[Role.OFFICER])
    assert "WELFARE-QZX" not in client.get(f"/volunteers/{volunteer.id}").get_data(as_text=True)


def test_only_supervisors_read_the_access_log(client, users, db):
    for role in (Role.ADMIN, Role.OFFICER, Role.POLICE, Role.RETAILER, Role.CITY_HALL):
        login_as(client, users[role])
        assert client.get("/volunteers/access-log").status_code == 403, role
        client.post("/logout")
