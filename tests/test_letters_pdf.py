"""Letters as PDF documents (issue 12): every kind renders to PDF on the authority's letterhead; the week's letters
come as one PDF in the post round's order and are marked sent only on the officer's confirmation; retailers list
every letter sent to them with its date and channel. Brief 2.1: the business is notified in writing of the outcome,
with a period, not the exact time; brief 2.2 and 5.3: nothing about a volunteer ever reaches a retailer."""
import email
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from retail import letters as L
from retail import naming
from retail.access import STAFF, Role
from retail.models.compliance import CaseStatus
from retail.models.letters import LetterDispatch, OutboxMessage
from retail.models.purchases import NotificationLetter
from retail.models.register import Business
from retail.scoping import acting_for, scope_for
from retail.settings import save_settings
from retail.timeutil import today_london, utcnow
from tests.conftest import login_as, make_user
from tests.test_letters import assert_no_volunteer_data, own  # noqa: F401 (fixture)
from tests.test_naming import candidate_business, noticed_case, proposed_case
from tests.test_training import invite, make_course, make_session


def pdf_pages(data: bytes) -> list[str]:
    assert data.startswith(b"%PDF")
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture
def every_kind(app, db, own, users):  # noqa: F811 (the fixture imported above)
    """One unsent letter of every kind: test purchase results (2), a training invitation, a naming notice
    approved but not sent, and a naming decision not yet written to the business."""
    save_settings({"authority_name": "Hackney Trading Standards", "letterhead_phone": "020 8356 0000"})
    course = make_course(db)
    session = make_session(db, course)
    invitation = invite(db, own["business"], session)
    people = {"officer": users[Role.OFFICER], "supervisor": users[Role.SUPERVISOR],
              "supervisor2": make_user(Role.SUPERVISOR, "supervisor2@test.example")}
    approved = proposed_case(people, candidate_business("Blade Corner", "E8 2AA"))
    naming.approve_notice(approved, people["supervisor"])
    decided = noticed_case(people, candidate_business("Sharp Edge", "E5 0AA"))
    naming.decide(decided, people["supervisor2"], False, "The shop has since completed the training.")
    db.session.commit()
    return {**own, "invitation": invitation, "approved": approved, "decided": decided, "people": people}


def test_every_kind_of_letter_renders_to_pdf_with_its_text_on_the_letterhead(app, every_kind):
    with app.test_request_context():
        items = {item.kind.name: item for item in L.week_letters()}
        assert set(items) == {"test-purchase", "training-invitation", "naming-notice", "naming-decision"}
        expected = {"test-purchase": "sold to a young person under 18 without any challenge",
                    "training-invitation": "free accredited trader training",
                    "naming-notice": "right to make representations",
                    "naming-decision": "decided to take no action"}
        for name, item in items.items():
            pages = pdf_pages(L.item_pdf(item))
            text = " ".join(" ".join(pages).split())
            assert 1 <= len(pages) <= 2, (name, len(pages))  # a letter is a page (two at most), not a web page
            assert "Hackney Trading Standards" in text, name
            assert expected[name] in text, name
            assert_no_volunteer_data(text, every_kind["volunteer"])
        # Brief 2.1: the period of the test, never its exact day.
        tp_text = " ".join(" ".join(pdf_pages(L.item_pdf(items["test-purchase"]))).split())
        assert f"between {every_kind['tp'].operation.starts_on.day} " in tp_text


def test_the_weeks_pdf_holds_every_unsent_letter_once_by_borough_then_postcode(client, every_kind):
    login_as(client, every_kind["users"][Role.OFFICER])
    response = client.get("/letters/week.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = pdf_pages(response.data)
    refs = [f"TP-{every_kind['tp'].id:06d}", f"TP-{every_kind['other'].id:06d}",
            f"TRN-{every_kind['invitation'].id}", f"NAMING-{every_kind['approved'].id}",
            f"NAMING-{every_kind['decided'].id}"]
    assert len(pages) >= len(refs)
    for ref in refs:
        assert sum(ref in page for page in pages) == 1, ref  # once, on one page
    # Hackney's letters come before Islington's (the other shop), and within Hackney by postcode.
    first_page_of = {ref: next(i for i, page in enumerate(pages) if ref in page) for ref in refs}
    assert first_page_of[f"TP-{every_kind['other'].id:06d}"] == max(first_page_of.values())
    assert first_page_of[f"NAMING-{every_kind['decided'].id}"] < first_page_of[f"NAMING-{every_kind['approved'].id}"]
    # Printing marks nothing.
    assert every_kind["tp"].letters[0].sent_on is None
    page = client.get("/letters/week").get_data(as_text=True)
    assert "The week's letters (5)" in page


def test_print_letters_command_writes_one_pdf_and_marks_nothing(app, runner, every_kind, tmp_path, db):
    out = tmp_path / "week.pdf"
    result = runner.invoke(args=["print-letters", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "5 letter(s)" in result.output and "None has been marked as sent" in result.output
    text = "\n".join(pdf_pages(out.read_bytes()))
    assert f"TRN-{every_kind['invitation'].id}" in text and f"NAMING-{every_kind['decided'].id}" in text
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NotificationLetter)
                             .where(NotificationLetter.sent_on.is_not(None))) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LetterDispatch)) == 0


