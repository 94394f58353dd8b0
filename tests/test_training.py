"""Training: courses, sessions and capacity, invitations (visit then letter), results, certificates, refusals."""
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from retail import training as tr
from retail.access import Role
from retail.models.training import (
    InvitationResponse,
    TrainingAttendance,
    TrainingCourse,
    TrainingInvitation,
    TrainingRefusal,
)
from retail.settings import save_settings
from retail.timeutil import today_london
from retail.validation import InvalidValue
from tests.conftest import login_as
from tests.factories import create_business


def make_course(db, **extra):
    course = tr.create_course({"title": "Knife retailer accredited trader training", "provider": "Trading Standards",
                               **extra})
    db.session.commit()
    return course


def make_session(db, course, days=14, capacity=20, hour=10):
    session = tr.create_session({"course_id": course.id, "venue": "Town Hall, Room 2", "trainer": "J. Okafor",
                                 "capacity": capacity,
                                 "starts_at": tr.london_datetime(today_london() + timedelta(days=days), time(hour))})
    db.session.commit()
    return session


def invite(db, business, session=None, **extra):
    data = {"premises_id": business.premises[0].id if business.premises else None,
            "session_id": session.id if session else None, "visited_on": today_london() - timedelta(days=2),
            "visit_officer": "Olu Officer", **extra}
    invitation = tr.create_invitation(business, data)
    db.session.commit()
    return invitation


def book(db, session, business, name="Amir Patel", invitation=None):
    attendance = tr.add_attendee(session, {"person_name": name, "person_role": "Sales assistant",
                                           "premises_id": business.premises[0].id,
                                           "invitation_id": invitation.id if invitation else None})
    db.session.commit()
    return attendance


def refusals(db, business_id=None):
    query = sa.select(TrainingRefusal)
    if business_id:
        query = query.where(TrainingRefusal.business_id == business_id)
    return db.session.scalars(query).all()


# --- courses --------------------------------------------------------------------------------------------------

def test_new_course_form_defaults_to_croydon_course(client, users, db):
    login_as(client, users[Role.OFFICER])
    page = client.get("/training/courses/new").get_data(as_text=True)
    assert 'value="150"' in page and 'value="70"' in page and 'value="12"' in page
    response = client.post("/training/courses/new", data={
        "title": "Knife retailer accredited trader training", "provider": "Croydon TS", "duration_minutes": "150",
        "has_exam": "y", "pass_mark": "70", "validity_months": "12", "active": "y", "submission_token": "c1"})
    assert response.status_code == 302
    course = db.session.scalar(sa.select(TrainingCourse))
    assert (course.duration_minutes, course.pass_mark, course.validity_months, course.has_exam) == (150, 70, 12, True)
    assert course.duration_label == "2½ hours"
    assert "2½ hours" in client.get("/training").get_data(as_text=True)


def test_course_with_exam_needs_a_pass_mark(client, users, db):
    login_as(client, users[Role.OFFICER])
    response = client.post("/training/courses/new", data={
        "title": "X", "duration_minutes": "150", "has_exam": "y", "pass_mark": "", "validity_months": "12",
        "submission_token": "c2"})
    assert response.status_code == 200
    assert "Give the pass mark" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingCourse)) == 0


# --- results, pass mark, certificates -------------------------------------------------------------------------

def _past_session(db, course, days_ago=3):
    session = tr.create_session({"course_id": course.id, "venue": "Library", "capacity": 10,
                                 "starts_at": tr.london_datetime(today_london() - timedelta(days=days_ago),
                                                                 time(18))})
    db.session.commit()
    return session


def test_pass_is_computed_from_the_course_pass_mark(app, db):
    business = create_business()
    course = make_course(db, pass_mark=80)
    session = _past_session(db, course)
    below = book(db, session, business, "Below Mark")
    at = book(db, session, business, "At Mark")
    tr.record_result(below, True, 79, "test")
    tr.record_result(at, True, 80, "test")
    db.session.commit()
    assert below.passed is False and below.certificate_number is None and below.certificate_expires is None
    assert at.passed is True
    assert at.certificate_number == f"KRT-{tr.session_date(session).year}-{at.id:06d}"
    assert at.certificate_expires == tr.add_months(tr.session_date(session), 12)


