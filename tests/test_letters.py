"""Notification letters: per-outcome text with the letterhead, printing in one go, sending, and what retailers see.

The volunteer-never-leaks tests live here: a volunteer's code name, date of birth, consent details and photo
reference must be absent from letters, the retailer's letter page, retailer results, the retailer timeline and
the CSV export.
"""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from retail import purchases as P
from retail.access import Role
from retail.extensions import db as _db
from retail.models.audit import AuditEntry
from retail.settings import save_settings
from retail.timeline import business_timeline
from tests.conftest import login_as, make_user
from tests.factories import create_business
from tests.test_purchases import TODAY, give_consent, in_store_data, make_operation, make_volunteer


@pytest.fixture
def own(app, users):
    """A failed test at the retailer's own business (and one at another business)."""
    retailer = users[Role.RETAILER]
    business = retailer.business
    op = make_operation()
    volunteer = make_volunteer("KESTREL")
    give_consent(op, volunteer, photo="PHOTO-REF-4411")
    s = {"op": op, "volunteer": volunteer, "premises": business.premises[0]}
    tp = P.create_in_store(in_store_data(s, exhibit_ref="EX-77"))
    other_business = create_business(legal_name="Other Knives Ltd", trading_name="Other Knives", postcode="N1 5AA",
                                     borough="islington")
    other = P.create_in_store(in_store_data({**s, "premises": other_business.premises[0]}))
    _db.session.commit()
    return {"tp": tp, "other": other, "volunteer": volunteer, "users": users, "business": business,
            "other_business": other_business}


def secrets_of(volunteer) -> list[str]:
    dob = volunteer.date_of_birth
    return [volunteer.code_name, dob.isoformat(), dob.strftime("%d %b %Y"), dob.strftime("%d/%m/%Y"),
            f"{dob.day} {dob:%B %Y}", "Mrs Guardian", "PC Checker", "PHOTO-REF-4411"]


def assert_no_volunteer_data(text: str, volunteer) -> None:
    for secret in secrets_of(volunteer):
        assert secret not in text, secret


def test_letter_uses_letterhead_from_settings_and_outcome_template(client, own, db):
    save_settings({"authority_name": "Royal Borough Trading Standards", "letterhead_phone": "020 0000 1234"})
    db.session.commit()
    login_as(client, own["users"][Role.OFFICER])
    letter = own["tp"].letters[0]
    page = client.get(f"/letters/{letter.id}").get_data(as_text=True)
    assert "Royal Borough Trading Standards" in page and "020 0000 1234" in page
    assert "sold to a young person under 18 without any challenge" in page
    assert "Retailer Own Ltd" in page  # the recipient
    # The period, never the exact day and time.
    assert f"between {own['tp'].operation.starts_on.day} " in page
    assert_no_volunteer_data(page, own["volunteer"])


def test_pass_and_challenge25_letters_say_different_things(own, app):
    from retail.purchases.letters import render_letter_body

    s = {"op": own["tp"].operation, "volunteer": own["volunteer"], "premises": own["tp"].premises}
    passed = P.create_in_store(in_store_data(s, staff_action="refused", sale_made=False))
    c25 = P.create_in_store(in_store_data(s, kind="challenge25", volunteer_id=None, tester_age=20))
    _db.session.commit()
    with app.test_request_context():
        assert "the sale was refused" in render_letter_body(passed.letters[0])
        text = render_letter_body(c25.letters[0])
    assert "Challenge 25 policy" in text and "no offence was committed" in text


def test_letters_to_print_in_one_go_and_mark_sent(client, own, db):
    login_as(client, own["users"][Role.POLICE])
    index = client.get("/letters").get_data(as_text=True)
    assert "Letters to print (2)" in index and "Retailer Own Ltd" in index and "Other Knives Ltd" in index
    printed = client.get("/letters/print").get_data(as_text=True)
    assert printed.count('<article class="letter">') == 2 and "letters.css" in printed
    ids = [letter.id for letter in (own["tp"].letters + own["other"].letters)]
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    future = client.post("/letters/mark-sent", data={"letter_ids": ids, "sent_on": tomorrow,
                                                     "channel": "post"}, follow_redirects=True)
    assert "cannot be in the future" in future.get_data(as_text=True)
    response = client.post("/letters/mark-sent", data={"letter_ids": ids, "sent_on": TODAY.isoformat(),
                                                       "channel": "hand-delivered"}, follow_redirects=True)
    assert "2 letters marked as sent" in response.get_data(as_text=True)
    letter = own["tp"].letters[0]
    db.session.refresh(letter)
    assert letter.sent_on == TODAY and letter.channel.value == "hand-delivered"
    assert letter.content and "Retailer Own Ltd" in letter.content  # frozen as sent
    assert "Letters to print (0)" in client.get("/letters").get_data(as_text=True)
    event = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.record_type == "NotificationLetter",
                                                          AuditEntry.record_id == letter.id,
                                                          AuditEntry.action == "event"))
    assert "hand-delivered" in event.reason


