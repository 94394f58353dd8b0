"""The rules layer, case by case, each with the section of shared/mission/domain-brief.md it follows."""
from datetime import date
from decimal import Decimal

import pytest

from retail.rules import enforcement as E
from retail.rules import items as I
from retail.rules import online as O
from retail.rules import prohibited as P
from retail.rules import volunteers as V

DAY = date(2026, 3, 10)


def item(category, length=None, **kw):
    return I.Item(category=category, blade_length_cm=None if length is None else Decimal(str(length)), **kw)


ALL_ZOMBIE = frozenset({"plain-edge", "sharp-point", "serrated"})

ITEM_CASES = [
    # (brief section, item, day, expected kind, expected words in the reason)
    ("1.1 exclusion: folding pocket-knife <= 7.62 cm", item("folding", 7, locking=False), DAY, I.Kind.EXEMPT,
     "excluded from s.141A"),
    ("1.1 exclusion: exactly 3 in", item("folding", "7.62", locking=False), DAY, I.Kind.EXEMPT, "3 in or less"),
    ("1.1: folding knife over 3 in", item("folding", "7.7", locking=False), DAY, I.Kind.ARTICLE, "over 3 in"),
    ("1.1: a lock knife is never a pocket-knife", item("folding", 6, locking=True), DAY, I.Kind.ARTICLE, "locking"),
    ("1.1: multi-tool judged as a folding knife", item("multi-tool", 5, locking=False), DAY, I.Kind.EXEMPT, "3 in"),
    ("1.1: folding knife, length unknown", item("folding", locking=False), DAY, I.Kind.NOT_RECORDED,
     "cutting edge length"),
    ("1.1 exclusion: cartridge razor < 2 mm exposed", item("cartridge-razor", cartridge_exposure_under_2mm=True), DAY,
     I.Kind.EXEMPT, "less than 2 mm"),
    ("1.1: cartridge with 2 mm or more exposed", item("cartridge-razor", cartridge_exposure_under_2mm=False), DAY,
     I.Kind.ARTICLE, "2 mm or more"),
    ("1.1: loose razor blades", item("razors"), DAY, I.Kind.ARTICLE, "s.141A"),
    ("1.1: kitchen knife read broadly", item("kitchen", 20), DAY, I.Kind.ARTICLE, "s.141A"),
    ("1.1: axe", item("axe"), DAY, I.Kind.ARTICLE, "s.141A"),
    ("1.4 / Schedule 1(r): 69 cm katana", item("curved-sword", 69), DAY, I.Kind.PROHIBITED, "50 cm or more"),
    ("1.4 / Schedule 1(r): exactly 50 cm", item("curved-sword", 50), DAY, I.Kind.PROHIBITED, "50 cm or more"),
    ("Schedule 1(r): curved blade under 50 cm", item("curved-sword", "49.9"), DAY, I.Kind.ARTICLE, "under 50 cm"),
    ("Schedule 1(r) exception: hand-forged", item("curved-sword", 69, traditional_or_antique=True), DAY,
     I.Kind.ARTICLE, "exception"),
    ("1.4: zombie definition, 25 cm blade with serration", item("fixed-blade", 25, features=ALL_ZOMBIE), DAY,
     I.Kind.PROHIBITED, "zombie-style"),
    ("1.4: zombie definition, machete with spikes", item("machete", 40,
                                                        features=frozenset({"plain-edge", "sharp-point", "spikes"})),
     DAY, I.Kind.PROHIBITED, "2024 definition"),
    ("1.4: blade of exactly 8 in is not over 8 in", item("fixed-blade", "20.32", features=ALL_ZOMBIE), DAY,
     I.Kind.ARTICLE, "s.141A"),
    ("1.4: long blade, no extra feature", item("machete", 45, features=frozenset({"plain-edge", "sharp-point"})), DAY,
     I.Kind.ARTICLE, "s.141A"),
    ("1.4: serrated but no sharp point", item("fixed-blade", 25, features=frozenset({"plain-edge", "serrated"})), DAY,
     I.Kind.ARTICLE, "s.141A"),
    ("1.4: in force 24 Sep 2024, not before", item("fixed-blade", 25, features=ALL_ZOMBIE), date(2024, 9, 23),
     I.Kind.ARTICLE, "s.141A"),
    ("1.4: flick knife by type", item("flick-knife"), DAY, I.Kind.PROHIBITED, "may not be sold to anyone"),
    ("1.4: butterfly knife", item("butterfly-knife"), DAY, I.Kind.PROHIBITED, "butterfly"),
    ("1.4: gravity knife", item("gravity-knife"), DAY, I.Kind.PROHIBITED, "gravity"),
    ("1.4 (unverified, issue 8 followed): ninja sword from 1 Aug 2025", item("ninja-sword"), DAY, I.Kind.PROHIBITED,
     "ninja"),
    ("1.4: ninja sword before the ban", item("ninja-sword"), date(2025, 7, 31), I.Kind.ARTICLE, "not yet in force"),
    ("older record: type not recorded", item(""), DAY, I.Kind.NOT_RECORDED, "not recorded"),
]


