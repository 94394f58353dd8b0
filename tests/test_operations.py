"""Operations and volunteers: setting up an operation, consent per operation, restricted volunteer pages."""
from datetime import date, timedelta

import sqlalchemy as sa

from retail.access import Role
from retail.models.purchases import Operation, Volunteer, VolunteerConsent
from tests.conftest import login_as
from tests.test_purchases import TODAY, make_operation, make_volunteer


def test_police_sets_up_an_operation_with_officers(client, users, db):
    login_as(client, users[Role.POLICE])
    response = client.post("/operations/new", data={
        "name": "Operation Sceptre, November week", "lead_agency": "police", "boroughs": ["hackney", "newham"],
        "starts_on": TODAY.isoformat(), "ends_on": (TODAY + timedelta(days=4)).isoformat(),
        "lead_officer_id": str(users[Role.POLICE].id),
        "officer_ids": [str(users[Role.POLICE].id), str(users[Role.OFFICER].id)], "risk_assessment_ref": "RA-2026-11",
        "submission_token": "op-1"})
    assert response.status_code == 302
    op = db.session.scalar(sa.select(Operation))
    assert op.boroughs == ["hackney", "newham"] and op.officer_ids == sorted([users[Role.POLICE].id,
                                                                               users[Role.OFFICER].id])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Operation Sceptre, November week" in page and "Hackney" in page and "RA-2026-11" in page


def test_operation_dates_must_make_sense(client, users, db):
    login_as(client, users[Role.OFFICER])
    response = client.post("/operations/new", data={
        "name": "Backwards", "lead_agency": "trading-standards", "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY - timedelta(days=2)).isoformat(), "submission_token": "op-2"})
    assert response.status_code == 422 and "before the first day" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Operation)) == 0


def test_stale_operation_edit_is_refused(client, users, db):
    op = make_operation()
    login_as(client, users[Role.OFFICER])
    old_version = op.version
    data = {"name": "First rename", "lead_agency": "police", "starts_on": op.starts_on.isoformat(),
            "ends_on": op.ends_on.isoformat(), "version": old_version}
    assert client.post(f"/operations/{op.id}/edit", data=data).status_code == 302
    response = client.post(f"/operations/{op.id}/edit", data={**data, "name": "Second rename"})
    assert response.status_code == 422 and "changed by someone else" in response.get_data(as_text=True)
    db.session.refresh(op)
    assert op.name == "First rename"


def test_consent_is_recorded_per_operation_and_refused_for_adults(client, users, db):
    op = make_operation()
    child = make_volunteer("SWIFT", age_years=15)
    adult = make_volunteer("EAGLE", dob=date(TODAY.year - 19, 1, 1))
    login_as(client, users[Role.POLICE])
    consent = {"given_by": "Mr Parent", "relationship_to_volunteer": "Father", "given_on": op.starts_on.isoformat(),
               "birth_certificate_checked_by": "PC Smith", "photo_ref": "IMG-1"}
    response = client.post(f"/operations/{op.id}/consents", data={**consent, "volunteer_id": str(child.id),
                                                                   "submission_token": "c-1"}, follow_redirects=True)
    assert "Consent recorded" in response.get_data(as_text=True)
    response = client.post(f"/operations/{op.id}/consents", data={**consent, "volunteer_id": str(adult.id),
                                                                   "submission_token": "c-2"}, follow_redirects=True)
    assert "18 or over" in response.get_data(as_text=True)
    response = client.post(f"/operations/{op.id}/consents", data={**consent, "volunteer_id": str(child.id),
                                                                   "submission_token": "c-3"}, follow_redirects=True)
    assert "already recorded" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VolunteerConsent)) == 1
    page = client.get(f"/purchases/new?operation={op.id}").get_data(as_text=True)
    assert ">SWIFT</option>" in page and ">EAGLE</option>" not in page
    assert "EAGLE (no parental consent for this operation)" in page


