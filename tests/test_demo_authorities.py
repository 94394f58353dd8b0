"""The demo seeds Hackney, Croydon, Westminster and the Met, each with its own users, volunteers, operations and test
purchases (plus City Hall and retailers), and a Met operation is shared with the boroughs it names."""
import os

import pytest
import sqlalchemy as sa

from retail.access import Role
from retail.models.accounts import User
from retail.models.authority import Authority, operation_authority
from retail.models.compliance import CaseStatus, NamingCase
from retail.models.purchases import (FollowUpAction, NotificationLetter, Operation, TestPurchase, Volunteer,
                                     VolunteerConsent)
from retail.models.register import Business, Premises
from retail.models.training import TrainingSession
from retail.scoping import AUTHORITY, Scope, acting_for

DEMO_PASSWORD = "demo-password-for-tests"
ORGANISATIONS = ("hackney", "croydon", "westminster", "met")


@pytest.fixture
def demo(app, db, runner, monkeypatch):
    # The demo must name every owner itself: no default owner for rows inserted outside a request.
    monkeypatch.setitem(app.config, "RETAIL_UNSCOPED_OWNER", None)
    result = runner.invoke(args=["seed-demo", "--password", DEMO_PASSWORD])
    assert result.exit_code == 0, result.output
    return result.output


def _ids(db) -> dict[str, int]:
    return dict(db.session.execute(sa.select(Authority.code, Authority.id)).all())


def _count_by_owner(db, model) -> dict[str, int]:
    return dict(db.session.execute(sa.select(Authority.code, sa.func.count(model.id))
                                   .join(model, model.authority_id == Authority.id).group_by(Authority.code)).all())


def test_demo_seeds_four_organisations_with_their_own_users_volunteers_and_operations(demo, db):
    users = {(u.authority.code, u.role) for u in db.session.scalars(sa.select(User))}
    for code in ("hackney", "croydon", "westminster"):
        assert {(code, Role.ADMIN), (code, Role.SUPERVISOR), (code, Role.OFFICER)} <= users
    assert {("met", Role.POLICE), ("met", Role.SUPERVISOR), ("city-hall", Role.CITY_HALL)} <= users
    assert {code for code, role in users if role == Role.RETAILER} >= {"hackney"}
    assert not {code for code, role in users if role == Role.CITY_HALL} - {"city-hall"}
    for model in (Operation, Volunteer, TestPurchase, NotificationLetter):
        owners = _count_by_owner(db, model)
        assert set(ORGANISATIONS) <= set(owners), (model.__name__, owners)
    # Training sessions are run by the demo boroughs; naming cases belong to a borough, at every stage.
    assert set(_count_by_owner(db, TrainingSession)) == {"hackney", "croydon", "westminster"}
    ids = _ids(db)
    cases = db.session.execute(sa.select(NamingCase.authority_id, NamingCase.status)).all()
    assert {owner for owner, _ in cases} <= {ids["hackney"], ids["croydon"], ids["westminster"]}
    assert {status for _, status in cases} == set(CaseStatus)
    # Every shop is owned by the authority of its borough, and each demo borough has shops.
    shops = db.session.execute(sa.select(Premises.borough, Premises.authority_id)).all()
    assert all(owner == ids[borough] for borough, owner in shops)
    assert {"hackney", "croydon", "westminster"} <= {borough for borough, _ in shops}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Business)
                             .where(Business.ref_authority_id.is_(None))) == 0
    # The printed logins name each organisation's users.
    for email in ("officer@hackney.demo", "officer@croydon.demo", "officer@westminster.demo", "police@met.demo",
                  "city-hall@city-hall.demo"):
        assert email in demo


