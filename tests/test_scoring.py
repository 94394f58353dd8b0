"""Compliance scores: each factor and its weight, the worst-factor band cap, history, rules versions, `score --json`."""
import json
from datetime import date, datetime, timedelta, UTC

import pytest
import sqlalchemy as sa

from retail import scoring
from retail.purchases import sync_enforcement_stage
from retail.access import Role
from retail.timeutil import today_london
from retail.extensions import db
from retail.models.compliance import ComplianceScore, ScoreFactor, ScoringRules
from retail.models.listings import Listing, StoreMonitor
from retail.models.purchases import FollowUpAction, TestPurchase
from retail.models.training import TrainingAttendance, TrainingCourse, TrainingRefusal, TrainingSession
from tests.conftest import login_as
from tests.factories import create_business, create_store, sign_rra

TODAY = today_london()  # the app's today (London), not the machine's


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def make_purchase(business, on: date, outcome="FAIL_SOLD_NO_CHALLENGE", kind="underage", channel=None,
                  checkout=False, dispatch=False, courier=False, store=None, enforcement="warning") -> TestPurchase:
    """A concluded attempt. Failures default to a decided case (a warning letter), which counts against the business;
    pass enforcement="undecided", "acquitted"... to test how a case's end changes that (brief 5.3)."""
    online = channel == "online" or store is not None
    tp = TestPurchase(
        kind=kind, channel="online" if online else "in-store", stage="concluded", business_id=business.id,
        premises_id=None if online else business.premises[0].id, online_store_id=store.id if store else None,
        purchase_date=on, outcome=outcome, failed=outcome.startswith("FAIL"), checkout_failed=checkout,
        dispatch_failed=dispatch, courier_failed=courier, concluded_on=on,
        enforcement_stage=enforcement if outcome.startswith("FAIL") else "undecided")
    db.session.add(tp)
    db.session.commit()
    return tp


def make_refusal(business, on: date, kind="declined") -> TrainingRefusal:
    refusal = TrainingRefusal(business_id=business.id, premises_id=business.premises[0].id if business.premises
                              else None, refused_on=on, kind=kind, recorded_by="test")
    db.session.add(refusal)
    db.session.commit()
    return refusal


def make_action(purchase, action_type="prosecution", status="pending", retest=None,
                court_outcome=None) -> FollowUpAction:
    action = FollowUpAction(test_purchase_id=purchase.id, business_id=purchase.business_id,
                            premises_id=purchase.premises_id, action_type=action_type, status=status,
                            decided_on=purchase.purchase_date, retest_purchase_id=retest.id if retest else None,
                            court_outcome=court_outcome)
    db.session.add(action)
    db.session.flush()
    sync_enforcement_stage(purchase)  # as the follow-up form does
    db.session.commit()
    return action


def make_certificate(business, expires: date, attended: date | None = None) -> TrainingAttendance:
    course = db.session.scalar(sa.select(TrainingCourse).limit(1))
    if course is None:
        course = TrainingCourse(title="Knife sales", provider="TS")
        db.session.add(course)
        db.session.flush()
    start = attended or days_ago(10)
    session = TrainingSession(course_id=course.id, starts_at=datetime(start.year, start.month, start.day, 10,
                                                                       tzinfo=UTC), venue="Town Hall")
    db.session.add(session)
    db.session.flush()
    attendance = TrainingAttendance(session_id=session.id, business_id=business.id,
                                    premises_id=business.premises[0].id, person_name="Owner", status="attended",
                                    passed=True, certificate_expires=expires)
    db.session.add(attendance)
    db.session.commit()
    return attendance


def kinds(score) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in score.factors:
        out[f.kind] = out.get(f.kind, 0) + f.points
    return out


@pytest.fixture
def shop(app):
    business = create_business(legal_name="Blade Corner Ltd", trading_name="Blade Corner", postcode="E8 2AA")
    sign_rra(business)
    make_certificate(business, expires=TODAY + timedelta(days=200))
    return business


def test_clean_business_scores_good_with_training_credit(shop):
    score = scoring.rescore_business(shop.id)
    assert score.total == 0
    assert score.band == scoring.GOOD
    assert kinds(score) == {"training_completed": -5}


