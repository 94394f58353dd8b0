"""The retailer portal: a retailer sees only their own business, and answers training invitations online."""
import re
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from retail import portal
from retail import training as tr
from retail.access import Role
from retail.models.training import (
    InvitationResponse,
    TrainingRefusal,
)
from retail.timeutil import today_london
from tests.conftest import login_as, make_user
from tests.factories import SAFEGUARDS, create_business, sign_rra


@pytest.fixture
def setup(app, db, users):
    """The retailer's own business (with an RRA, an invitation and a certificate) and another business."""
    own = users[Role.RETAILER].business
    sign_rra(own, signed_on=date(2025, 1, 10))
    own.rra_signatures[0].review_due = date(2026, 1, 10)
    other = create_business(legal_name="Other Traders Ltd", trading_name="Other Traders", postcode="SE15 4QL",
                            borough="southwark")
    course = tr.create_course({"title": "Knife retailer accredited trader training"})
    future = tr.create_session({"course_id": course.id, "venue": "Croydon Clocktower", "capacity": 10,
                                "starts_at": tr.london_datetime(today_london() + timedelta(days=20), time(10))})
    past = tr.create_session({"course_id": course.id, "venue": "Library", "capacity": 10,
                              "starts_at": tr.london_datetime(today_london() - timedelta(days=350), time(10))})
    records = {}
    for key, business in (("own", own), ("other", other)):
        invitation = tr.create_invitation(business, {
            "premises_id": business.premises[0].id, "session_id": future.id, "visit_officer": "Olu Officer",
            "visited_on": today_london() - timedelta(days=3)})
        attendance = tr.add_attendee(past, {"person_name": f"{key.title()} Person", "person_role": "Manager",
                                            "premises_id": business.premises[0].id})
        db.session.flush()
        tr.record_result(attendance, True, 88, "test")
        records[key] = {"business": business, "premises": business.premises[0], "invitation": invitation,
                        "attendance": attendance}
    db.session.commit()
    return {**records, "future": future, "course": course}


def test_retailer_sees_own_business_rra_training_and_invitations(client, users, setup):
    login_as(client, users[Role.RETAILER])
    page = client.get("/my").get_data(as_text=True)
    assert "Own Shop" in page
    assert "RRA signed" in page and "Review due 10 Jan 2026" in page
    assert "Own Person" in page  # certified until ...
    expires = setup["own"]["attendance"].certificate_expires
    assert expires.strftime("%d %b %Y") in page
    assert "expiring within 30 days" in page  # the certificate (350 days old, valid 12 months) expires soon
    assert "Please reply: training invitation" in page
    # Nothing about the other business.
    assert "Other Traders" not in page and "Other Person" not in page


def test_retailer_menu_has_my_business(client, users, setup):
    login_as(client, users[Role.RETAILER])
    page = client.get("/my").get_data(as_text=True)
    assert 'href="/my"' in page and "My business" in page


def _portal_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule == "/my" or rule.rule.startswith("/my/"):
            methods = rule.methods - {"HEAD", "OPTIONS"}
            yield rule, ("GET" if "GET" in methods else "POST")


def test_every_portal_url_with_another_business_ids_is_404_or_403(app, client, users, setup, db):
    other = setup["other"]
    ids = {"premises_id": other["premises"].id, "invitation_id": other["invitation"].id,
           "attendance_id": other["attendance"].id, "business_id": other["business"].id}
    login_as(client, users[Role.RETAILER])
    checked = 0
    for rule, method in _portal_rules(app):
        if not rule.arguments:
            continue
        url = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", lambda m: str(ids.get(m.group(1), 999999)), rule.rule)
        response = client.open(url, method=method, data={"reason": "x", "places": "1",
                                                         "session_id": str(setup["future"].id)})
        assert response.status_code in (403, 404), (url, method, response.status_code)
        assert "Other Traders" not in response.get_data(as_text=True)
        checked += 1
    assert checked >= 6
    db.session.refresh(other["invitation"])
    assert other["invitation"].response == InvitationResponse.PENDING
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingRefusal)) == 0