def test_course_without_exam_passes_on_attendance(app, db):
    business = create_business()
    course = make_course(db, has_exam=False, validity_months=6)
    session = _past_session(db, course)
    attendance = book(db, session, business)
    tr.record_result(attendance, True, None, "test")
    assert attendance.passed is True and attendance.exam_score is None
    assert attendance.certificate_expires == tr.add_months(tr.session_date(session), 6)


def test_certificate_expiry_is_clamped_to_month_end():
    assert tr.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert tr.add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert tr.add_months(date(2025, 11, 15), 12) == date(2026, 11, 15)


def test_result_for_a_future_session_is_refused(app, db):
    business = create_business()
    session = make_session(db, make_course(db))
    attendance = book(db, session, business)
    with pytest.raises(InvalidValue, match="has not happened yet"):
        tr.record_result(attendance, True, 90, "test")


def test_officer_records_results_on_the_session_page(client, users, db):
    business = create_business()
    session = _past_session(db, make_course(db))
    attendance = book(db, session, business, "Grace Mensah")
    login_as(client, users[Role.OFFICER])
    response = client.post(f"/training/attendance/{attendance.id}/result",
                           data={f"r{attendance.id}-status": "attended", f"r{attendance.id}-exam_score": "85",
                                 f"r{attendance.id}-version": str(attendance.version)}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Grace Mensah passed: certificate KRT-" in page
    db.session.refresh(attendance)
    assert attendance.passed and attendance.exam_score == 85
    # A stale form (old version) is refused, not silently applied.
    response = client.post(f"/training/attendance/{attendance.id}/result",
                           data={f"r{attendance.id}-status": "no-show", f"r{attendance.id}-version": "1"},
                           follow_redirects=True)
    assert "changed by someone else" in response.get_data(as_text=True)
    db.session.refresh(attendance)
    assert attendance.status.value == "attended"


# --- capacity -------------------------------------------------------------------------------------------------

def test_capacity_is_enforced(app, db):
    business = create_business()
    session = make_session(db, make_course(db), capacity=2)
    book(db, session, business, "One")
    book(db, session, business, "Two")
    with pytest.raises(InvalidValue, match="full"):
        tr.add_attendee(session, {"person_name": "Three", "premises_id": business.premises[0].id})
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingAttendance)) == 2


def test_accepted_invitation_holds_places(app, db):
    a = create_business()
    b = create_business(legal_name="Other Ltd", trading_name="Other", postcode="N1 1AA", borough="islington")
    session = make_session(db, make_course(db), capacity=3)
    invitation = invite(db, a, session)
    tr.accept_invitation(invitation, today_london(), "test", session.id, 2)
    db.session.commit()
    assert tr.places_left(session) == 1
    book(db, session, b, "Walk In")
    # The session is full, but the invitation's held places can still be named.
    book(db, session, a, "Held One", invitation)
    book(db, session, a, "Held Two", invitation)
    assert tr.places_left(session) == 0
    other = invite(db, b, session)
    with pytest.raises(InvalidValue, match="0 places left"):
        tr.accept_invitation(other, today_london(), "test", session.id, 1)


def test_capacity_error_shown_on_session_page(client, users, db):
    business = create_business()
    session = make_session(db, make_course(db), capacity=1)
    book(db, session, business, "First")
    login_as(client, users[Role.OFFICER])
    response = client.post(f"/training/sessions/{session.id}/attendees", data={
        "person_name": "Second", "premises_id": str(business.premises[0].id), "invitation_id": "None",
        "submission_token": "a1"})
    assert response.status_code == 422
    assert "This session is full (1 places)" in response.get_data(as_text=True)


def test_double_submitted_attendee_creates_one_record(client, users, db):
    business = create_business()
    session = make_session(db, make_course(db))
    login_as(client, users[Role.OFFICER])
    data = {"person_name": "Ada Kaya", "person_role": "Manager", "premises_id": str(business.premises[0].id),
            "invitation_id": "None", "submission_token": "same-token"}
    first = client.post(f"/training/sessions/{session.id}/attendees", data=data)
    second = client.post(f"/training/sessions/{session.id}/attendees", data=data)
    assert first.status_code == second.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingAttendance)) == 1