@pytest.mark.parametrize("section,subject,day,kind,words", ITEM_CASES, ids=[c[0] for c in ITEM_CASES])
def test_item_verdicts(section, subject, day, kind, words):
    verdict = I.judge(subject, day)
    assert verdict.kind == kind, verdict.reason
    assert words in verdict.reason
    assert verdict.counts_as_offence_if_sold == (kind in (I.Kind.ARTICLE, I.Kind.PROHIBITED))


@pytest.mark.parametrize("subject,field,words", [
    (item("folding", -1, locking=False), "blade_length_cm", "more than 0"),
    (item("kitchen", 900), "blade_length_cm", "longer than any sword"),
    (item("folding", locking=False), "blade_length_cm", "7.62 cm"),
    (item("folding", 7), "locking", "locks"),
    (item("cartridge-razor"), "cartridge_exposure_under_2mm", "2 mm"),
    (item("curved-sword"), "blade_length_cm", "50 cm"),
])
def test_bad_or_missing_measurements_name_their_field(subject, field, words):
    """Brief 1.1 and 1.4: the verdict needs the measurement, so the form asks for it next to the field."""
    errors = dict(I.check_measurements(subject))
    assert field in errors and words in errors[field]


def test_one_catalogue_feeds_the_monitor():
    """Brief 1.4 and 6: the monitor's prohibited-item flags come from the same catalogue as the in-store record."""
    from retail.scrapers import rules as monitor_rules

    labels = {rule.label for rule in monitor_rules.PROHIBITED_RULES}
    assert labels == {w.name for w in P.CATALOGUE if w.listing_patterns}
    assert {"ninja sword", "flick knife", "butterfly knife", "zombie knife"} <= labels


# --- volunteers: brief 2.2 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dob,on,age_range,problem", [
    (date(2008, 5, 10), DAY, (13, 16), "at least 18 months under 18"),  # 17 years 10 months: refused
    (date(2009, 8, 1), DAY, (13, 16), "at least 18 months under 18"),  # 16 years 7 months: inside 16, but no gap
    (date(2009, 9, 11), DAY, (13, 16), None),  # 16 years 5 months 27 days: allowed
    (date(2013, 6, 1), DAY, (13, 16), "aged 13 to 16"),  # 12 years: below this authority's range
    (date(2013, 6, 1), DAY, (12, 16), None),  # the same child where the authority uses 12-year-olds
    (date(2007, 1, 1), DAY, (13, 16), "needs someone under 18"),
])
def test_volunteer_age_on_the_attempt_date(dob, on, age_range, problem):
    """Brief 2.2: typically 13-16, and a gap of at least 18 months below 18, judged on the day of the attempt."""
    found = V.age_problem(dob, on, age_range)
    assert (found is None) == (problem is None)
    if problem:
        assert problem in found