def test_demo_records_belong_to_the_operation_owner(demo, db):
    # Letters, follow-up actions and consents carry the owner of their test purchase or volunteer, and volunteers
    # only take part in their own authority's operations.
    for child, parent, link in [(NotificationLetter, TestPurchase, NotificationLetter.test_purchase_id),
                                (FollowUpAction, TestPurchase, FollowUpAction.test_purchase_id),
                                (VolunteerConsent, Volunteer, VolunteerConsent.volunteer_id),
                                (TestPurchase, Operation, TestPurchase.operation_id)]:
        mismatched = db.session.scalar(sa.select(sa.func.count()).select_from(child).join(parent, parent.id == link)
                                       .where(child.authority_id != parent.authority_id))
        assert mismatched == 0, child.__name__
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VolunteerConsent)
                             .join(Operation, Operation.id == VolunteerConsent.operation_id)
                             .where(Operation.authority_id != VolunteerConsent.authority_id)) == 0
    # A borough tests its own shops; the Met only in the boroughs its operation names.
    ids = _ids(db)
    by_id = {v: k for k, v in ids.items()}
    for owner, boroughs, premises_owner in db.session.execute(
            sa.select(Operation.authority_id, Operation.boroughs, Premises.authority_id)
            .join(TestPurchase, TestPurchase.operation_id == Operation.id)
            .join(Premises, Premises.id == TestPurchase.premises_id)):
        assert premises_owner == owner or (by_id[owner] == "met" and by_id[premises_owner] in boroughs)


def test_code_names_repeat_across_authorities_but_not_within_one(demo, db):
    rows = db.session.execute(sa.select(Volunteer.authority_id, Volunteer.code_name)).all()
    assert len(rows) == len(set(rows))
    owners_of = {}
    for owner, name in rows:
        owners_of.setdefault(name, set()).add(owner)
    assert any(len(owners) > 1 for owners in owners_of.values())


def test_a_met_operation_is_shared_with_the_boroughs_it_names(demo, db, app):
    ids = _ids(db)
    met_ops = db.session.scalars(sa.select(Operation).where(Operation.authority_id == ids["met"])).all()
    assert met_ops
    for op in met_ops:
        assert {a.code for a in op.shared_with} == set(op.boroughs)
    shared = next(op for op in met_ops if {"hackney", "westminster"} <= set(op.boroughs))
    borough_ops = db.session.scalars(sa.select(Operation).where(Operation.authority_id != ids["met"])).all()
    assert all(op.boroughs == [op.authority.code] and not op.shared_with for op in borough_ops)
    shared_id = shared.id
    purchases = set(db.session.scalars(sa.select(TestPurchase.id).where(TestPurchase.operation_id == shared_id)))
    assert purchases
    db.session.expunge_all()

    def visible(code: str):
        with acting_for(Scope(AUTHORITY, ids[code])):
            ops = set(db.session.scalars(sa.select(Operation.id)))
            tps = set(db.session.scalars(sa.select(TestPurchase.id).where(TestPurchase.operation_id == shared_id)))
            volunteers = set(db.session.scalars(sa.select(Volunteer.authority_id)))
        db.session.expunge_all()
        return ops, tps, volunteers

    for code in ("hackney", "westminster"):
        ops, tps, volunteers = visible(code)
        assert shared_id in ops and tps == purchases
        assert volunteers == {ids[code]}  # the Met's volunteers are never shared
    ops, tps, _ = visible("croydon")
    assert shared_id not in ops and not tps
    assert db.session.scalar(sa.select(sa.func.count()).select_from(operation_authority)) == sum(
        len(op.boroughs) for op in db.session.scalars(sa.select(Operation).where(
            Operation.authority_id == ids["met"])))