def test_print_stylesheet_puts_one_letter_per_page(app):
    css = (app.static_folder + "/letters.css")
    text = open(css, encoding="utf-8").read()
    assert "@media print" in text and "break-after: page" in text and "size: A4" in text


def test_retailer_reads_own_sent_letter_only(client, own, db):
    tp, other = own["tp"], own["other"]
    P.mark_letters_sent(tp.letters + other.letters, TODAY, "post")
    db.session.commit()
    draft_tp = P.create_in_store(in_store_data({"op": tp.operation, "volunteer": own["volunteer"],
                                                "premises": tp.premises}, staff_action="refused", sale_made=False))
    db.session.commit()
    login_as(client, own["users"][Role.RETAILER])
    response = client.get(f"/my/letters/{tp.letters[0].id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "sold to a young person under 18" in page
    assert_no_volunteer_data(page, own["volunteer"])
    assert "EX-77" not in page
    assert client.get(f"/my/letters/{other.letters[0].id}").status_code == 404  # another business
    assert client.get(f"/my/letters/{draft_tp.letters[0].id}").status_code == 404  # not sent yet
    assert client.get("/my/letters/999999").status_code == 404
    assert client.get(f"/letters/{tp.letters[0].id}").status_code == 403  # the staff view
    client.post("/logout")
    login_as(client, own["users"][Role.OFFICER])
    assert client.get(f"/my/letters/{tp.letters[0].id}").status_code == 403


def test_retailer_results_for_the_portal_hold_no_volunteer_or_retest(own, db):
    tp = own["tp"]
    assert P.retailer_results(own["business"].id) == []  # nothing until the letter is sent
    P.mark_letters_sent(tp.letters, TODAY, "email")
    P.add_action(tp, {"action_type": "warning-letter", "status": "completed", "decided_on": TODAY})
    db.session.commit()
    results = P.retailer_results(own["business"].id)
    assert len(results) == 1
    result = results[0]
    assert result["outcome"] == "FAIL_SOLD_NO_CHALLENGE" and result["letter_id"] == tp.letters[0].id
    assert result["kind"] == "underage" and result["channel"] == "in-store"
    assert [a["type"] for a in result["actions"]] == ["warning-letter"]  # the retest is not announced
    assert_no_volunteer_data(repr(results), own["volunteer"])
    assert not any("volunteer" in key for key in result)
    assert P.retailer_results(own["other_business"].id) == []


def test_retailer_timeline_shows_only_notified_results_without_volunteer(own, db, app):
    with app.test_request_context():
        _check_retailer_timeline(own, db)


def _check_retailer_timeline(own, db):
    tp = own["tp"]
    retailer = own["users"][Role.RETAILER]
    assert [e for e in business_timeline(own["business"], retailer) if e.kind == "test-purchase"] == []
    P.mark_letters_sent(tp.letters, TODAY, "post")
    db.session.commit()
    events = business_timeline(own["business"], retailer)
    kinds = {e.kind for e in events}
    assert {"test-purchase", "letter"} <= kinds
    assert not any(e.title == "Retest scheduled" for e in events)
    assert_no_volunteer_data(repr(events), own["volunteer"])
    staff_events = business_timeline(own["business"], own["users"][Role.OFFICER])
    assert any(e.title == "Retest scheduled" for e in staff_events)


def test_export_and_letters_never_contain_volunteer_data(client, own, db):
    P.mark_letters_sent(own["tp"].letters, TODAY, "post")
    db.session.commit()
    login_as(client, own["users"][Role.ADMIN])
    export = client.get("/purchases/export.csv").get_data(as_text=True)
    assert "FAIL_SOLD_NO_CHALLENGE" in export
    assert_no_volunteer_data(export, own["volunteer"])
    printed = client.get(f"/letters/print?id={own['tp'].letters[0].id}").get_data(as_text=True)
    assert_no_volunteer_data(printed, own["volunteer"])
    assert_no_volunteer_data(own["tp"].letters[0].content, own["volunteer"])


def test_letters_due_command_lists_unsent_letters(runner, own):
    result = runner.invoke(args=["letters-due"])
    assert result.exit_code == 0
    assert "2 letter(s) to send" in result.output and "Retailer Own Ltd" in result.output
    assert "KESTREL" not in result.output
    result = runner.invoke(args=["retests-due", "--days", "120"])
    assert result.exit_code == 0 and "0 overdue, 2 due within 120 days" in result.output


def test_second_retailer_of_another_business_cannot_read(client, own, db):
    P.mark_letters_sent(own["tp"].letters, TODAY, "post")
    db.session.commit()
    stranger = make_user(Role.RETAILER, "stranger@test.example", business=own["other_business"])
    login_as(client, stranger)
    assert client.get(f"/my/letters/{own['tp'].letters[0].id}").status_code == 404