def test_age_is_judged_on_the_attempt_date_not_today():
    """Brief 2.2: a volunteer who is 15 today may have been fine last year and too old next year."""
    dob = date(2010, 1, 1)
    assert V.age_problem(dob, date(2026, 6, 30)) is None
    assert "18 months" in V.age_problem(dob, date(2026, 7, 1))


def test_safeguards_are_required():
    """Brief 2.2/2.3: risk assessment, an officer present, a photo on the day."""
    missing = dict(V.missing_safeguards(V.Safeguards()))
    assert set(missing) == {"risk_assessment_ref", "officer_present", "photo_on_day_ref"}
    assert V.missing_safeguards(V.Safeguards("RA-1", True, "PH-9")) == []


@pytest.mark.parametrize("areas,shop,hit", [
    ("E8, Dalston", dict(postcode="E8 3AB"), "E8"),
    ("E1", dict(postcode="E14 9XX"), None),  # a district is matched whole, not as a prefix
    ("N16 7AA", dict(postcode="n167aa"), "N16 7AA"),
    ("hackney", dict(borough="hackney"), "hackney"),
    ("Mare Street\nschool: Clapton", dict(address="12 Mare Street, London"), "Mare Street"),
    ("Mare", dict(address="12 Mareview Road"), None),
    ("", dict(postcode="E8 3AB"), None),
])
def test_areas_to_avoid(areas, shop, hit):
    """Brief 2.2: not used near home or school, or where they could be recognised."""
    assert V.area_to_avoid_hit(areas, **shop) == hit


# --- online, per party: brief 1.2, 1.3, 2.4 -------------------------------------------------------------------------

NO_CHECKS = dict(checkout_av_run=False, checkout_id_upload=False, dob_entered="not-asked", dispatched=True,
                 parcel_marked=False)
ALL_CHECKS = dict(checkout_av_run=True, checkout_id_upload=False, dob_entered="false", dispatched=True,
                  parcel_marked=True, age_verified_service=True)

ONLINE_CASES = [
    ("1.2: courier refuses at the door but the seller failed A and B -> seller fails, courier passes",
     dict(NO_CHECKS, age_verified_service=True, delivered=True, delivered_to="not-delivered"),
     O.Result.FAILED, O.Result.PASSED, {"A", "B"}),
    ("1.2 + 1.3: every condition met, courier hands over without ID -> only the courier fails (s.39)",
     dict(ALL_CHECKS, delivered=True, delivered_to="home", delivery_id_asked=False),
     O.Result.DEFENCE_MET, O.Result.FAILED, set()),
    ("1.2 D: delivered to a locker", dict(ALL_CHECKS, delivered=True, delivered_to="locker"),
     O.Result.FAILED, O.Result.FAILED, {"D"}),
    ("2.4: true DOB entered and still sold (Wowcher)", dict(ALL_CHECKS, dob_entered="true", delivered=True,
                                                           delivered_to="not-delivered"),
     O.Result.FAILED, O.Result.PASSED, {"A"}),
    ("1.2: refused at checkout", dict(order_cancelled=True, checkout_av_run=True), O.Result.PASSED,
     O.Result.NOT_APPLICABLE, set()),
    ("1.2: facts missing -> not judged", dict(checkout_av_run=True, dispatched=True, parcel_marked=True,
                                             delivered=True, delivered_to="not-delivered"),
     O.Result.NOT_RECORDED, O.Result.PASSED, set()),
    ("1.3 s.42: overseas seller, courier leaves it unattended",
     dict(NO_CHECKS, age_verified_service=False, delivered=True, delivered_to="home", left_unattended=True,
          overseas_seller=True), O.Result.FAILED, O.Result.FAILED, {"A", "B", "C"}),
]