def test_double_submitted_invitation_creates_one_record(client, users, db):
    business = create_business()
    make_session(db, make_course(db))
    login_as(client, users[Role.OFFICER])
    data = {"premises_id": str(business.premises[0].id), "session_id": "None",
            "visited_on": today_london().isoformat(), "visit_officer": "Olu Officer", "places": "2",
            "submission_token": "inv-1"}
    first = client.post(f"/businesses/{business.id}/training/invite", data=data)
    second = client.post(f"/businesses/{business.id}/training/invite", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    invitation = db.session.scalar(sa.select(TrainingInvitation))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingInvitation)) == 1
    # Default deadline: three weeks after the visit.
    assert invitation.deadline == today_london() + timedelta(days=21)
    assert invitation.visit_officer == "Olu Officer" and invitation.letter_sent_on is None


def test_invitation_visit_in_future_is_refused(client, users, db):
    business = create_business()
    login_as(client, users[Role.OFFICER])
    response = client.post(f"/businesses/{business.id}/training/invite", data={
        "premises_id": "None", "session_id": "None", "visit_officer": "X", "places": "1",
        "visited_on": (today_london() + timedelta(days=3)).isoformat(), "submission_token": "inv-f"})
    assert "cannot be in the future" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingInvitation)) == 0


# --- refusals -------------------------------------------------------------------------------------------------

def test_officer_records_a_decline_and_a_refusal_is_recorded_with_its_date(client, users, db):
    business = create_business()
    invitation = invite(db, business)
    login_as(client, users[Role.OFFICER])
    on = today_london() - timedelta(days=1)
    missing = client.post(f"/training/invitations/{invitation.id}/response", data={
        "response": "declined", "on": on.isoformat(), "reason": "", "session_id": "None",
        "version": str(invitation.version)})
    assert missing.status_code == 422 and "Record the reason" in missing.get_data(as_text=True)
    response = client.post(f"/training/invitations/{invitation.id}/response", data={
        "response": "declined", "on": on.isoformat(), "reason": "Too busy", "session_id": "None",
        "version": str(invitation.version)})
    assert response.status_code == 302
    [refusal] = refusals(db)
    assert (refusal.business_id, refusal.premises_id, refusal.refused_on, refusal.kind.value,
            refusal.invitation_id) == (business.id, business.premises[0].id, on, "declined", invitation.id)
    assert tr.refusal_counts([business.id]) == {business.id: 1}
    assert tr.refusal_counts([business.id], since=today_london()) == {business.id: 0}


def test_no_show_after_accepting_is_a_refusal_once_per_invitation(app, db):
    business = create_business()
    course = make_course(db)
    session = _past_session(db, course)
    invitation = invite(db, business)
    invitation.session_id = session.id
    invitation.response = InvitationResponse.ACCEPTED
    invitation.places = 2
    db.session.commit()
    first = book(db, session, business, "First", invitation)
    second = book(db, session, business, "Second", invitation)
    tr.record_result(first, False, None, "test")
    tr.record_result(second, False, None, "test")
    db.session.commit()
    [refusal] = refusals(db)
    assert refusal.kind.value == "no-show" and refusal.refused_on == tr.session_date(session)
    # Correcting one result keeps the refusal (the other still missed it); correcting both removes it.
    tr.record_result(first, True, 90, "test", first.version)
    db.session.commit()
    assert len(refusals(db)) == 1
    tr.record_result(second, True, 90, "test", second.version)
    db.session.commit()
    assert refusals(db) == []


def test_no_response_by_deadline_is_not_a_refusal(client, users, db):
    business = create_business()
    invitation = invite(db, business, deadline=today_london() - timedelta(days=1))
    fresh = invite(db, create_business(legal_name="B Ltd", trading_name="B", postcode="N1 1AA"),
                   deadline=today_london())
    login_as(client, users[Role.OFFICER])
    page = client.get("/training/invitations").get_data(as_text=True)  # page load expires overdue invitations
    assert "No response by the deadline" in page
    db.session.refresh(invitation)
    db.session.refresh(fresh)
    assert invitation.response == InvitationResponse.NO_RESPONSE
    assert fresh.response == InvitationResponse.PENDING
    assert refusals(db) == []
    reminders = client.get("/training/reminders").get_data(as_text=True)
    assert business.display_name in reminders


