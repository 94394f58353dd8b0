"""Visit records and training reminders are letters like the others (issue 12 part 1): in the week's letters and
its PDF, marked sent on the officer's confirmation, listed in the retailer's portal, and worded by the authority.
A visit's record covers the last month's visits; a reminder goes for a certificate expiring within 30 days that
has not been renewed."""
import io
from datetime import timedelta

import pytest
from pypdf import PdfReader

from retail import letters as L
from retail.access import Role
from retail.letters import wording
from retail.timeutil import today_london
from tests.conftest import authority_id, login_as, make_user
from tests.test_training import _certificate
from tests.test_visits import add_visit, shop  # noqa: F401 (fixture)


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


@pytest.fixture
def letters_due(app, db, shop):  # noqa: F811
    today = today_london()
    recent = add_visit(shop, today - timedelta(days=3), display_check="advice")
    recent.advice_given = "Move the knives behind the counter."
    recent.officer_notes = "Owner evasive about the refusals log."
    old = add_visit(shop, today - timedelta(days=45))
    expiring = _certificate(db, shop, "Amir Patel", today + timedelta(days=10))
    renewed = _certificate(db, shop, "Bea Jones", today + timedelta(days=12))
    _certificate(db, shop, "Bea Jones", today + timedelta(days=400))  # retrained: no reminder
    db.session.commit()
    return {"recent": recent, "old": old, "expiring": expiring, "renewed": renewed, "shop": shop}


def _week(app, kind: str) -> list:
    with app.test_request_context():
        return [item for item in L.week_letters() if item.kind.name == kind]


def test_the_weeks_letters_hold_last_months_visit_records_and_due_reminders(app, letters_due):
    visits = _week(app, "visit-record")
    assert [item.record.id for item in visits] == [letters_due["recent"].id]  # the 45-day-old visit is not offered
    reminders = _week(app, "training-reminder")
    assert [item.record.id for item in reminders] == [letters_due["expiring"].id]  # not the renewed certificate
    with app.test_request_context():
        visit_text = pdf_text(L.item_pdf(visits[0]))
        reminder_text = pdf_text(L.item_pdf(reminders[0]))
        week = PdfReader(io.BytesIO(L.letters_pdf(L.week_letters())))
    assert "Record of an advice visit" in visit_text and "Move the knives behind the counter." in visit_text
    assert "Owner evasive" not in visit_text  # the officer's notes never leave the tracker
    expires = letters_due["expiring"].certificate_expires
    assert "Amir Patel" in reminder_text and f"{expires:%d %B %Y}" in reminder_text
    assert len(week.pages) == 2  # one page each, in one PDF


def test_confirming_them_sent_takes_them_off_the_list_and_into_the_portal(app, client, users, db, letters_due):
    business = letters_due["shop"]
    retailer = make_user(Role.RETAILER, "owner@dalston.test", business=business)
    login_as(client, users[Role.OFFICER])
    tokens = [item.token for item in _week(app, "visit-record") + _week(app, "training-reminder")]
    response = client.post("/letters/week/sent", data={"letter": tokens, "sent_on": today_london().isoformat()})
    assert response.status_code == 302
    assert _week(app, "visit-record") == [] and _week(app, "training-reminder") == []
    with app.test_request_context():
        sent = {item.kind.name: item for item in L.sent_for_business(business.id)}
    assert {"visit-record", "training-reminder"} <= set(sent)
    client.post("/logout")
    login_as(client, retailer)
    page = client.get("/my/letters").get_data(as_text=True)
    assert "Advice visit record" in page and "Training reminder" in page
    pdf = client.get(f"/my/letters/visit-record/{letters_due['recent'].id}.pdf")
    assert pdf.status_code == 200 and "Move the knives" in pdf_text(pdf.data)


def test_the_reminder_is_worded_by_the_authority_and_must_keep_the_expiry_date(app, db, letters_due):
    passage = wording.WORDINGS["training-reminder.body"]
    assert any("{expires}" in p for p in wording.check(passage, "Please book a refresher with us."))
    wording.save(passage, "Book a refresher before **{expires}** for {person_name}.", authority_id("hackney"))
    db.session.commit()
    (reminder,) = _week(app, "training-reminder")
    with app.test_request_context():
        text = pdf_text(L.item_pdf(reminder))
    assert "Book a refresher before" in text and "Amir Patel" in text
