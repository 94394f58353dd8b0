"""Administration inside one organisation: an admin manages their own authority's users and settings, and neither
sees nor changes a neighbour's."""
import sqlalchemy as sa

from retail.access import Role
from retail.forms.accounts import role_choices
from retail.models.accounts import User
from retail.models.authority import AuthorityKind
from retail.settings import all_settings, save_settings, volunteer_age_range
from tests.conftest import authority_id, csrf_token_from, login_as, make_user

SETTINGS = {"authority_name": "Hackney Trading Standards", "letterhead_address": "Hackney Service Centre, E8 1DY",
            "letterhead_phone": "020 8356 0000", "letterhead_email": "ts@hackney.example",
            "contact_url": "https://hackney.example/knives", "letter_signatory": "Head of Trading Standards",
            "volunteer_min_age": "14", "volunteer_max_age": "16"}


def test_admin_lists_and_edits_only_their_own_authoritys_users(client, db, users):
    croydon_officer = make_user(Role.OFFICER, "officer@croydon.example", authority="croydon")
    login_as(client, users[Role.ADMIN])
    page = client.get("/admin/users").get_data(as_text=True)
    assert "officer@test.example" in page and "London Borough of Hackney" in page
    assert "officer@croydon.example" not in page
    # Another authority's user is not there: 404, read or write, and nothing changes.
    assert client.get(f"/admin/users/{croydon_officer.id}").status_code == 404
    response = client.post(f"/admin/users/{croydon_officer.id}", data={
        "email": "officer@croydon.example", "name": "Taken Over", "role": "admin", "active": "y"})
    assert response.status_code == 404
    db.session.expire_all()
    croydon_officer = db.session.get(User, croydon_officer.id)
    assert croydon_officer.role == Role.OFFICER and croydon_officer.name != "Taken Over"
    # Their own users are editable as before, and the form names the organisation.
    page = client.get(f"/admin/users/{users[Role.OFFICER].id}").get_data(as_text=True)
    assert 'id="organisation">London Borough of Hackney<' in page


def test_a_new_user_joins_the_admins_authority(client, db, users):
    login_as(client, users[Role.ADMIN])
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert "London Borough of Hackney" in form
    assert 'value="city-hall"' not in form  # the City Hall role is for City Hall's staff
    response = client.post("/admin/users/new", data={"email": "new@hackney.example", "name": "New Officer",
                                                     "role": "officer", "active": "y", "password": "long-enough-pw"})
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "new@hackney.example"))
    assert user.authority_id == authority_id("hackney")
    page = client.post("/admin/users/new", data={"email": "ch@hackney.example", "name": "Mayor", "role": "city-hall",
                                                 "active": "y", "password": "long-enough-pw"}).get_data(as_text=True)
    assert "Not a valid choice" in page
    assert db.session.scalar(sa.select(User).where(User.email == "ch@hackney.example")) is None


def test_city_hall_admin_creates_city_hall_users():
    assert [v for v, _ in role_choices(AuthorityKind.CITY_HALL)] == ["city-hall", "admin"]
    assert "city-hall" not in [v for v, _ in role_choices(AuthorityKind.LONDON_BOROUGH)]


def test_city_hall_admin_adds_a_reader(client, db):
    admin = make_user(Role.ADMIN, "admin@cityhall.example", authority="city-hall")
    login_as(client, admin)
    response = client.post("/admin/users/new", data={"email": "reader@cityhall.example", "name": "Reader",
                                                     "role": "city-hall", "active": "y",
                                                     "password": "long-enough-pw"})
    assert response.status_code == 302
    reader = db.session.scalar(sa.select(User).where(User.email == "reader@cityhall.example"))
    assert reader.role == Role.CITY_HALL and reader.authority_id == authority_id("city-hall")


def test_settings_are_the_admins_authoritys_own(client, db, users):
    croydon = authority_id("croydon")
    save_settings({"letterhead_address": "Bernard Weatherill House, Croydon", "letter_signatory": "Croydon TSO"},
                  authority_id=croydon)
    db.session.commit()
    login_as(client, users[Role.ADMIN])
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "Settings for London Borough of Hackney" in page
    assert "Bernard Weatherill House" not in page and "Croydon TSO" not in page
    assert 'value="London Borough of Hackney"' in page  # the authority's name is the default letterhead name

    response = client.post("/admin/settings", data={**SETTINGS, "csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    hackney = all_settings(authority_id("hackney"))
    assert {k: hackney[k] for k in SETTINGS} == SETTINGS
    assert volunteer_age_range(authority_id("hackney")) == (14, 16)
    # Croydon keeps its own letterhead, and the defaults for what it never set.
    theirs = all_settings(croydon)
    assert theirs["letterhead_address"] == "Bernard Weatherill House, Croydon"
    assert theirs["letter_signatory"] == "Croydon TSO"
    assert theirs["authority_name"] == "London Borough of Croydon"
    assert theirs["letterhead_email"] != SETTINGS["letterhead_email"]
    assert volunteer_age_range(croydon) == (13, 16)
    # And a Croydon admin sees Croydon's, not Hackney's.
    client.post("/logout")
    login_as(client, make_user(Role.ADMIN, "admin@croydon.example", authority="croydon"))
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "Bernard Weatherill House" in page and "Hackney Service Centre" not in page


def test_volunteer_ages_are_refused_outside_the_bounds_or_reversed(client, db, users):
    login_as(client, users[Role.ADMIN])
    for ages, field, message in [
        ({"volunteer_min_age": "11"}, "volunteer_min_age", "from 12 to 16"),
        ({"volunteer_max_age": "17"}, "volunteer_max_age", "from 12 to 16"),
        ({"volunteer_min_age": ""}, "volunteer_min_age", "from 12 to 16"),
        ({"volunteer_min_age": "15", "volunteer_max_age": "13"}, "volunteer_max_age", "cannot be below the youngest"),
    ]:
        page = client.post("/admin/settings", data={**SETTINGS, **ages}).get_data(as_text=True)
        assert message in page, ages
        # The message sits next to its field (Bootstrap's invalid-feedback after the input).
        field_html = page[page.index(f'id="{field}"'):]
        assert message in field_html[:field_html.index("</div>")], ages
    assert volunteer_age_range(authority_id("hackney")) == (13, 16)  # nothing saved
    assert all_settings(authority_id("hackney"))["letter_signatory"] != SETTINGS["letter_signatory"]


def test_navbar_names_the_users_organisation(client, users):
    login_as(client, users[Role.OFFICER])
    assert 'id="organisation-name">London Borough of Hackney<' in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login_as(client, users[Role.CITY_HALL])
    assert 'id="organisation-name">Mayor of London (City Hall)<' in client.get("/measures").get_data(as_text=True)