def test_expire_overdue_invitations_function(app, db):
    business = create_business()
    overdue = invite(db, business, deadline=today_london() - timedelta(days=3),
                     visited_on=today_london() - timedelta(days=30))
    assert tr.expire_overdue_invitations(today_london()) == 1
    assert overdue.response == InvitationResponse.NO_RESPONSE and overdue.responded_on == overdue.deadline
    assert tr.expire_overdue_invitations(today_london()) == 0


# --- reminders, panel, letters, timeline --------------------------------------------------------------------

def _certificate(db, business, name, expires, premises=None):
    course = db.session.scalar(sa.select(TrainingCourse)) or make_course(db)
    session = _past_session(db, course, days_ago=300)
    attendance = tr.add_attendee(session, {"person_name": name, "premises_id": (premises or business.premises[0]).id})
    db.session.flush()
    tr.record_result(attendance, True, 90, "test")
    attendance.certificate_expires = expires
    db.session.commit()
    return attendance


def test_expiring_certificates_listed_for_officers_and_on_home(client, users, db):
    business = create_business(legal_name="Expiring Ltd", trading_name="Expiring Shop")
    _certificate(db, business, "Soon Expiring", today_london() + timedelta(days=10))
    _certificate(db, business, "Later Expiring", today_london() + timedelta(days=90))
    _certificate(db, business, "Renewed Person", today_london() + timedelta(days=5))
    _certificate(db, business, "Renewed Person", today_london() + timedelta(days=300))
    login_as(client, users[Role.OFFICER])
    page = client.get("/training/reminders").get_data(as_text=True)
    assert "Soon Expiring" in page
    assert "Later Expiring" not in page and "Renewed Person" not in page
    home = client.get("/").get_data(as_text=True)
    assert "Training reminders" in home and "Soon Expiring" in home
    assert "1</strong> certificate expiring within 30 days" in home


def test_training_status_per_premises(app, db):
    business = create_business()
    from tests.factories import create_premises

    second = create_premises(business)
    first = business.premises[0] if business.premises[0].id != second.id else business.premises[1]
    _certificate(db, business, "Valid Person", today_london() + timedelta(days=200), first)
    _certificate(db, business, "Expired Person", today_london() - timedelta(days=1), first)
    status = tr.training_status(business.id)
    assert status[first.id]["current"] is True
    assert [s["name"] for s in status[first.id]["certified_staff"]] == ["Valid Person"]
    assert status[first.id]["expires"] == today_london() + timedelta(days=200)
    assert status[second.id] == {"certified_staff": [], "current": False, "expires": None, "next_expiry": None}


def test_printable_letter_uses_letterhead_and_letters_page_marks_sent(client, users, db):
    save_settings({"authority_name": "Croydon Trading Standards", "letterhead_phone": "020 8726 6000"})
    db.session.commit()
    business = create_business(legal_name="Letter Ltd", trading_name="Letter Shop", contact_name="Mrs Begum")
    session = make_session(db, make_course(db))
    invitation = invite(db, business, session)
    login_as(client, users[Role.OFFICER])
    page = client.get(f"/training/invitations/{invitation.id}/letter").get_data(as_text=True)
    assert "Croydon Trading Standards" in page and "020 8726 6000" in page
    assert "Dear Mrs Begum" in page and "Town Hall, Room 2" in page and "2½ hours" in page
    assert "training-letters.css" in page  # the print rules (one page per letter) live there, not inline
    css = client.get("/static/training-letters.css").get_data(as_text=True)
    assert "@media print" in css and "page-break-after" in css
    batch = client.get("/training/letters").get_data(as_text=True)
    assert batch.count('class="letter"') == 1
    response = client.post("/training/letters/sent", data={"ids": str(invitation.id),
                                                           "on": today_london().isoformat()})
    assert response.status_code == 302
    db.session.refresh(invitation)
    assert invitation.letter_sent_on == today_london()
    assert "No letters waiting" in client.get("/training/letters").get_data(as_text=True)