def test_underage_sale_full_weight_then_reduced_after_12_months(shop):
    recent = make_purchase(shop, days_ago(30))
    older = make_purchase(shop, days_ago(500))
    make_purchase(shop, days_ago(800))  # older than 24 months: does not count
    score = scoring.rescore_business(shop.id)
    sales = {f.record: f.points for f in score.factors if f.kind == "underage_sale"}
    assert sales == {f"test_purchase:{recent.id}": 20, f"test_purchase:{older.id}": 10}


def test_online_seller_failures_count_and_a_courier_only_failure_never_does(shop):
    """Brief 1.3: the courier's failure (OWA 2019 s.39/s.42) is the courier's, not the seller's."""
    store = create_store(shop)
    seller = make_purchase(shop, days_ago(20), "FAIL_DELIVERED_NO_AGE_CHECK", store=store, checkout=True)
    courier = make_purchase(shop, days_ago(25), "FAIL_LEFT_UNATTENDED", store=store, courier=True)
    score = scoring.rescore_business(shop.id)
    by_record = {f.record: (f.kind, f.points) for f in score.factors}
    assert by_record[f"test_purchase:{seller.id}"] == ("online_seller_failure", 20)
    assert f"test_purchase:{courier.id}" not in by_record
    factor = next(f for f in score.factors if f.kind == "online_seller_failure")
    assert factor.online_store_id == store.id


@pytest.mark.parametrize("stage, days, counted", [
    ("undecided", 30, False),  # no decision yet, inside the six-month time limit (brief 5.3)
    ("undecided", 200, True),  # the time limit has passed with no decision: the sale stands
    ("warning", 30, True),
    ("convicted", 30, True),
    ("acquitted", 30, False),  # not guilty (e.g. due diligence): never held against the business
    ("court-outcome-not-recorded", 300, False),  # an older prosecution whose end nobody recorded
    ("no-further-action", 30, True),
])
def test_only_sales_that_count_against_the_business_score(shop, stage, days, counted):
    """Brief 5.3 and issue 8: scoring counts a sale unless acquitted, or undecided inside the time limit."""
    sale = make_purchase(shop, days_ago(days), enforcement=stage)
    score = scoring.rescore_business(shop.id)
    assert (f"test_purchase:{sale.id}" in {f.record for f in score.factors}) is counted


def test_challenge25_failure_is_kept_apart_and_lower(shop):
    c25 = make_purchase(shop, days_ago(10), kind="challenge25")
    score = scoring.rescore_business(shop.id)
    assert kinds(score)["challenge25_failure"] == 5
    assert "underage_sale" not in kinds(score)
    assert [f.record for f in score.factors if f.kind == "challenge25_failure"] == [f"test_purchase:{c25.id}"]


def test_failed_retest_refusals_lapsed_training_rra_and_listings(app):
    business = create_business(legal_name="Risky Ltd", trading_name="Risky", postcode="N1 1AA", borough="islington")
    first = make_purchase(business, days_ago(100))
    retest = make_purchase(business, days_ago(40))
    make_action(first, "retest", "completed", retest=retest)
    declined = make_refusal(business, days_ago(60), "declined")
    make_refusal(business, days_ago(50), "no-show")
    make_certificate(business, expires=days_ago(5), attended=days_ago(400))  # lapsed
    signature = sign_rra(business, status="withdrawn")
    store = create_store(business, url="https://risky.example/")
    db.session.add(StoreMonitor(online_store_id=store.id))
    none_listing = Listing(online_store_id=store.id, url="https://risky.example/a", kind="product", title="Machete",
                           bladed=True, age_check="none", prohibited=[])
    weak_listing = Listing(online_store_id=store.id, url="https://risky.example/b", kind="product", title="Chef",
                           bladed=True, age_check="weak", prohibited=[])
    prohibited = Listing(online_store_id=store.id, url="https://risky.example/c", kind="product",
                         title="Zombie knife", bladed=True, age_check="strong", prohibited=["zombie knife"])
    db.session.add_all([none_listing, weak_listing, prohibited])
    db.session.commit()
    score = scoring.rescore_business(business.id)
    records = {(f.kind, f.record) for f in score.factors}
    assert ("failed_retest", f"test_purchase:{retest.id}") in records
    assert ("training_declined", f"training_refusal:{declined.id}") in records
    assert "training_no_show" in kinds(score)
    assert kinds(score)["training_lapsed"] == 5
    assert ("rra_withdrawn", f"signature:{signature.id}") in records
    assert ("listing_no_age_check", f"listing:{none_listing.id}") in records
    assert ("listing_weak_age_check", f"listing:{weak_listing.id}") in records
    assert ("prohibited_item", f"listing:{prohibited.id}") in records
    assert score.total == sum(f.points for f in score.factors)
    assert score.band == scoring.SERIOUS