def test_officer_confirms_the_letters_sent_and_each_kind_records_it(client, every_kind, db):
    login_as(client, every_kind["users"][Role.OFFICER])
    with client.application.test_request_context():
        tokens = [item.token for item in L.week_letters()]
    response = client.post("/letters/week/sent", data={"letter": tokens, "sent_on": today_london().isoformat()})
    assert response.status_code == 302
    db.session.expire_all()
    assert every_kind["tp"].letters[0].sent_on == today_london()
    assert every_kind["invitation"].letter_sent_on == today_london()
    assert every_kind["approved"].status == CaseStatus.NOTICE_SENT  # the representations window starts now
    assert every_kind["approved"].representations_due is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LetterDispatch)) == 5
    assert "Every letter has been sent." in client.get("/letters/week").get_data(as_text=True)


def test_a_future_sending_date_is_refused_next_to_the_field_and_nothing_is_marked(client, every_kind, db):
    login_as(client, every_kind["users"][Role.OFFICER])
    future = (today_london() + timedelta(days=3)).isoformat()
    response = client.post("/letters/week/sent",
                           data={"letter": [f"test-purchase:{every_kind['tp'].letters[0].id}"], "sent_on": future})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="sent_on-error"' in page and "cannot be in the future" in page
    db.session.expire_all()
    assert every_kind["tp"].letters[0].sent_on is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LetterDispatch)) == 0


def set_preference(db, business, preference, email):
    db.session.execute(sa.update(Business).where(Business.id == business.id).values(
        letter_preference=preference, contact_email=email))
    db.session.commit()
    db.session.expire_all()


def test_business_that_chose_email_gets_the_pdf_in_the_outbox_and_post_only_does_not(client, every_kind, db):
    business, other = every_kind["business"], every_kind["other_business"]
    set_preference(db, business, "both", "owner@ownshop.example")
    set_preference(db, other, "post", "post@other.example")
    login_as(client, every_kind["users"][Role.OFFICER])
    tokens = [f"test-purchase:{every_kind['tp'].letters[0].id}", f"test-purchase:{every_kind['other'].letters[0].id}"]
    assert client.post("/letters/week/sent", data={"letter": tokens, "sent_on": today_london().isoformat()}
                       ).status_code == 302
    messages = db.session.scalars(sa.select(OutboxMessage)).all()
    assert [m.to_address for m in messages] == ["owner@ownshop.example"]
    message = messages[0]
    assert message.attachment_name.endswith(".pdf") and message.attachment.startswith(b"%PDF")
    assert_no_volunteer_data(message.subject + message.body_text + "\n".join(pdf_pages(message.attachment)),
                             every_kind["volunteer"])
    dispatch = db.session.scalar(sa.select(LetterDispatch).where(LetterDispatch.business_id == business.id))
    assert dispatch.channel.value == "both"


def test_retailer_lists_every_letter_sent_with_date_and_channel_and_opens_only_its_own(client, every_kind, db):
    set_preference(db, every_kind["business"], "email", "owner@ownshop.example")
    officer = every_kind["users"][Role.OFFICER]
    with client.application.test_request_context(), acting_for(scope_for(officer)):
        assert L.mark_sent(L.week_letters(), today_london(), officer) == 5
        db.session.commit()
    login_as(client, every_kind["users"][Role.RETAILER])
    page = client.get("/my/letters").get_data(as_text=True)
    assert f"Test purchase letter TP-{every_kind['tp'].id:06d}" in page
    assert f"Training invitation TRN-{every_kind['invitation'].id}" in page
    assert "Email" in page and today_london().strftime("%Y") in page
    assert f"TP-{every_kind['other'].id:06d}" not in page  # another business's letter
    own_pdf = client.get(f"/my/letters/test-purchase/{every_kind['tp'].letters[0].id}.pdf")
    assert own_pdf.status_code == 200 and own_pdf.data.startswith(b"%PDF")
    assert_no_volunteer_data("\n".join(pdf_pages(own_pdf.data)), every_kind["volunteer"])
    assert client.get(f"/my/letters/test-purchase/{every_kind['other'].letters[0].id}.pdf").status_code == 404