def test_business_page_shows_training_section_and_timeline(client, users, db):
    business = create_business(legal_name="Timeline Ltd", trading_name="Timeline Shop")
    invitation = invite(db, business)
    tr.decline_invitation(invitation, today_london(), "Not interested", "test")
    db.session.commit()
    _certificate(db, business, "Certified Carol", today_london() + timedelta(days=100))
    login_as(client, users[Role.OFFICER])
    page = client.get(f"/businesses/{business.id}").get_data(as_text=True)
    assert "Certified Carol" in page and "Invite to training" in page
    assert "Invited to training on a visit" in page
    assert "Training invitation: Declined" in page and "Certified Carol passed training" in page
    assert "Refusals (1)" in page
    premises_page = client.get(f"/premises/{business.premises[0].id}").get_data(as_text=True)
    assert "Certified Carol" in premises_page


def test_session_page_and_places(client, users, db):
    business = create_business()
    session = make_session(db, make_course(db), capacity=5)
    book(db, session, business, "Booked Bob")
    login_as(client, users[Role.POLICE])
    page = client.get(f"/training/sessions/{session.id}").get_data(as_text=True)
    assert "Booked Bob" in page and "1 of 5 places taken" in page


def test_retailer_is_refused_staff_training_pages(client, users, db):
    login_as(client, users[Role.RETAILER])
    for url in ("/training", "/training/reminders", "/training/letters", "/training/invitations"):
        assert client.get(url).status_code == 403, url


def test_staff_see_training_in_the_menu(client, users):
    login_as(client, users[Role.OFFICER])
    assert 'href="/training"' in client.get("/").get_data(as_text=True)


def test_cli_training_reminders(runner, app, db):
    business = create_business(legal_name="Cli Ltd", trading_name="Cli Shop")
    invite(db, business, deadline=today_london() - timedelta(days=1))
    _certificate(db, business, "Cli Person", today_london() + timedelta(days=3))
    result = runner.invoke(args=["training-reminders"])
    assert result.exit_code == 0, result.output
    assert "1 invitation(s) past their deadline marked 'no response'." in result.output
    assert "Cli Person" in result.output
    assert db.session.scalar(sa.select(TrainingInvitation.response)) == InvitationResponse.NO_RESPONSE


def test_demo_generator_places_refusals_after_underage_sales(app, db, monkeypatch):
    import random

    from retail.demo import DemoContext
    from retail.demo.training import generate_training
    from retail.models.authority import Authority
    from retail.models.training import TrainingSession

    repeat = create_business(legal_name="Repeat Ltd", trading_name="Repeat Seller")
    demo_shop = create_business(legal_name="Demo Ltd", trading_name="Demo Shop", postcode="N1 1AA")
    others = [create_business(legal_name=f"Shop {n} Ltd", trading_name=f"Shop {n}", postcode=f"E{n} 1AA")
              for n in range(1, 4)]
    today = today_london()
    first_fail = today - timedelta(days=200)
    ctx = DemoContext(scale="small", rng=random.Random(3), today=today, password="x", params={},
                      demo_business_id=demo_shop.id,
                      extra={"purchases": [(repeat.id, first_fail, True), (repeat.id, today - timedelta(days=40), True),
                                           (others[0].id, today - timedelta(days=90), True)]})
    ctx.premises = [{"id": b.premises[0].id, "business_id": b.id, "borough": "hackney",
                     "business_type": "independent", "status": "trading"} for b in [repeat, demo_shop, *others]]
    # The demo names each session's owner itself (no default owner outside a request).
    monkeypatch.setitem(app.config, "RETAIL_UNSCOPED_OWNER", None)
    generate_training(ctx)
    db.session.commit()
    # Sessions belong to the borough that runs them; a Hackney shop is invited to Hackney's.
    owners = set(db.session.scalars(sa.select(Authority.code).join(
        TrainingSession, TrainingSession.authority_id == Authority.id)))
    assert owners == {"hackney", "croydon", "westminster"}
    declined = db.session.scalars(sa.select(TrainingRefusal).where(TrainingRefusal.business_id == repeat.id,
                                                                   TrainingRefusal.kind == "declined")).all()
    assert any(r.refused_on > first_fail for r in declined)
    assert ctx.extra["training_refusal_businesses"] == [repeat.id]
    # The demo retailer has a pending invitation to a coming session and a certificate expiring within 30 days.
    pending = db.session.scalars(sa.select(TrainingInvitation).where(
        TrainingInvitation.business_id == demo_shop.id, TrainingInvitation.response == "pending")).all()
    assert pending and pending[0].session.starts_at > tr.utcnow()
    assert pending[0].session.authority_id == db.session.scalar(sa.select(Authority.id).where(
        Authority.code == "hackney"))
    assert db.session.scalars(tr.expiring_certificates_query(business_id=demo_shop.id)).first() is not None
    # Certificates follow the course rules: passed from the pass mark, expiry 12 months after the session.
    for a in db.session.scalars(sa.select(TrainingAttendance).where(TrainingAttendance.passed.is_(True))):
        if a.exam_score is not None:
            assert a.exam_score >= 70
        assert a.certificate_expires == tr.add_months(tr.session_date(a.session), 12)