def test_own_ids_work_in_every_portal_url(app, client, users, setup):
    own = setup["own"]
    login_as(client, users[Role.RETAILER])
    assert client.get(f"/my/premises/{own['premises'].id}").status_code == 200
    assert client.get(f"/my/invitations/{own['invitation'].id}").status_code == 200
    assert client.get(f"/my/invitations/{own['invitation'].id}/letter").status_code == 200
    certificate = client.get(f"/my/certificates/{own['attendance'].id}").get_data(as_text=True)
    assert "Own Person" in certificate and own["attendance"].certificate_number in certificate


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPERVISOR, Role.OFFICER, Role.POLICE])
def test_staff_are_refused_the_portal(app, users, setup, role):
    client = app.test_client()
    login_as(client, users[role])
    assert client.get("/my").status_code == 403
    assert client.get(f"/my/invitations/{setup['own']['invitation'].id}").status_code == 403


def test_anonymous_is_sent_to_login(client, setup):
    response = client.get("/my")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_retailer_accepts_invitation_choosing_the_session(client, users, setup, db):
    invitation = setup["own"]["invitation"]
    login_as(client, users[Role.RETAILER])
    page = client.get(f"/my/invitations/{invitation.id}").get_data(as_text=True)
    assert "Croydon Clocktower" in page and "Accept the invitation" in page
    assert "Olu Officer" in page  # the officer's name and authority only
    assert "officer@test.example" not in page
    response = client.post(f"/my/invitations/{invitation.id}/accept",
                           data={"session_id": str(setup["future"].id), "places": "3"}, follow_redirects=True)
    assert "your place is booked" in response.get_data(as_text=True)
    db.session.refresh(invitation)
    assert invitation.response == InvitationResponse.ACCEPTED and invitation.places == 3
    assert invitation.responded_on == today_london()
    assert invitation.responded_by == "retailer: retailer@test.example"
    assert tr.places_left(setup["future"]) == 10 - 3
    # A second tap is harmless.
    again = client.post(f"/my/invitations/{invitation.id}/accept",
                        data={"session_id": str(setup["future"].id), "places": "3"}, follow_redirects=True)
    assert "already accepted" in again.get_data(as_text=True)
    assert tr.places_left(setup["future"]) == 7
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingRefusal)) == 0


def test_accepting_more_places_than_left_is_refused(client, users, setup, db):
    setup["future"].capacity = 2
    db.session.commit()
    invitation = setup["own"]["invitation"]
    login_as(client, users[Role.RETAILER])
    response = client.post(f"/my/invitations/{invitation.id}/accept",
                           data={"session_id": str(setup["future"].id), "places": "3"})
    assert response.status_code == 422
    assert "2 places left" in response.get_data(as_text=True)
    db.session.refresh(invitation)
    assert invitation.response == InvitationResponse.PENDING


def test_retailer_declines_with_a_reason_and_a_refusal_is_recorded(client, users, setup, db):
    invitation = setup["own"]["invitation"]
    login_as(client, users[Role.RETAILER])
    no_reason = client.post(f"/my/invitations/{invitation.id}/decline", data={"reason": "  "})
    assert no_reason.status_code == 422 and "Say why you are declining" in no_reason.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingRefusal)) == 0
    client.post(f"/my/invitations/{invitation.id}/decline", data={"reason": "We are short-staffed"})
    client.post(f"/my/invitations/{invitation.id}/decline", data={"reason": "We are short-staffed"})  # double tap
    [refusal] = db.session.scalars(sa.select(TrainingRefusal)).all()
    assert refusal.kind.value == "declined" and refusal.refused_on == today_london()
    assert refusal.business_id == setup["own"]["business"].id and refusal.invitation_id == invitation.id
    assert refusal.reason == "We are short-staffed"
    page = client.get(f"/my/invitations/{invitation.id}").get_data(as_text=True)
    assert "Declined" in page and "Accept the invitation" not in page


def test_overdue_invitation_shows_as_no_response_but_can_still_be_accepted(client, users, setup, db):
    invitation = setup["own"]["invitation"]
    invitation.deadline = today_london() - timedelta(days=1)
    db.session.commit()
    login_as(client, users[Role.RETAILER])
    page = client.get("/my").get_data(as_text=True)
    assert "has passed: you can still reply" in page
    db.session.refresh(invitation)
    assert invitation.response == InvitationResponse.NO_RESPONSE
    response = client.post(f"/my/invitations/{invitation.id}/accept",
                           data={"session_id": str(setup["future"].id), "places": "1"})
    assert response.status_code == 302
    db.session.refresh(invitation)
    assert invitation.response == InvitationResponse.ACCEPTED


def test_retailer_of_another_business_sees_only_theirs(app, setup, db):
    other_user = make_user(Role.RETAILER, "other-retailer@test.example", business=setup["other"]["business"])
    client = app.test_client()
    login_as(client, other_user)
    page = client.get("/my").get_data(as_text=True)
    assert "Other Person" in page and "Own Person" not in page
    assert client.get(f"/my/invitations/{setup['own']['invitation'].id}").status_code == 404


