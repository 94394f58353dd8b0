"""Issue 14, accounts and sessions: revocable sessions, sign-in throttling that cannot lock the real user out,
constant-cost answers for unknown accounts, the audit of it all, and the common-password rule."""
import statistics
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import g

from retail import create_app, throttle
from retail.access import Role
from retail.models.accounts import LoginThrottle, User
from retail.models.audit import AuditEntry
from retail.timeutil import utcnow
from tests.conftest import PASSWORD, authority_id, login_as

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OFFICE = {"REMOTE_ADDR": "198.51.100.7"}


def fresh_client(app):
    """A test client whose every request loads the user afresh from its cookie, as in production (the tests share
    one app context, so Flask-Login's cached user on g would otherwise outlive the request)."""
    client = app.test_client()
    original = client.open

    def open_fresh(*args, **kwargs):
        g.pop("_login_user", None)
        return original(*args, **kwargs)

    client.open = open_fresh
    return client


@pytest.fixture
def client(app):
    return fresh_client(app)


class Clock:
    """Moves the throttle's idea of now, so tests wait minutes in no time."""

    def __init__(self, monkeypatch):
        self.now = utcnow()
        monkeypatch.setattr(throttle, "utcnow", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _sign_in(client, email, password, environ=OFFICE):
    return client.post("/login", data={"email": email, "password": password}, environ_base=environ)


def _checked(response) -> bool:
    """Whether the password was checked (a refusal during a back-off does not check it, and says only 'wait')."""
    return "Email or password not recognised." in response.get_data(as_text=True)


def _copy_session(source, app):
    other = fresh_client(app)
    other.set_cookie("session", source.get_cookie("session").value)
    return other


def _signed_in(client) -> bool:
    return client.get("/account/password").status_code == 200


# --- Sessions end on the server --------------------------------------------------------------------------------

def test_a_session_cookie_copied_before_logout_no_longer_works_after_it(app, client, users):
    login_as(client, users[Role.OFFICER])
    copy = _copy_session(client, app)
    assert _signed_in(copy)
    client.post("/logout")
    assert not _signed_in(client)
    assert not _signed_in(copy)  # before: the copied cookie still opened every page


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(app, client, users):
    login_as(client, users[Role.OFFICER])
    elsewhere = fresh_client(app)
    login_as(elsewhere, users[Role.OFFICER])
    response = client.post("/account/password", data={"current_password": PASSWORD,
                                                      "new_password": "plum orchard lantern 42",
                                                      "confirm": "plum orchard lantern 42"})
    assert response.status_code == 302
    assert _signed_in(client)
    assert not _signed_in(elsewhere)


@pytest.mark.parametrize("change", ["role", "deactivate", "password"])
def test_admin_changes_that_end_the_users_sessions(app, client, users, db, change):
    officer = users[Role.OFFICER]
    theirs = fresh_client(app)
    login_as(theirs, officer)
    login_as(client, users[Role.ADMIN])
    form = {"email": officer.email, "name": officer.name, "role": "officer", "active": "y"}
    if change == "role":
        form["role"] = "supervisor"
    elif change == "deactivate":
        del form["active"]
    else:
        form["password"] = "walnut harbour signal 7"
    assert client.post(f"/admin/users/{officer.id}", data=form).status_code == 302
    assert not _signed_in(theirs)


def test_an_edit_that_changes_no_rights_keeps_the_session(app, client, users):
    officer = users[Role.OFFICER]
    theirs = fresh_client(app)
    login_as(theirs, officer)
    login_as(client, users[Role.ADMIN])
    client.post(f"/admin/users/{officer.id}", data={"email": officer.email, "name": "A New Display Name",
                                                    "role": "officer", "active": "y"})
    assert _signed_in(theirs)


def test_moving_a_user_to_another_authority_ends_their_sessions(app, client, users, db):
    officer = users[Role.OFFICER]
    login_as(client, officer)
    user = db.session.get(User, officer.id)
    user.authority_id = authority_id("croydon")
    db.session.commit()
    assert not _signed_in(client)


def test_a_session_cookie_without_the_current_token_is_refused(app, client, users):
    login_as(client, users[Role.OFFICER])
    with client.session_transaction() as session:
        session["_user_id"] = str(users[Role.OFFICER].id)  # the cookie shape before sessions were revocable
    assert not _signed_in(client)


# --- Throttling: slow attackers, never lock the real user out ----------------------------------------------------

def test_wrong_passwords_back_off_with_429_and_the_right_password_works_after_the_wait(app, client, users,
                                                                                       monkeypatch):
    clock = Clock(monkeypatch)
    email = users[Role.POLICE].email
    for _ in range(3):
        page = _sign_in(client, email, "wrong")
        assert page.status_code == 200 and "not recognised" in page.get_data(as_text=True)
    slowed = _sign_in(client, email, "wrong")
    assert slowed.status_code == 429 and slowed.headers["Retry-After"] == "2"
    assert "wait 2 seconds" in slowed.get_data(as_text=True)
    # Within the wait even the right password is not checked...
    refused = _sign_in(client, email, PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) <= 2
    # ...and after it the right password signs in (before: locked for 15 minutes whatever was typed).
    clock.advance(3)
    assert _sign_in(client, email, PASSWORD).status_code == 302
    # Signing in cleared the account's back-off: one more typo is not punished at once.
    client.post("/logout")
    assert _sign_in(client, email, "wrong").status_code == 200


def test_the_wait_doubles_and_is_capped(app, client, users, monkeypatch):
    clock = Clock(monkeypatch)
    waits = []
    for _ in range(16):
        response = _sign_in(client, users[Role.POLICE].email, "wrong", ATTACKER)
        if response.status_code == 429:
            waits.append(int(response.headers["Retry-After"]))
            clock.advance(waits[-1])
    assert waits[:4] == [2, 4, 8, 16]
    assert max(waits) <= 15 * 60


def test_an_attacker_elsewhere_cannot_lock_the_real_user_out(app, client, users, monkeypatch):
    clock = Clock(monkeypatch)
    admin = users[Role.ADMIN]
    # The admin has signed in from their browser before (it holds the signed "known device" cookie).
    login_as_office = _sign_in(client, admin.email, PASSWORD)
    assert login_as_office.status_code == 302
    client.post("/logout")
    # An attacker hammers the admin's account, waiting out every back-off.
    attacker = fresh_client(app)
    wait = 0
    for _ in range(20):
        clock.advance(wait)  # each guess waits out the back-off the one before started
        response = _sign_in(attacker, admin.email, "guess", ATTACKER)
        assert _checked(response)
        wait = int(response.headers.get("Retry-After", 0))
    assert _sign_in(attacker, admin.email, PASSWORD, ATTACKER).status_code == 429  # the attacker is held back
    # The admin, from their own browser and address, signs in at once.
    assert _sign_in(client, admin.email, PASSWORD).status_code == 302
    # From a browser the account never used, the wait is bounded (minutes, not a lock), and the password then works.
    fresh = fresh_client(app)
    for _ in range(12):
        _sign_in(attacker, admin.email, "guess", {"REMOTE_ADDR": f"192.0.2.{_ + 1}"})
    response = _sign_in(fresh, admin.email, PASSWORD, {"REMOTE_ADDR": "198.51.100.99"})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) <= 5 * 60
    clock.advance(5 * 60 + 1)
    assert _sign_in(fresh, admin.email, PASSWORD, {"REMOTE_ADDR": "198.51.100.99"}).status_code == 302