def test_every_staff_training_page_renders(client, users, db):
    business = create_business()
    course = make_course(db)
    session = make_session(db, course)
    past = _past_session(db, course)
    invitation = invite(db, business, session)
    attendance = book(db, past, business, "Page Person")
    login_as(client, users[Role.OFFICER])
    urls = ["/training", "/training/reminders", "/training/letters", "/training/invitations",
            "/training/invitations?response=pending", "/training/courses/new", f"/training/courses/{course.id}/edit",
            "/training/sessions/new", f"/training/sessions/{session.id}", f"/training/sessions/{session.id}/edit",
            f"/training/sessions/{past.id}", f"/businesses/{business.id}/training/invite",
            f"/training/invitations/{invitation.id}", f"/training/invitations/{invitation.id}/edit",
            f"/training/invitations/{invitation.id}/letter"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    # The past session offers the result form for its attendee; the coming one does not.
    assert f'action="/training/attendance/{attendance.id}/result"' in client.get(
        f"/training/sessions/{past.id}").get_data(as_text=True)
    assert "/result" not in client.get(f"/training/sessions/{session.id}").get_data(as_text=True)
    for url in ("/training/sessions/999999", "/training/invitations/999999", "/businesses/999999/training/invite"):
        assert client.get(url).status_code == 404


def test_officer_edits_session_and_stale_edit_is_refused(client, users, db):
    session = make_session(db, make_course(db))
    login_as(client, users[Role.OFFICER])
    day = (today_london() + timedelta(days=30)).isoformat()
    data = {"course_id": str(session.course_id), "on": day, "at": "18:30", "venue": "New Venue", "trainer": "T",
            "capacity": "12", "notes": "", "version": str(session.version)}
    assert client.post(f"/training/sessions/{session.id}/edit", data=data).status_code == 302
    db.session.refresh(session)
    assert session.venue == "New Venue" and tr.london(session.starts_at).strftime("%H:%M") == "18:30"
    stale = client.post(f"/training/sessions/{session.id}/edit", data={**data, "venue": "Lost"})
    assert "changed by someone else" in stale.get_data(as_text=True)
    db.session.refresh(session)
    assert session.venue == "New Venue"


def test_reply_by_date_falls_before_the_session_offered(app, db):
    """Issue 11: an invitation's reply-by date fell after the session it offered. Three weeks after the visit, but at
    least three days before the session (so the trainer knows the numbers), and never before the visit."""
    today = today_london()
    business = create_business()
    soon = make_session(db, make_course(db), days=8)
    invitation = invite(db, business, soon)
    assert invitation.deadline == today + timedelta(days=5)
    later = make_session(db, make_course(db), days=60)
    assert invite(db, business, later).deadline == today - timedelta(days=2) + timedelta(days=21)
    assert tr.default_reply_by(today, today + timedelta(days=2)) == today  # a session in two days: reply today
    with pytest.raises(InvalidValue, match="must be before the session"):
        invite(db, business, soon, deadline=today + timedelta(days=8))