@pytest.mark.parametrize("role", [Role.RETAILER, Role.CITY_HALL])
def test_staff_letter_pages_and_outbox_refuse_other_roles(client, users, role):
    user = users[role] if role in users else make_user(role)
    login_as(client, user)
    for url in ("/letters/week", "/letters/week.pdf", "/outbox", "/letters/test-purchase/1.pdf"):
        assert client.get(url).status_code in (403, 404), url
    assert client.post("/letters/week/sent", data={"letter": ["test-purchase:1"]}).status_code == 403
    assert client.post("/outbox/1/retry").status_code == 403


def test_staff_are_refused_the_retailers_letter_list(client, users):
    login_as(client, users[Role.OFFICER])
    assert client.get("/my/letters").status_code == 403


class _Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives."""
    from aiosmtpd.controller import Controller

    import socket

    with socket.socket() as probe:  # a free port (aiosmtpd 1.4 cannot be given port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def test_the_scheduler_emails_the_letter_with_its_pdf_and_retries_when_the_server_is_down(
        app, client, every_kind, db, smtp_server, monkeypatch):
    """Issue 12: the business that chose email receives the letter as a PDF from the scheduler's every-minute job;
    a mail server that refuses is retried later with the reason kept on /outbox (nothing lost)."""
    from retail.letters import outbox
    from retail.scrapers.scheduler import FREQUENT_JOBS, MonitorScheduler

    controller, inbox = smtp_server
    set_preference(db, every_kind["business"], "email", "owner@ownshop.example")
    login_as(client, every_kind["users"][Role.OFFICER])
    token = f"test-purchase:{every_kind['tp'].letters[0].id}"
    client.post("/letters/week/sent", data={"letter": [token], "sent_on": today_london().isoformat()})
    assert outbox.deliver_outbox in FREQUENT_JOBS

    monkeypatch.setitem(app.config, "RETAIL_MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "RETAIL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "RETAIL_SMTP_PORT", 1)  # nothing listens: refused
    scheduler = MonitorScheduler(app, workers=1)
    try:
        scheduler.frequent()
        message = db.session.scalar(sa.select(OutboxMessage))
        db.session.refresh(message)
        assert message.status.value == "pending" and message.attempts == 1 and message.last_error
        assert not inbox.envelopes

        monkeypatch.setitem(app.config, "RETAIL_SMTP_PORT", controller.port)
        message.next_attempt_at = utcnow()  # the retry is due now
        db.session.commit()
        scheduler.frequent()
    finally:
        scheduler.shutdown()
    db.session.refresh(message)
    assert message.status.value == "sent"
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["owner@ownshop.example"]
    received = email.message_from_bytes(envelope.content)
    [attachment] = [part for part in received.walk() if part.get_content_type() == "application/pdf"]
    text = "\n".join(pdf_pages(attachment.get_payload(decode=True)))
    assert_no_volunteer_data(text, every_kind["volunteer"])
    assert every_kind["business"].legal_name in text or every_kind["business"].display_name in text


def test_staff_get_one_morning_digest_a_day_from_the_scheduler_with_counts_and_no_volunteer(
        app, every_kind, db, smtp_server, monkeypatch):
    """Issue 12 part 3: 'staff receive a daily digest of their home page'. The scheduler's morning run (07:00 London)
    queues one digest per member of staff, once a day whichever process gets there, and the outbox job sends it;
    counts only, so no volunteer and no business detail leaves by email."""
    from datetime import datetime

    from retail.scrapers import scheduler as sched
    from retail.timeutil import LONDON

    controller, inbox = smtp_server
    monkeypatch.setitem(app.config, "RETAIL_MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "RETAIL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "RETAIL_SMTP_PORT", controller.port)
    today = today_london()
    early = datetime(today.year, today.month, today.day, 6, 30, tzinfo=LONDON)
    assert sched.run_daily_if_due("morning", "a", now=early) is False  # not before 07:00
    later = early.replace(hour=7, minute=5)
    assert sched.run_daily_if_due("morning", "a", now=later) is True
    assert sched.run_daily_if_due("morning", "b", now=later) is False  # once a day, across processes
    from retail.models.accounts import User

    staff = [u for u in db.session.scalars(sa.select(User)) if u.role in STAFF and u.active and u.email]
    assert len(staff) >= 4
    messages = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.event_key.like("digest:%"))).all()
    assert sorted(m.to_address for m in messages) == sorted(u.email for u in staff)
    scheduler = sched.MonitorScheduler(app, workers=1)
    try:
        scheduler.frequent()
    finally:
        scheduler.shutdown()
    officer = every_kind["users"][Role.OFFICER]
    [envelope] = [e for e in inbox.envelopes if e.rcpt_tos == [officer.email]]
    body = email.message_from_bytes(envelope.content).get_payload(decode=True).decode()
    assert "Letters waiting to be sent: " in body and "Open the tracker" in body
    assert_no_volunteer_data(body, every_kind["volunteer"])
    assert every_kind["business"].display_name not in body