def test_never_signed_and_missing_training_count_per_shop(app):
    business = create_business(legal_name="New Shop Ltd", trading_name="New Shop")
    score = scoring.rescore_business(business.id)
    assert kinds(score) == {"rra_never": 5, "training_missing": 5}
    missing = next(f for f in score.factors if f.kind == "training_missing")
    assert missing.premises_id == business.premises[0].id
    assert score.band == scoring.GOOD  # total 10, worst 5


def test_passes_since_the_last_failure_reduce_the_score(shop):
    make_purchase(shop, days_ago(300))
    before = make_purchase(shop, days_ago(350), "PASS_REFUSED")  # before the failure: no credit
    after = [make_purchase(shop, days_ago(d), "PASS_REFUSED") for d in (200, 100)]
    score = scoring.rescore_business(shop.id)
    credited = {f.record for f in score.factors if f.kind == "pass_since_failure"}
    assert credited == {f"test_purchase:{p.id}" for p in after}
    assert f"test_purchase:{before.id}" not in credited
    assert score.total == 20 - 2 * 5 - 5  # the sale, two passes, current training


def test_band_uses_the_worst_single_factor_not_only_the_total(app):
    rules = scoring.Rules(1, dict(scoring.DEFAULT_RULES))
    assert scoring.band_for(10, 10, rules) == scoring.GOOD
    # The same total of 15 is "good" when spread out, but not when one factor alone is 15.
    assert scoring.band_for(15, 5, rules) == scoring.GOOD
    assert scoring.band_for(15, 15, rules) == scoring.IMPROVEMENT
    assert scoring.band_for(30, 30, rules) == scoring.SERIOUS
    assert scoring.band_for(41, 10, rules) == scoring.SERIOUS


def test_one_recent_sale_caps_the_band_below_good(shop):
    make_purchase(shop, days_ago(10))
    score = scoring.rescore_business(shop.id)
    assert score.total == 15  # 20 for the sale, -5 for current training
    assert score.worst_kind == "underage_sale" and score.worst_points == 20
    assert score.band == scoring.IMPROVEMENT


def count_scores(business) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ComplianceScore)
                             .where(ComplianceScore.business_id == business.id))


def test_history_is_kept_and_unchanged_scores_add_no_row(shop):
    scoring.rescore_business(shop.id)
    before = count_scores(shop)
    scoring.rescore_business(shop.id)
    scoring.rescore_all()
    assert count_scores(shop) == before
    make_purchase(shop, days_ago(5))  # the commit hook rescores this business
    rows = db.session.scalars(sa.select(ComplianceScore).where(ComplianceScore.business_id == shop.id)
                              .order_by(ComplianceScore.id)).all()
    assert len(rows) == before + 1
    assert [r.current for r in rows[-2:]] == [False, True]
    assert rows[-2].total == 0 and rows[-1].total == 15
    # The old score's factors are still there.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScoreFactor)
                             .where(ScoreFactor.score_id == rows[-2].id)) == 1


def test_a_new_test_purchase_rescores_its_business_on_commit(shop):
    scoring.rescore_business(shop.id)
    tp = make_purchase(shop, days_ago(3))
    current = scoring.current_score(shop.id)
    assert f"test_purchase:{tp.id}" in {f.record for f in scoring.score_factors(current.id)}