def test_one_address_gets_a_bounded_number_of_guesses_a_minute(app, client, users, monkeypatch):
    clock = Clock(monkeypatch)
    checked = []
    # Two sends a second for five minutes, spread over many accounts (real and made up).
    for n in range(600):
        email = [u.email for u in users.values()][n % 6] if n % 2 else f"nobody{n}@test.example"
        response = _sign_in(client, email, f"guess-{n}", ATTACKER)
        if _checked(response):
            checked.append(clock.now)
        clock.advance(0.5)
    start = checked[0]
    in_last_three_minutes = [t for t in checked if t >= start + timedelta(minutes=2)]
    assert len(checked) <= 20  # before: every one of the 600 was checked
    assert len(in_last_three_minutes) <= 3  # about one guess a minute once the address is slowed


def test_throttle_state_is_shared_between_workers(app, client, users, monkeypatch):
    Clock(monkeypatch)
    other_worker = create_app(dict(app.config))
    for _ in range(4):
        _sign_in(client, users[Role.POLICE].email, "wrong", ATTACKER)
    with other_worker.app_context():
        response = _sign_in(other_worker.test_client(), users[Role.POLICE].email, PASSWORD, ATTACKER)
    assert response.status_code == 429


def test_unknown_accounts_cost_a_password_hash_and_answer_alike(app, client, users, monkeypatch):
    from retail import passwords

    calls = []
    real_check = passwords.check_password_hash
    monkeypatch.setattr(passwords, "check_password_hash", lambda h, p: calls.append(h) or real_check(h, p))
    known = _sign_in(client, users[Role.POLICE].email, "wrong", ATTACKER)
    unknown = _sign_in(client, "no-such-officer@test.example", "wrong", ATTACKER)
    assert len(calls) == 2 and calls[1].startswith("scrypt:")  # before: no hash at all for an unknown email
    assert known.status_code == unknown.status_code == 200
    assert "Email or password not recognised." in known.get_data(as_text=True)
    assert "Email or password not recognised." in unknown.get_data(as_text=True)


def test_unknown_accounts_take_about_as_long_as_real_ones(app, client, users):
    def timed(email, n):
        # Fresh addresses, so no back-off shortens any answer.
        times = []
        for i in range(5):
            start = time.perf_counter()
            _sign_in(client, email, "wrong", {"REMOTE_ADDR": f"192.0.2.{n * 10 + i}"})
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    timed("warm-up@test.example", 9)
    known, unknown = timed(users[Role.POLICE].email, 1), timed("no-such-officer@test.example", 2)
    assert unknown > known / 3, (known, unknown)  # before: ~15 times faster