@pytest.mark.parametrize("section,facts,seller,courier,unmet", ONLINE_CASES, ids=[c[0] for c in ONLINE_CASES])
def test_online_outcome_per_party(section, facts, seller, courier, unmet):
    judgment = O.judge(O.Facts(**facts))
    assert judgment.seller.result == seller, judgment.seller.reasons
    assert judgment.courier.result == courier, judgment.courier.reasons
    assert set(judgment.unmet) == unmet


def test_seller_without_avd_to_a_home_also_commits_s38():
    """Brief 1.3: s.38, the seller's own delivery offence."""
    judgment = O.judge(O.Facts(**dict(NO_CHECKS, age_verified_service=False, delivered=True, delivered_to="home",
                                      delivery_id_asked=True)))
    assert "s.38" in judgment.seller.law
    assert judgment.courier.law == "OWA 2019 s.39"


def test_overseas_seller_puts_the_courier_under_s42():
    judgment = O.judge(O.Facts(**dict(NO_CHECKS, overseas_seller=True, delivered=True, delivered_to="home",
                                      delivery_id_asked=False)))
    assert judgment.courier.law.startswith("OWA 2019 s.42")


# --- enforcement: brief 1.1, 2.3, 5.2, 5.3 --------------------------------------------------------------------------

def act(kind, status="completed", court=None):
    return E.Action(kind, status, court)


@pytest.mark.parametrize("actions,stage", [
    ([], E.Stage.UNDECIDED),
    ([act("retest", "pending")], E.Stage.UNDECIDED),
    ([act("advice-letter")], E.Stage.ADVICE),
    ([act("warning-letter"), act("prosecution", "pending")], E.Stage.PROSECUTION_PENDING),
    ([act("prosecution", court="convicted")], E.Stage.CONVICTED),
    ([act("prosecution", court="acquitted")], E.Stage.ACQUITTED),
    ([act("prosecution")], E.Stage.COURT_OUTCOME_NOT_RECORDED),
    ([act("simple-caution", "pending")], E.Stage.UNDECIDED),
    ([act("simple-caution")], E.Stage.CAUTION),
    ([act("none")], E.Stage.NO_FURTHER_ACTION),
    ([act("prosecution", "cancelled"), act("warning-letter")], E.Stage.WARNING),
])
def test_enforcement_stage(actions, stage):
    """Brief 2.3 step 4: advice or warning, retest, caution, prosecution."""
    assert E.stage(actions) == stage


@pytest.mark.parametrize("stage,offence_on,today,counted", [
    (E.Stage.ACQUITTED, date(2025, 1, 1), DAY, False),  # 1.1 s.141A(4): due diligence accepted
    (E.Stage.CONVICTED, date(2025, 1, 1), DAY, True),
    (E.Stage.UNDECIDED, date(2026, 1, 10), DAY, False),  # 5.2: inside the time limit, may yet be prosecuted
    (E.Stage.UNDECIDED, date(2025, 9, 9), DAY, True),  # past the six-month limit: the sale stands
    (E.Stage.UNDECIDED, date(2025, 9, 10), DAY, False),  # the limit's last day is still inside it
    (E.Stage.WARNING, date(2026, 3, 1), DAY, True),
    (E.Stage.PROSECUTION_PENDING, date(2026, 3, 1), DAY, True),
    (E.Stage.NO_FURTHER_ACTION, date(2026, 3, 1), DAY, True),
])
def test_what_counts_against_a_business(stage, offence_on, today, counted):
    """Brief 1.1 (summary only: six-month limit) and 5.2/5.3 (no naming on a case the court threw out)."""
    assert E.counts_against(stage, offence_on, today) == counted
    assert (E.why_not_counted(stage, offence_on, today) is None) == counted


def test_time_limit_is_six_months():
    assert E.time_limit(date(2026, 8, 31)) == date(2027, 2, 28)
