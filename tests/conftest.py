"""Test fixtures: an app on a fresh database (SQLite file, or PostgreSQL when TEST_DATABASE_URL is set),
a client, a CLI runner, users of every role and a login helper that goes through the real form."""
import os
import re
import sys
from datetime import date

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from retail import create_app
from retail.access import Role
from retail.timeutil import today_london
from retail.extensions import db as _db
from retail.models.accounts import User

PASSWORD = "correct horse battery"


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


def set_modules_today(today: date) -> None:
    """Every loaded test module's TODAY set to `today`."""
    for name, module in list(sys.modules.items()):
        if name.startswith("tests.") and isinstance(getattr(module, "TODAY", None), date):
            module.TODAY = today


@pytest.fixture(autouse=True)
def _today_is_the_apps_today():
    """Test modules keep `TODAY` for building dates around; the app reads the date when it answers. A module-level
    value goes stale when a run crosses midnight, and four tests failed that way: each test now starts with every
    loaded test module's TODAY set to the app's today."""
    set_modules_today(today_london())


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def _schema_app(database_url):
    os.environ["DATABASE_URL"] = database_url
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "ENV_NAME": "testing",
                      "RETAIL_ALLOW_LOOPBACK_FETCH": True,
                      # Records that tests create directly (outside a request) belong to Hackney.
                      "RETAIL_UNSCOPED_OWNER": "hackney"})
    with app.app_context():
        # Tests build the schema from the models for speed; tests/test_migrations.py proves the migrations
        # produce the same schema.
        if _db.engine.dialect.name == "postgresql":
            # A database left by an earlier run: the policies link tables, so drop the schema's contents whole.
            with _db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        _db.drop_all()
        _db.create_all()
        install_row_level_security_for_tests()
    app.test_client_class = ServerLikeClient
    return app


class ServerLikeClient(FlaskClient):
    """Reads each response through and closes it, as a WSGI server does, so that work the app runs once a response
    is sent (the rescore after a save) has run when the test looks."""

    def open(self, *args, buffered: bool = True, **kwargs):
        return super().open(*args, buffered=buffered, **kwargs)


def install_row_level_security_for_tests():
    from retail.scoping import install_row_level_security

    with _db.engine.begin() as conn:
        install_row_level_security(conn)


def _truncate_all():
    tables = list(reversed(_db.metadata.sorted_tables))
    if _db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        _db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            _db.session.execute(table.delete())
        # Deleting the register fired its triggers: whatever order the tables went in, its totals start again at 0.
        _db.session.execute(sa.text("DELETE FROM register_total"))
    _db.session.commit()
    from retail.authorities import ensure_authorities

    ensure_authorities()
    _db.session.commit()


@pytest.fixture
def app(_schema_app):
    with _schema_app.app_context():
        _truncate_all()
        yield _schema_app
        _db.session.rollback()
        _db.session.remove()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def authority_id(code: str) -> int:
    from retail.models.authority import Authority

    return _db.session.scalar(sa.select(Authority.id).where(Authority.code == code))


def make_user(role: Role | str, email: str | None = None, business=None, name: str | None = None,
              authority: str | None = None) -> User:
    """A user of `authority` (by code): Hackney unless said otherwise (City Hall users belong to City Hall)."""
    role = Role(role)
    authority = authority or ("city-hall" if role == Role.CITY_HALL else "hackney")
    user = User(email=email or f"{role.value}-{_counter()}@test.example",
                name=name or f"{role.value.title()} User", role=role,
                business_id=business.id if business is not None else None, authority_id=authority_id(authority))
    user.set_password(PASSWORD)
    _db.session.add(user)
    _db.session.commit()
    return user


_COUNT = [0]


def _counter() -> int:
    _COUNT[0] += 1
    return _COUNT[0]


@pytest.fixture
def make_business(app):
    from tests.factories import create_business

    return create_business


@pytest.fixture
def users(app):
    """One user per role; the retailer belongs to its own business."""
    from tests.factories import create_business

    business = create_business(legal_name="Retailer Own Ltd", trading_name="Own Shop", postcode="E8 1AA")
    return {
        Role.ADMIN: make_user(Role.ADMIN, "admin@test.example"),
        Role.SUPERVISOR: make_user(Role.SUPERVISOR, "supervisor@test.example"),
        Role.OFFICER: make_user(Role.OFFICER, "officer@test.example"),
        Role.POLICE: make_user(Role.POLICE, "police@test.example"),
        Role.RETAILER: make_user(Role.RETAILER, "retailer@test.example", business=business),
        Role.CITY_HALL: make_user(Role.CITY_HALL, "city-hall@test.example"),
    }


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, user_or_email, password: str = PASSWORD):
        email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


def login_as(client, user):
    """Log a test client in as `user` through the real form."""
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return match.group(1) if match else ""