def test_portal_sections_registry_accepts_other_areas(client, users, setup, monkeypatch):
    sections = list(portal.PORTAL_SECTIONS)
    sections.append(lambda user: {"id": "extra", "order": 45, "title": "Something from another area",
                                  "template": "portal/_timeline.html", "events": []})
    monkeypatch.setattr(portal, "PORTAL_SECTIONS", sections)
    login_as(client, users[Role.RETAILER])
    assert "Something from another area" in client.get("/my").get_data(as_text=True)


def test_portal_shows_results_whose_letter_was_sent(client, users, setup, db):
    from retail import purchases as P

    today = today_london()
    business = users[Role.RETAILER].business
    officer = users[Role.OFFICER]
    op = P.create_operation({"name": "Operation Sceptre, portal test", "lead_agency": "police",
                             "boroughs": ["hackney"], "starts_on": today - timedelta(days=10), "ends_on": today,
                             "officer_ids": [], "risk_assessment_ref": "RA-1"})
    volunteer = P.create_volunteer({"code_name": "WREN", "date_of_birth": date(today.year - 14, 3, 1),
                                    "active": True})
    P.add_consent(op, {"volunteer_id": volunteer.id, "given_by": "Parent", "given_on": op.starts_on,
                       "birth_certificate_checked_by": "PC", "photo_ref": "PH-1"})
    sold = P.create_in_store({**SAFEGUARDS, "kind": "underage", "operation_id": op.id, "premises_id": business.premises[0].id,
                              "purchase_date": today - timedelta(days=3), "volunteer_id": volunteer.id,
                              "staff_action": "no-challenge", "sale_made": True}, officer)
    refused = P.create_in_store({**SAFEGUARDS, "kind": "underage", "operation_id": op.id, "premises_id": business.premises[0].id,
                                 "purchase_date": today - timedelta(days=1), "volunteer_id": volunteer.id,
                                 "staff_action": "refused", "sale_made": False}, officer)
    db.session.flush()
    P.mark_letters_sent(sold.letters, today, "post", officer)
    db.session.commit()
    login_as(client, users[Role.RETAILER])
    page = client.get("/my").get_data(as_text=True)
    assert f"/my/letters/{sold.letters[0].id}" in page
    assert f"/my/letters/{refused.letters[0].id}" not in page  # its letter has not been sent yet
    assert "WREN" not in page


def test_retailer_history_states_the_period_of_a_test_purchase_not_a_false_day(client, users, setup, db):
    """Issue 11: the history showed every test purchase on the 1st of its month. The retailer is told the period its
    letter states (the operation's dates, or the month: brief 2.2, the volunteer is not to be identified), never a day
    that looks exact."""
    from retail import purchases as P
    from retail.timeutil import format_date

    business = users[Role.RETAILER].business
    officer = users[Role.OFFICER]
    with_op = P.create_operation({"name": "Op Period", "lead_agency": "police", "boroughs": ["hackney"],
                                  "starts_on": date(2026, 3, 9), "ends_on": date(2026, 3, 13), "officer_ids": [],
                                  "risk_assessment_ref": "RA-2"})
    volunteer = P.create_volunteer({"code_name": "KITE", "date_of_birth": date(2012, 5, 1), "active": True})
    P.add_consent(with_op, {"volunteer_id": volunteer.id, "given_by": "Parent", "given_on": date(2026, 3, 1),
                            "birth_certificate_checked_by": "PC", "photo_ref": "PH-2"})
    in_op = P.create_in_store({**SAFEGUARDS, "kind": "underage", "operation_id": with_op.id,
                               "premises_id": business.premises[0].id, "purchase_date": date(2026, 3, 11),
                               "volunteer_id": volunteer.id, "staff_action": "refused", "sale_made": False}, officer)
    db.session.flush()
    assert in_op.operation_id == with_op.id, in_op.operation_id
    P.mark_letters_sent(in_op.letters, date(2026, 3, 20), "post", officer)
    db.session.commit()
    login_as(client, users[Role.RETAILER])
    page = client.get("/my").get_data(as_text=True)
    assert "During March 2026" in page
    assert format_date(date(2026, 3, 11)) not in page  # the day itself
    assert format_date(date(2026, 3, 1)) not in page  # nor a made-up first of the month