def test_a_save_in_a_web_request_is_answered_before_its_rescore_which_follows_once_the_response_is_sent(
        app, users, shop):
    """Issue 15 part 6 (a test purchase's POST < 80 ms): the officer's save is answered first; the rescore (a chain's
    reads every shop) runs when the server has sent the response, and the score shows the change right after."""
    from flask.testing import FlaskClient

    from retail import training as tr

    scoring.rescore_business(shop.id)
    invitation = tr.create_invitation(shop, {"premises_id": shop.premises[0].id, "session_id": None,
                                             "visited_on": today_london() - timedelta(days=2),
                                             "visit_officer": "Olu Officer"})
    db.session.commit()
    before = scoring.current_score(shop.id).id
    client = FlaskClient(app, app.response_class, use_cookies=True)  # not read through: like a server mid-send
    login_as(client, users[Role.OFFICER])
    response = client.post(f"/training/invitations/{invitation.id}/response", data={
        "response": "declined", "on": (today_london() - timedelta(days=1)).isoformat(), "reason": "Too busy",
        "session_id": "None", "version": str(invitation.version)})
    assert response.status_code == 302
    db.session.expire_all()
    assert scoring.current_score(shop.id).id == before  # answered without waiting for the rescore
    response.close()  # the server has sent it
    db.session.expire_all()
    current = scoring.current_score(shop.id)
    assert current.id != before and "training_declined" in {f.kind for f in scoring.score_factors(current.id)}


def test_with_the_rescore_after_response_turned_off_a_save_waits_for_its_rescore(app, users, shop):
    from flask.testing import FlaskClient

    from retail import training as tr

    scoring.rescore_business(shop.id)
    invitation = tr.create_invitation(shop, {"premises_id": shop.premises[0].id, "session_id": None,
                                             "visited_on": today_london() - timedelta(days=2),
                                             "visit_officer": "Olu Officer"})
    db.session.commit()
    before = scoring.current_score(shop.id).id
    client = FlaskClient(app, app.response_class, use_cookies=True)
    login_as(client, users[Role.OFFICER])
    app.config["RESCORE_AFTER_RESPONSE"] = False
    try:
        response = client.post(f"/training/invitations/{invitation.id}/response", data={
            "response": "declined", "on": (today_london() - timedelta(days=1)).isoformat(), "reason": "Too busy",
            "session_id": "None", "version": str(invitation.version)})
    finally:
        app.config["RESCORE_AFTER_RESPONSE"] = True
    assert response.status_code == 302
    db.session.expire_all()
    assert scoring.current_score(shop.id).id != before


def test_rules_are_versioned_and_scores_record_their_version(app, shop, users):
    make_purchase(shop, days_ago(10))
    first = scoring.rescore_business(shop.id)
    v1 = scoring.current_score(shop.id)
    assert v1.rules_version == 1 and first.total == 15
    values = dict(scoring.DEFAULT_RULES, underage_sale=30)
    scoring.save_rules(values, "supervisor@test.example", "Tougher on recent sales")
    db.session.commit()
    scoring.rescore_business(shop.id)
    v2 = scoring.current_score(shop.id)
    assert v2.rules_version == 2 and v2.total == 25
    assert db.session.get(ComplianceScore, v1.id).rules_version == 1  # the old score is untouched
    assert [r.version for r in scoring.rules_history()] == [2, 1]


def test_rules_page_only_deciders_can_edit(app, client, users):
    login_as(client, users[Role.OFFICER])
    assert client.get("/compliance/rules").status_code == 200
    assert client.post("/compliance/rules/edit", data={}).status_code == 403
    client.post("/logout")
    login_as(client, users[Role.SUPERVISOR])
    form = {spec.key: str(spec.default) for spec in scoring.RULE_SPECS}
    form.update(rules_version="1", training_declined="15", note="Refusals matter more")
    scoring.current_rules()
    db.session.commit()
    response = client.post("/compliance/rules/edit", data=form)
    assert response.status_code == 302
    latest = db.session.scalar(sa.select(ScoringRules).order_by(ScoringRules.version.desc()).limit(1))
    assert latest.version == 2 and latest.values["training_declined"] == 15 and latest.created_by == users[
        Role.SUPERVISOR].email
    # Bad input is refused with a message, no version is added.
    form.update(rules_version="2", good_max_total="999")
    assert client.post("/compliance/rules/edit", data=form).status_code == 422
    assert db.session.scalar(sa.select(sa.func.max(ScoringRules.version))) == 2