def test_failures_slowdowns_and_password_changes_are_in_the_audit_log(app, client, users, db):
    police = users[Role.POLICE]
    for _ in range(4):
        _sign_in(client, police.email, "wrong", ATTACKER)
    _sign_in(client, "ghost@test.example", "wrong", ATTACKER)
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "event")).all()
    reasons = [(e.record_type, e.record_id, e.reason) for e in entries]
    assert reasons.count(("User", police.id, "Sign-in failed: wrong password")) == 4
    assert ("User", police.id, "Sign-in slowed down after repeated failures") in reasons
    assert ("Login", 0, "Sign-in failed: no such account") in reasons
    failed = next(e for e in entries if e.reason == "Sign-in failed: wrong password")
    assert failed.changes["address"] == [None, "203.0.113.66"] and failed.changes["email"][1] == police.email
    client = fresh_client(app)
    login_as(client, users[Role.OFFICER])
    client.post("/account/password", data={"current_password": PASSWORD, "new_password": "plum orchard lantern 42",
                                           "confirm": "plum orchard lantern 42"})
    change = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.record_id == users[Role.OFFICER].id,
                                                          AuditEntry.reason.like("Password changed%")))
    assert change is not None and change.actor == users[Role.OFFICER].email
    assert "password_hash" not in change.changes and "session_token" not in str(change.changes)


def test_stale_counters_are_forgotten(app, client, users, db, monkeypatch):
    clock = Clock(monkeypatch)
    _sign_in(client, "someone@test.example", "wrong", ATTACKER)
    clock.advance(2 * 3600)
    _sign_in(client, "someone-else@test.example", "wrong", OFFICE)
    keys = set(db.session.scalars(sa.select(LoginThrottle.key)))
    assert not any(k.endswith("someone@test.example") for k in keys)


def test_admin_sees_a_slowed_account_and_saving_it_lifts_the_back_off(app, client, users, monkeypatch):
    Clock(monkeypatch)
    police = users[Role.POLICE]
    for n in range(12):
        _sign_in(client, police.email, "wrong", {"REMOTE_ADDR": f"192.0.2.{n + 1}"})
    login_as(client, users[Role.ADMIN])
    assert "sign-in slowed" in client.get("/admin/users").get_data(as_text=True)
    client.post(f"/admin/users/{police.id}", data={"email": police.email, "name": police.name, "role": "police",
                                                   "active": "y"})
    assert "sign-in slowed" not in client.get("/admin/users").get_data(as_text=True)


# --- Common passwords refused wherever a password is set -------------------------------------------------------

def _error_next_to(html: str, field: str) -> str:
    """The text of the feedback shown with `field` (Bootstrap-Flask renders it right after the input)."""
    import re

    match = re.search(rf'id="{field}"[^>]*>\s*(?:<div class="invalid-feedback[^"]*"[^>]*>([^<]*)</div>)', html)
    return match.group(1) if match else ""


@pytest.mark.parametrize("password", ["password1234", "qwertyuiop123", "liverpool1234", "Officer2024!"])
def test_common_passwords_are_refused_when_changing_ones_own(client, users, password):
    login_as(client, users[Role.OFFICER])
    page = client.post("/account/password", data={"current_password": PASSWORD, "new_password": password,
                                                  "confirm": password}).get_data(as_text=True)
    assert "Choose a longer, less common password" in _error_next_to(page, "new_password")
    client.post("/logout")
    assert _sign_in(client, users[Role.OFFICER].email, PASSWORD).status_code == 302  # unchanged


def test_common_passwords_are_refused_on_the_admin_forms(client, users, db):
    login_as(client, users[Role.ADMIN])
    page = client.post("/admin/users/new", data={"email": "new@test.example", "name": "New Officer",
                                                 "role": "officer", "active": "y", "password": "password123"}
                       ).get_data(as_text=True)
    assert "common password" in _error_next_to(page, "password")
    assert db.session.scalar(sa.select(User).where(User.email == "new@test.example")) is None
    officer = users[Role.OFFICER]
    page = client.post(f"/admin/users/{officer.id}", data={"email": officer.email, "name": officer.name,
                                                           "role": "officer", "active": "y",
                                                           "password": "1234567890"}).get_data(as_text=True)
    assert "Choose a longer, less common password" in _error_next_to(page, "password")
    db.session.expire_all()
    assert db.session.get(User, officer.id).check_password(PASSWORD)


def test_cli_create_user_refuses_a_common_password(runner, db):
    result = runner.invoke(args=["create-user", "weak@test.example", "--role", "officer", "--authority", "hackney",
                                 "--password-stdin"], input="iloveyou123\n")
    assert result.exit_code != 0 and "less common password" in result.output
    assert db.session.scalar(sa.select(User).where(User.email == "weak@test.example")) is None