def test_demo_users_see_their_own_organisation(demo, db, app):
    ids = _ids(db)
    hackney_volunteer = db.session.scalar(sa.select(Volunteer.id).where(Volunteer.authority_id == ids["hackney"]))
    croydon_volunteer = db.session.scalar(sa.select(Volunteer.id).where(Volunteer.authority_id == ids["croydon"]))
    officer = db.session.scalar(sa.select(User).where(User.email == "officer@hackney.demo"))
    assert officer.check_password(DEMO_PASSWORD)
    client = app.test_client()
    response = client.post("/login", data={"email": officer.email, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.get(f"/volunteers/{hackney_volunteer}").status_code == 200
    assert client.get(f"/volunteers/{croydon_volunteer}").status_code == 404


def test_run_demo_prints_every_demo_login():
    from retail.demo.organisations import DEMO_USERS

    path = os.path.join(os.path.dirname(__file__), "..", "scripts", "run_demo.sh")
    with open(path, encoding="utf-8") as handle:
        script = handle.read()
    readme = os.path.join(os.path.dirname(__file__), "..", "README.md")
    with open(readme, encoding="utf-8") as handle:
        text = handle.read()
    for _code, _key, email, _name, _role in DEMO_USERS:
        assert email in script, email
        assert email in text, email


def test_seed_demo_if_empty_does_not_seed_twice(demo, runner):
    again = runner.invoke(args=["seed-demo", "--if-empty", "--password", DEMO_PASSWORD])
    assert again.exit_code == 0 and "not seeding again" in again.output


def test_cli_import_register_records_council_references_as_the_authority_named(runner, db, tmp_path):
    path = tmp_path / "register.csv"
    path.write_text("Business Name,Post Code,Borough,Address,Council Ref\n"
                    "Patel Hardware Ltd,E8 4RP,Hackney,12 Mare Street,H-001\n"
                    "Brightside Ltd,SE15 4QL,Southwark,1 Rye Lane,S-777\n")
    unknown = runner.invoke(args=["import-register", str(path), "--authority", "nowhere"])
    assert unknown.exit_code != 0 and "no authority with the code 'nowhere'" in unknown.output
    result = runner.invoke(args=["import-register", str(path), "--authority", "hackney"])
    assert result.exit_code == 0, result.output
    refs = dict(db.session.execute(sa.select(Business.external_ref, Business.ref_authority_id)).all())
    assert refs == {"H-001": _ids(db)["hackney"], "S-777": _ids(db)["hackney"]}
    # Shops still belong to the authority of their borough, whoever imported them.
    owners = dict(db.session.execute(sa.select(Premises.borough, Premises.authority_id)).all())
    assert owners == {"hackney": _ids(db)["hackney"], "southwark": _ids(db)["southwark"]}


def test_demo_training_is_believable(demo, db):
    """Issue 11: the demo had sessions on 25 December and reply-by dates after the session offered."""
    from datetime import date

    from retail.models.training import TrainingInvitation
    from retail.training import session_date

    sessions = db.session.scalars(sa.select(TrainingSession)).all()
    days = [session_date(s) for s in sessions]
    assert all(d.weekday() < 5 for d in days), "a session at a weekend"
    assert not [d for d in days if (d.month, d.day) in ((12, 25), (12, 26), (1, 1))], "a session on a bank holiday"
    late = db.session.scalars(sa.select(TrainingInvitation).where(TrainingInvitation.session_id.is_not(None))).all()
    assert late and all(i.deadline < session_date(i.session) for i in late)
    assert all(i.responded_on is None or i.responded_on <= max(i.deadline, date.today()) for i in late)


def test_demo_addresses_lie_in_their_postcode_area(demo, db):
    """Issue 11: the demo had an address in the wrong postcode area; named streets appear only in their district."""
    from retail.demo.register import LOCAL_STREETS

    where = {street: district for district, streets in LOCAL_STREETS.items() for street in streets}
    wrong = [(line, postcode) for line, postcode in db.session.execute(
        sa.select(Premises.address_line1, Premises.postcode)).all()
        for street, district in where.items() if line.endswith(street) and postcode.split()[0] != district]
    assert not wrong


def test_the_demo_has_a_javascript_shop_marked_as_needing_a_browser(demo, db):
    from retail.models.listings import StoreMonitor

    marked = db.session.scalars(sa.select(StoreMonitor).where(StoreMonitor.needs_browser.is_(True))).all()
    assert [m.start_urls for m in marked] == ["http://127.0.0.1:5050/shops/shop15/"]