def test_a_new_rules_version_is_applied_by_the_scheduler_not_in_the_request(app, client, users, shop):
    """Issue 15 part 4: long web actions run in the scheduler process; saving rules used to recompute every score
    in the web worker. The page asks for the recompute; the scheduler's every-minute job does it, once."""
    from retail.scrapers.scheduler import FREQUENT_JOBS

    assert scoring.run_requested_rescore in FREQUENT_JOBS
    make_refusal(shop, days_ago(30))
    before = scoring.rescore_business(shop.id).total
    login_as(client, users[Role.SUPERVISOR])
    form = {spec.key: str(spec.default) for spec in scoring.RULE_SPECS}
    form.update(rules_version=str(scoring.current_rules().version), training_declined="40")
    db.session.commit()
    response = client.post("/compliance/rules/edit", data=form, follow_redirects=True)
    assert "recomputed with it within a minute" in response.get_data(as_text=True)
    assert "being recomputed with the newest rules" in response.get_data(as_text=True)
    assert scoring.current_score(shop.id).total == before  # not in the request
    summary = scoring.run_requested_rescore()
    assert summary is not None and summary["businesses"] >= 1
    db.session.expire_all()
    assert scoring.current_score(shop.id).total == before + 30
    assert scoring.run_requested_rescore() is None  # done once
    assert "being recomputed" not in client.get("/compliance/rules").get_data(as_text=True)


def test_full_rescore_scores_every_business(app, shop):
    other = create_business(legal_name="Other Ltd", trading_name="Other", postcode="SE1 1AA", borough="southwark")
    make_purchase(other, days_ago(10))
    with scoring.scoring_paused():
        pass
    summary = scoring.rescore_all()
    assert summary["businesses"] == 2
    assert {s.business_id for s in db.session.scalars(sa.select(ComplianceScore)
                                                      .where(ComplianceScore.current.is_(True)))} == {shop.id,
                                                                                                      other.id}


def test_full_rescore_in_batches_of_business_ids_scores_as_one_pass_does(app, shop):
    """Issue 15 part 4 (full rescore in < 150 MB): the register is taken a range of ids at a time; a business's score
    reads only its own records, so every score matches the one an unbatched computation gives."""
    from tests.querycount import counted_statements

    others = []
    for n in range(5):
        business = create_business(legal_name=f"Batch {n} Ltd", trading_name=f"Batch {n}", postcode="SE1 1AA",
                                   borough="southwark")
        if n % 2:
            make_purchase(business, days_ago(10 + n))
        if n == 3:
            make_refusal(business, days_ago(5))
            make_certificate(business, expires=days_ago(30))
        others.append(business)
    expected = {b: (s.total, s.band, sorted(f.record for f in s.factors))
                for b, s in scoring.compute_scores(None).items()}
    with counted_statements() as statements:
        summary = scoring.rescore_all(batch=2)
    assert summary["businesses"] == 6
    batches = [s for s in statements if "WHERE business.id BETWEEN" in s and "EXISTS" not in s]
    assert len(batches) == 3  # six businesses, two at a time
    stored = {row.business_id: (row.total, row.band, sorted(f.record for f in scoring.score_factors(row.id)))
              for row in db.session.scalars(sa.select(ComplianceScore).where(ComplianceScore.current.is_(True)))}
    assert stored == expected
    assert any(total > 0 for total, _, _ in stored.values())


def test_score_command_json_shape(app, runner, shop):
    tp = make_purchase(shop, days_ago(10))
    result = runner.invoke(args=["score", "--business-id", str(shop.id), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data[0]["business_id"] == shop.id and data[0]["name"] == "Blade Corner"
    assert data[0]["score"] == 15 and data[0]["band"] == "improvement-needed" and data[0]["candidate"] is False
    assert {"kind", "points", "date", "record"} <= set(data[0]["factors"][0])
    assert {"kind": "underage_sale", "points": 20, "date": tp.purchase_date.isoformat(),
            "record": f"test_purchase:{tp.id}"}.items() <= next(
        f for f in data[0]["factors"] if f["kind"] == "underage_sale").items()
    everyone = runner.invoke(args=["score", "--json"])
    assert everyone.exit_code == 0
    assert [row["business_id"] for row in json.loads(everyone.output)] == [shop.id]


def test_business_page_shows_score_with_links_for_staff_only(app, client, users, shop):
    tp = make_purchase(shop, days_ago(10))
    login_as(client, users[Role.OFFICER])
    html = client.get(f"/businesses/{shop.id}").get_data(as_text=True)
    assert "Compliance score" in html and "Improvement needed" in html
    assert f"/purchases/{tp.id}" in html
    html = client.get(f"/compliance/businesses/{shop.id}").get_data(as_text=True)
    assert f"test_purchase:{tp.id}" in html
