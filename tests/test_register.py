"""The retailer register: adding, finding, editing, agreements, and the audit history officers see."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from retail.access import Role
from retail.models.audit import AuditEntry
from retail.models.register import Business, Premises, RraSignature
from tests.conftest import login_as
from tests.factories import create_business, create_store, sign_rra

NEW_BUSINESS = {
    "legal_name": "Kaya Hardware Ltd", "trading_name": "Kaya's Hardware", "business_type": "independent",
    "add_shop": "y", "shop_address_line1": "12 Mare Street", "shop_town": "London", "shop_postcode": "e84rp",
    "shop_borough": "hackney", "shop_sells": ["kitchen", "craft"], "shop_display": "open-shelf",
    "submission_token": "tok-1",
}


def test_officer_adds_business_with_shop_and_postcode_is_normalised(client, users, db):
    login_as(client, users[Role.OFFICER])
    response = client.post("/businesses/new", data=NEW_BUSINESS)
    assert response.status_code == 302
    business = db.session.scalar(sa.select(Business).where(Business.legal_name == "Kaya Hardware Ltd"))
    assert business.premises[0].postcode == "E8 4RP"
    assert business.premises[0].sells == ["craft", "kitchen"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kaya&#39;s Hardware" in page and "E8 4RP" in page
    # The audit history names who created it.
    assert "officer@test.example" in page and "create" in page


def test_double_submitted_form_creates_one_business(client, users, db):
    login_as(client, users[Role.OFFICER])
    first = client.post("/businesses/new", data=NEW_BUSINESS)
    second = client.post("/businesses/new", data=NEW_BUSINESS)
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Business)
                             .where(Business.legal_name == "Kaya Hardware Ltd")) == 1


def test_invalid_postcode_and_missing_borough_are_shown_at_the_field(client, users, db):
    login_as(client, users[Role.OFFICER])
    data = {**NEW_BUSINESS, "shop_postcode": "XYZ 123", "shop_borough": "", "submission_token": "t2"}
    response = client.post("/businesses/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "not a valid UK postcode" in page
    assert "Choose the borough." in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Business)) == 1  # only the retailer's own


def test_duplicate_business_same_name_and_postcode_is_refused(client, users, db):
    create_business(legal_name="Kaya Hardware Ltd", trading_name="Kaya's Hardware", postcode="E8 4RP")
    login_as(client, users[Role.OFFICER])
    response = client.post("/businesses/new", data={**NEW_BUSINESS, "submission_token": "t3"})
    assert response.status_code == 422
    assert "already registered at E8 4RP" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Premises).where(
        Premises.postcode == "E8 4RP")) == 1


def test_search_by_postcode_prefix_name_and_trading_name(client, users):
    create_business(legal_name="Alpha Cutlers Ltd", trading_name="Sharp Edge", postcode="N16 7AB", borough="hackney")
    create_business(legal_name="Beta Stores Ltd", trading_name="Beta Stores", postcode="SE15 4QL", borough="southwark")
    login_as(client, users[Role.OFFICER])
    assert "Sharp Edge" in client.get("/register?q=n167").get_data(as_text=True)
    page = client.get("/register?q=N16 7").get_data(as_text=True)
    assert "Sharp Edge" in page and "Beta Stores" not in page
    assert "Sharp Edge" in client.get("/register?q=alpha").get_data(as_text=True)
    assert "Beta Stores" in client.get("/register?q=beta sto").get_data(as_text=True)
    assert "Nothing in the register matches" in client.get("/register?q=zzz").get_data(as_text=True)


def test_filters_by_borough_type_rra_and_sells(client, users):
    a = create_business(legal_name="Signed Shop Ltd", trading_name="Signed Shop", postcode="SE15 1AA",
                        borough="southwark", sells=("swords",))
    create_business(legal_name="Chain Ltd", trading_name="Chain Store", business_type="multiple",
                    postcode="W6 9AA", borough="hammersmith-fulham")
    w = create_business(legal_name="Withdrawn Ltd", trading_name="Withdrawn Shop", postcode="E1 6AN",
                        borough="tower-hamlets")
    sign_rra(a)
    sign_rra(w, status="withdrawn")
    login_as(client, users[Role.OFFICER])

    def names(query):
        page = client.get("/register?" + query).get_data(as_text=True)
        return {n for n in ("Signed Shop", "Chain Store", "Withdrawn Shop") if n in page}

    assert names("borough=southwark") == {"Signed Shop"}
    assert names("type=multiple") == {"Chain Store"}
    assert names("rra=active") == {"Signed Shop"}
    assert names("rra=withdrawn") == {"Withdrawn Shop"}
    assert names("rra=never") == {"Chain Store"}
    assert names("sells=swords") == {"Signed Shop"}


def test_register_paginates_and_sorts(client, users, app):
    app.config["REGISTER_PAGE_SIZE"] = 5
    for n in range(12):
        create_business(legal_name=f"Shop {n:02d} Ltd", trading_name=f"Shop {n:02d}", postcode=f"E8 {n % 9 + 1}AA")
    login_as(client, users[Role.OFFICER])
    first = client.get("/register?q=shop&sort=name").get_data(as_text=True)
    assert "Shop 00" in first and "Shop 05" not in first
    third = client.get("/register?q=shop&sort=name&page=3").get_data(as_text=True)
    assert "Shop 10" in third and "Shop 11" in third
    desc = client.get("/register?q=shop&sort=-name").get_data(as_text=True)
    assert "Shop 11" in desc and "Shop 00" not in desc


def test_stale_edit_is_refused_not_lost(client, users, db):
    business = create_business()
    login_as(client, users[Role.OFFICER])
    form = {"legal_name": "Renamed Ltd", "trading_name": "Renamed", "business_type": "independent",
            "version": str(business.version)}
    assert client.post(f"/businesses/{business.id}/edit", data=form).status_code == 302
    # A second officer saves from the page they opened before the first save.
    stale = client.post(f"/businesses/{business.id}/edit", data={**form, "legal_name": "Other Ltd"})
    assert "changed by someone else" in stale.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Business, business.id).legal_name == "Renamed Ltd"


def test_edit_is_audited_field_by_field(client, users, db):
    business = create_business()
    login_as(client, users[Role.SUPERVISOR])
    client.post(f"/businesses/{business.id}/edit", data={
        "legal_name": business.legal_name, "trading_name": "New Trading Name", "business_type": "independent",
        "primary_authority": "Croydon Council", "version": str(business.version)})
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.record_type == "Business",
                                                          AuditEntry.action == "update")).one()
    assert entry.actor == "supervisor@test.example"
    assert entry.changes["trading_name"] == ["Test Hardware", "New Trading Name"]
    assert entry.changes["primary_authority"] == ["", "Croydon Council"]
    page = client.get(f"/businesses/{business.id}").get_data(as_text=True)
    assert "New Trading Name" in page and "Croydon Council" in page


def test_shop_outside_london_needs_a_local_authority(client, users, db):
    business = create_business()
    login_as(client, users[Role.OFFICER])
    data = {"name": "Leeds Shop", "address_line1": "1 Briggate", "postcode": "LS1 6HB", "borough": "outside",
            "status": "trading", "display": "", "submission_token": "p1"}
    page = client.post(f"/businesses/{business.id}/premises/new", data=data).get_data(as_text=True)
    assert "Name the local authority" in page
    response = client.post(f"/businesses/{business.id}/premises/new", data={**data, "local_authority": "Leeds"})
    assert response.status_code == 302
    shop = db.session.scalar(sa.select(Premises).where(Premises.name == "Leeds Shop"))
    assert shop.borough_name == "Outside London (Leeds)"


def test_online_store_url_is_validated_and_unique(client, users, db):
    business = create_business()
    login_as(client, users[Role.OFFICER])
    bad = client.post(f"/businesses/{business.id}/stores/new",
                      data={"base_url": "ftp://knives", "platform": "own-website", "submission_token": "s1"})
    assert "must start with http:// or https://" in bad.get_data(as_text=True)
    ok = client.post(f"/businesses/{business.id}/stores/new",
                     data={"base_url": "Knives.Example/shop", "platform": "own-website", "submission_token": "s2"})
    assert ok.status_code == 302
    dup = client.post(f"/businesses/{business.id}/stores/new",
                      data={"base_url": "https://knives.example/shop", "platform": "own-website",
                            "submission_token": "s3"})
    assert "already registered" in dup.get_data(as_text=True)
    marketplace = client.post(f"/businesses/{business.id}/stores/new",
                              data={"base_url": "https://ebay.example/usr/x", "platform": "ebay",
                                    "submission_token": "s4"})
    assert "Give the seller id" in marketplace.get_data(as_text=True)


def test_rra_signature_and_status_history(client, users, db):
    business = create_business()
    login_as(client, users[Role.OFFICER])
    response = client.post(f"/businesses/{business.id}/rra/new", data={
        "scheme": "london-rra", "signed_on": date.today().isoformat(), "signatory_name": "Mr Kaya",
        "signatory_role": "Owner", "ts_officer": "Officer User", "commitments": ["challenge-25", "secure-display"],
        "premises_ids": [str(business.premises[0].id)], "signage_given": "y",
        "review_due": (date.today() + timedelta(days=365)).isoformat(), "submission_token": "r1"})
    assert response.status_code == 302
    signature = db.session.scalar(sa.select(RraSignature))
    assert [p.id for p in signature.premises] == [business.premises[0].id]
    refused = client.post(f"/rra/{signature.id}/status", data={
        "status": "withdrawn", "on": date.today().isoformat(), "reason": "", "version": str(signature.version)})
    assert "Give the reason" in refused.get_data(as_text=True)
    client.post(f"/rra/{signature.id}/status", data={
        "status": "withdrawn", "on": date.today().isoformat(), "reason": "Sold to a 15-year-old",
        "version": str(signature.version)})
    db.session.expire_all()
    signature = db.session.get(RraSignature, signature.id)
    assert signature.status.value == "withdrawn"
    assert [e.status.value for e in signature.events] == ["active", "withdrawn"]
    page = client.get(f"/businesses/{business.id}").get_data(as_text=True)
    assert "RRA withdrawn" in page and "Agreement withdrawn" in page  # badge and timeline
    assert "Sold to a 15-year-old" in page


def test_rra_needs_commitments_and_no_future_date(client, users):
    business = create_business()
    login_as(client, users[Role.OFFICER])
    page = client.post(f"/businesses/{business.id}/rra/new", data={
        "scheme": "london-rra", "signed_on": (date.today() + timedelta(days=3)).isoformat(),
        "signatory_name": "X", "submission_token": "r2"}).get_data(as_text=True)
    assert "Tick the commitments" in page


def test_premises_lookup_finds_by_part_of_name_or_postcode(client, users):
    create_business(legal_name="Okafor Tools Ltd", trading_name="Okafor Tools", postcode="SE15 4QL",
                    borough="southwark")
    login_as(client, users[Role.POLICE])
    items = client.get("/premises/lookup.json?q=se15").get_json()["items"]
    assert [i["name"] for i in items] == ["Okafor Tools"]
    assert client.get("/premises/lookup.json?q=okaf").get_json()["items"][0]["postcode"] == "SE15 4QL"


def test_store_and_shop_pages_show_history(client, users):
    business = create_business()
    store = create_store(business)
    login_as(client, users[Role.OFFICER])
    assert "knives.example" in client.get(f"/stores/{store.id}").get_data(as_text=True)
    page = client.get(f"/premises/{business.premises[0].id}").get_data(as_text=True)
    assert "History" in page and "create" in page


def test_a_second_shop_in_the_same_postcode_at_another_address_is_not_a_duplicate(db):
    """Issue 11: two shops of one business in one postcode (a market, a parade) were called duplicates."""
    from retail import register as reg

    business = create_business(legal_name="Market Knives Ltd", trading_name="Market Knives", postcode="EC3V 1LR")
    shop = business.premises[0]
    data = {"name": shop.name, "address_line1": "99 Leadenhall Market", "postcode": "EC3V 1LR",
            "borough": "city-of-london", "town": "London"}
    reg.add_premises(business, data)
    with pytest.raises(reg.DuplicateRecord, match="already has a shop"):
        reg.add_premises(business, {**data, "address_line1": "99, LEADENHALL MARKET"})


def test_borough_is_suggested_from_shops_with_the_same_postcode_area(client, users, db):
    """Issue 11: the borough was not suggested from the postcode. The register's own shops suggest it (the postcode,
    then its sector, then its district), only when most of them agree."""
    for n, postcode in enumerate(("E8 4RP", "E8 4AA", "E8 4QQ")):
        create_business(legal_name=f"Mare Street {n} Ltd", trading_name=f"Mare {n}", postcode=postcode,
                        borough="hackney")
    create_business(legal_name="Edge Ltd", trading_name="Edge", postcode="E8 1ZZ", borough="tower-hamlets")
    login_as(client, users[Role.OFFICER])
    same_sector = client.get("/premises/borough.json?postcode=e84xy").get_json()["suggestion"]
    assert same_sector["borough"] == "hackney" and same_sector["basis"] == "E8 4" and same_sector["shops"] == 3
    assert client.get("/premises/borough.json?postcode=E1 4AB").get_json()["suggestion"] is None  # not E14, not E8
    assert client.get("/premises/borough.json?postcode=nonsense").get_json()["suggestion"] is None


def test_add_the_business_after_an_empty_search_keeps_what_was_searched_for(client, users):
    """Issue 11: "add the business" after an empty search dropped the postcode."""
    login_as(client, users[Role.OFFICER])
    page = client.get("/register?q=N4 2HA").get_data(as_text=True)
    assert "/businesses/new?q=N4+2HA" in page
    form = client.get("/businesses/new?q=N4 2HA").get_data(as_text=True)
    assert 'value="N4 2HA"' in form
    assert 'value="Demir Cutlery"' in client.get("/businesses/new?q=Demir Cutlery").get_data(as_text=True)


def test_the_home_pages_register_totals_are_kept_by_the_database(client, users, db):
    """Issue 15: every staff home page shows how many businesses and trading shops the register holds. Counting them
    cost 23 ms a page at UK scale on PostgreSQL; the totals are now kept by triggers on the two tables, in the same
    transaction as the rows, however they are written (forms, the ORM, a bulk load: PostgreSQL's COPY fires one
    statement-level trigger). The page reads them and counts nothing; the nightly recount repairs any drift."""
    from retail import register_totals
    from retail.demo import bulk_insert
    from tests.querycount import counted_statements

    def real():
        return {"businesses": db.session.scalar(sa.select(sa.func.count()).select_from(Business)),
                "trading_premises": db.session.scalar(sa.select(sa.func.count()).select_from(Premises)
                                                      .where(Premises.status == "trading"))}

    create_business(legal_name="Open Shop Ltd", trading_name="Open Shop")
    closed = create_business(legal_name="Shut Shop Ltd", trading_name="Shut Shop", postcode="E8 3AA")
    closed.premises[0].status = "closed"
    db.session.commit()
    assert register_totals.totals() == real()
    # A bulk load of shops, trading and closed, and a business with no shop made and removed again.
    base = {"business_id": closed.id, "name": "Bulk", "name_key": "bulk", "address_line1": "1 Bulk Row",
            "postcode": "E8 1AA", "postcode_key": "E81AA",
            "borough": "hackney"}
    bulk_insert(Premises.__table__, [{**base, "status": status, "authority_id": closed.premises[0].authority_id}
                                     for status in ("trading", "trading", "closed")])
    db.session.commit()
    passing = create_business(legal_name="Passing Ltd", trading_name="Passing", shop=False)
    db.session.delete(passing)
    closed.premises[0].status = "trading"  # reopened
    db.session.commit()
    expected = real()
    assert register_totals.totals() == expected and expected["trading_premises"] == 4

    login_as(client, users[Role.OFFICER])
    with counted_statements() as statements:
        html = client.get("/").get_data(as_text=True)
    assert (f'<a href="/register">{expected["businesses"]:,} businesses</a>, {expected["trading_premises"]:,} '
            "trading shops.") in html  # the count opens the register
    assert not [s for s in statements if "count(" in s.lower() and ("FROM business" in s or "FROM premises" in s)]

    # Something wrote the totals behind the triggers' back: the nightly recount puts them right.
    db.session.execute(sa.text("UPDATE register_total SET value = 999"))
    db.session.commit()
    assert register_totals.recount() == expected and register_totals.totals() == expected


def test_writing_businesses_and_shops_in_opposite_orders_does_not_deadlock_on_the_totals(app, db):
    """PostgreSQL: the totals are two rows that every writing transaction locks until it commits. An import adding a
    shop and then a business, beside an officer adding a business and then its shop, would take them in opposite
    orders and deadlock; each trigger therefore locks both, businesses first. SQLite writes one at a time."""
    import threading

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: there is no lock order to get wrong")
    from retail.models.register import BusinessType

    owner = create_business(legal_name="Owner Ltd", trading_name="Owner")
    authority_id = owner.premises[0].authority_id

    def shop(connection, name):
        connection.execute(Premises.__table__.insert().values(
            business_id=owner.id, name=name, name_key=name.lower(), address_line1="1 Row", postcode="E8 1AA",
            postcode_key="E81AA", borough="hackney", authority_id=authority_id, status="trading"))

    def business(connection, name):
        connection.execute(Business.__table__.insert().values(
            legal_name=name, legal_name_key=name.lower(), business_type=BusinessType.INDEPENDENT))

    importer, officer = db.engine.connect(), db.engine.connect()
    importer_tx, officer_tx = importer.begin(), officer.begin()
    outcome = {}
    try:
        shop(importer, "Imported Shop")  # the import's chunk: a shop first

        def officer_adds_a_business_with_its_shop():
            try:
                business(officer, "Officer Ltd")
                shop(officer, "Officer Shop")
                officer_tx.commit()
                outcome["officer"] = "saved"
            except Exception as exc:  # noqa: BLE001 - a deadlock is what this test looks for
                outcome["officer"] = exc

        thread = threading.Thread(target=officer_adds_a_business_with_its_shop)
        thread.start()
        thread.join(0.5)  # the officer is now waiting on the importer's lock (or would hold the business total)
        business(importer, "Imported Ltd")  # then a business: with one lock per total, this is where it deadlocked
        importer_tx.commit()
        thread.join(10)
    finally:
        importer.close()
        officer.close()
    assert outcome.get("officer") == "saved", outcome
    from retail import register_totals

    assert register_totals.totals() == {"businesses": 3, "trading_premises": 3}