def test_withdrawn_consent_removes_volunteer_from_the_form(client, users, db):
    from tests.test_purchases import give_consent

    op = make_operation()
    volunteer = make_volunteer("WREN")
    consent = give_consent(op, volunteer)
    login_as(client, users[Role.OFFICER])
    assert ">WREN</option>" in client.get(f"/purchases/new?operation={op.id}").get_data(as_text=True)
    assert client.post(f"/consents/{consent.id}/withdraw").status_code == 302
    assert "withdrawn" in client.get(f"/operations/{op.id}").get_data(as_text=True)
    page = client.get(f"/purchases/new?operation={op.id}").get_data(as_text=True)
    assert ">WREN</option>" not in page and "WREN (consent withdrawn)" in page


def test_volunteer_validation_and_duplicate_code_name(client, users, db):
    login_as(client, users[Role.OFFICER])
    data = {"code_name": "OWL", "date_of_birth": date(TODAY.year - 14, 3, 3).isoformat(), "active": "y",
            "submission_token": "v-1"}
    assert client.post("/volunteers/new", data=data).status_code == 302
    again = client.post("/volunteers/new", data=data)  # double submit: same record
    assert again.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Volunteer)) == 1
    dup = client.post("/volunteers/new", data={**data, "code_name": "owl", "submission_token": "v-2"})
    assert dup.status_code == 422 and "already used" in dup.get_data(as_text=True)
    future = client.post("/volunteers/new", data={**data, "code_name": "LARK",
                                                  "date_of_birth": (TODAY + timedelta(days=1)).isoformat(),
                                                  "submission_token": "v-3"})
    assert future.status_code == 422 and "in the past" in future.get_data(as_text=True)


def test_volunteer_pages_are_staff_only(client, users, db):
    volunteer = make_volunteer("HERON")
    for role in (Role.ADMIN, Role.SUPERVISOR, Role.OFFICER, Role.POLICE):
        client.post("/logout")
        login_as(client, users[role])
        page = client.get(f"/volunteers/{volunteer.id}").get_data(as_text=True)
        # Issue 9 part 5: the date of birth only for supervisors (and officers of an operation with consent).
        shown = volunteer.date_of_birth.strftime("%d %b %Y") in page
        assert "HERON" in page and shown == (role == Role.SUPERVISOR), role
    client.post("/logout")
    login_as(client, users[Role.RETAILER])
    for url in ("/volunteers", f"/volunteers/{volunteer.id}", "/operations", "/volunteers/new"):
        assert client.get(url).status_code == 403, url
    home = client.get("/").get_data(as_text=True)
    assert "HERON" not in home


def test_police_home_page_opens_on_their_operation_with_consents_and_attempts(client, users, db):
    """Issue 11: the police home page was the officer's. A team on an operation today sees it first: the volunteers
    with consent (code names only, brief 2.2) and the attempts logged so far, with a button to log the next."""
    from retail import purchases as P
    from tests.factories import SAFEGUARDS, create_business
    from tests.test_purchases import give_consent

    police = users[Role.POLICE]
    op = make_operation()
    op.officer_ids = [police.id]
    db.session.commit()
    volunteer = make_volunteer("KESTREL")
    give_consent(op, volunteer)
    shop = create_business(legal_name="Corner Knives Ltd", trading_name="Corner Knives").premises[0]
    P.create_in_store({**SAFEGUARDS, "kind": "underage", "operation_id": op.id, "premises_id": shop.id,
                       "purchase_date": TODAY, "volunteer_id": volunteer.id, "staff_action": "no-challenge",
                       "sale_made": True}, police)
    db.session.commit()
    login_as(client, police)
    page = client.get("/").get_data(as_text=True)
    assert "Your operation" in page and op.name in page
    assert page.index("Your operation") < page.index("Retests due")  # first on the page
    assert "KESTREL" in page and "1 attempt logged, 1 sale" in page and "Corner Knives" in page
    assert f"/purchases/new?operation={op.id}" in page
    assert volunteer.date_of_birth.strftime("%d %b %Y") not in page


def test_a_test_modules_today_is_the_apps_today_after_midnight():
    """A run that crosses midnight: a module's TODAY computed the day before is set to the new day before each test
    (the autouse fixture in conftest), so dates built from it agree with the app's."""
    from datetime import timedelta

    import tests.test_purchases as purchases_tests
    from retail.timeutil import today_london
    from tests.conftest import set_modules_today

    purchases_tests.TODAY = today_london() - timedelta(days=1)  # as if imported before midnight
    set_modules_today(today_london())
    assert purchases_tests.TODAY == today_london() and TODAY == today_london()
