"""Signing in, passwords, disabled accounts, and user administration (throttling and sessions: test_login_security)."""
import sqlalchemy as sa

from retail.access import Role
from retail.config import ConfigError, load_config
from retail.models.accounts import User
from tests.conftest import PASSWORD, login_as


def test_login_and_logout(client, users):
    response = client.post("/login", data={"email": "OFFICER@test.example", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_disabled_user_cannot_sign_in_and_loses_session(app, users, db):
    client = app.test_client()
    login_as(client, users[Role.OFFICER])
    users[Role.OFFICER].active = False
    db.session.commit()
    assert client.get("/register").status_code == 302  # session no longer accepted
    page = client.post("/login", data={"email": "officer@test.example", "password": PASSWORD}).get_data(as_text=True)
    assert "disabled" in page


def test_login_does_not_redirect_off_site(client, users):
    response = client.post("/login?next=https://evil.example/", data={"email": "officer@test.example",
                                                                       "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/register", data={"email": "officer@test.example", "password": PASSWORD})
    assert response.headers["Location"] == "/register"


def test_change_own_password(client, users):
    login_as(client, users[Role.RETAILER])
    page = client.post("/account/password", data={"current_password": "nope", "new_password": "a-new-password-1",
                                                  "confirm": "a-new-password-1"}).get_data(as_text=True)
    assert "not your current password" in page
    response = client.post("/account/password", data={"current_password": PASSWORD,
                                                      "new_password": "a-new-password-1",
                                                      "confirm": "a-new-password-1"})
    assert response.status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"email": "retailer@test.example",
                                       "password": "a-new-password-1"}).status_code == 302


def test_admin_creates_disables_and_reroles_users_without_deleting(client, users, db):
    login_as(client, users[Role.ADMIN])
    response = client.post("/admin/users/new", data={"email": "new@test.example", "name": "New Officer",
                                                     "role": "officer", "active": "y",
                                                     "password": "long-enough-pw"})
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "new@test.example"))
    page = client.post(f"/admin/users/{user.id}", data={"email": "new@test.example", "name": "New Officer",
                                                       "role": "retailer"}).get_data(as_text=True)
    assert "must belong to a business" in page
    client.post(f"/admin/users/{user.id}", data={"email": "new@test.example", "name": "New Officer",
                                                 "role": "supervisor"})  # no "active": disabled
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.role == Role.SUPERVISOR and user.active is False
    # The user list still shows them.
    assert "new@test.example" in client.get("/admin/users").get_data(as_text=True)
    # An admin cannot disable themselves.
    page = client.post(f"/admin/users/{users[Role.ADMIN].id}", data={
        "email": "admin@test.example", "name": "Admin", "role": "admin"}).get_data(as_text=True)
    assert "cannot disable your own account" in page


def test_session_cookie_flags(app, client, users):
    response = client.post("/login", data={"email": "officer@test.example", "password": PASSWORD})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("RETAIL_ENV", "production")
    try:
        load_config(str(tmp_path))
    except ConfigError as exc:
        assert "SECRET_KEY" in str(exc)
    else:
        raise AssertionError("started without SECRET_KEY")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    config = load_config(str(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] is True


def test_database_url_rewrites_postgres_scheme(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example/retail")
    assert load_config(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example/retail"
    monkeypatch.delenv("DATABASE_URL")
    assert load_config(str(tmp_path))["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_cli_create_user_reads_password_from_stdin(runner, db, make_business):
    business = make_business()
    result = runner.invoke(args=["create-user", "shop@test.example", "--role", "retailer", "--authority", "hackney",
                                 "--business-id", str(business.id), "--name", "Shop Owner", "--password-stdin"],
                           input="a-long-password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "shop@test.example"))
    assert user.check_password("a-long-password") and user.business_id == business.id
    assert user.authority.code == "hackney"
    bad = runner.invoke(args=["create-user", "x@test.example", "--role", "retailer", "--authority", "hackney",
                              "--password-stdin"], input="a-long-password\n")
    assert bad.exit_code != 0 and "must belong to an existing business" in bad.output


def test_cli_create_user_prompts_hidden(runner, db):
    result = runner.invoke(args=["create-user", "sup@test.example", "--role", "supervisor", "--authority", "croydon"],
                           input="a-long-password\na-long-password\n")
    assert result.exit_code == 0, result.output
    assert "a-long-password" not in result.output
    assert "London Borough of Croydon" in result.output


def test_cli_create_user_puts_the_user_in_the_authority_named(runner, db):
    for email, role, code in [("pc@test.example", "police", "met"), ("mayor@test.example", "city-hall", "city-hall"),
                              ("city@test.example", "officer", "City-of-London")]:
        result = runner.invoke(args=["create-user", email, "--role", role, "--authority", code, "--password-stdin"],
                               input="a-long-password\n")
        assert result.exit_code == 0, result.output
        user = db.session.scalar(sa.select(User).where(User.email == email))
        assert user.authority.code == code.lower() and user.role == role


def test_cli_create_user_needs_a_known_authority(runner, db):
    missing = runner.invoke(args=["create-user", "a@test.example", "--role", "officer", "--password-stdin"],
                            input="a-long-password\n")
    assert missing.exit_code != 0 and "--authority" in missing.output
    unknown = runner.invoke(args=["create-user", "a@test.example", "--role", "officer", "--authority", "hackny",
                                  "--password-stdin"], input="a-long-password\n")
    assert unknown.exit_code != 0
    assert "no authority with the code 'hackny'" in unknown.output and "Did you mean hackney?" in unknown.output
    assert "city-of-london" in unknown.output and "met, city-hall or lts" in unknown.output
    # A role must fit the organisation: City Hall's staff have the City Hall role.
    wrong = runner.invoke(args=["create-user", "a@test.example", "--role", "officer", "--authority", "city-hall",
                                "--password-stdin"], input="a-long-password\n")
    assert wrong.exit_code != 0 and "City Hall" in wrong.output
    assert db.session.scalar(sa.select(User).where(User.email == "a@test.example")) is None


def test_cli_lists_authorities_and_adds_one_outside_london(runner, db):
    from retail.models.authority import Authority, AuthorityKind

    listing = runner.invoke(args=["authorities"])
    assert listing.exit_code == 0, listing.output
    for code in ("hackney", "city-of-london", "met", "city-hall", "lts"):
        assert f"  {code} " in listing.output
    assert "London Borough of Hackney" in listing.output
    added = runner.invoke(args=["add-authority", "kent", "Kent County Council"])
    assert added.exit_code == 0, added.output
    kent = db.session.scalar(sa.select(Authority).where(Authority.code == "kent"))
    assert kent.kind == AuthorityKind.OTHER_AUTHORITY and kent.borough is None
    assert runner.invoke(args=["add-authority", "kent", "Kent Again"]).exit_code != 0
    assert runner.invoke(args=["add-authority", "Not A Slug!", "Somewhere"]).exit_code != 0
    result = runner.invoke(args=["create-user", "ts@kent.example", "--role", "officer", "--authority", "kent",
                                 "--password-stdin"], input="a-long-password\n")
    assert result.exit_code == 0, result.output
    assert "kent " in runner.invoke(args=["authorities"]).output
