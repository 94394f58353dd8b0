"""Demo compliance: score every business (London-wide), then walk naming candidates through each stage of the
workflow. Each case belongs to the borough where the business has its shop, and is run by that borough's officer and
two supervisors."""
from datetime import timedelta

import click
import sqlalchemy as sa

from .. import naming, naming_appeal, scoring
from ..scrapers.targets import refresh_ranking
from ..extensions import db
from ..models.accounts import User
from ..models.compliance import CaseStatus
from ..models.register import Business
from ..scoping import AUTHORITY, Scope, acting_for
from . import DemoContext, generator
from .organisations import DEMO_BOROUGHS, authority_ids, login_email

# The order open stages are filled in when there are fewer candidates than stages: the most telling first.
OPEN_STAGES = [CaseStatus.PUBLISHED, CaseStatus.NOTICE_SENT, CaseStatus.REPRESENTATIONS, CaseStatus.PROPOSED,
               CaseStatus.APPROVED, CaseStatus.DECIDED_PUBLISH, CaseStatus.APPEALED, CaseStatus.CANDIDATE]
# Closed cases can sit in a business's past next to an open one, so they double up when candidates are few.
CLOSED_STAGES = [CaseStatus.REMOVED, CaseStatus.NO_ACTION]


def _statement(business: Business, evidence: dict) -> str:
    sales = evidence["sales"]
    places = sorted({p.name + ", " + p.postcode for p in business.premises}) or [
        s.display_name for s in business.online_stores]
    shops = f" ({'; '.join(places)[:300]})" if places else ""
    first, last = sales[0]["date"], sales[-1]["date"]
    refusals = evidence["refusals"]
    return (f"{business.display_name}{shops} sold knives to test purchasers aged under 18 on {len(sales)} "
            f"occasions between {first:%B %Y} and {last:%B %Y}, and refused the free training offered to it "
            f"{'once' if len(refusals) == 1 else f'{len(refusals)} times'} after the first of those sales.")


def _walk(case, stage: CaseStatus, people: dict, today, business, evidence) -> None:
    officer, sup, sup2 = people["officer"], people["supervisor"], people["supervisor2"]
    if stage == CaseStatus.CANDIDATE:
        return
    naming.propose(case, officer, _statement(business, evidence), "Two sales and a refusal on record")
    if stage == CaseStatus.PROPOSED:
        return
    if stage == CaseStatus.NO_ACTION:
        naming.reject_proposal(case, sup, "The business has since changed owner; a fresh advice visit instead.")
        return
    naming.approve_notice(case, sup, "Evidence checked against the test purchase records")
    if stage == CaseStatus.APPROVED:
        return
    sent = {CaseStatus.NOTICE_SENT: today - timedelta(days=3), CaseStatus.REPRESENTATIONS: today - timedelta(days=9),
            CaseStatus.REMOVED: today - timedelta(days=440),
            # published after the appeal window (21 days from the decision) closed with no appeal
            CaseStatus.PUBLISHED: today - timedelta(days=70)}.get(stage, today - timedelta(days=40))
    naming.send_notice(case, officer, on=sent)
    if stage == CaseStatus.NOTICE_SENT:
        return
    if stage == CaseStatus.REPRESENTATIONS:
        naming.submit_representations(case, officer, "Letter from the owner (received by post): the sales were "
                                      "made by a temporary member of staff who has left. We ask you not to publish.",
                                      today=today)
        return
    decided = case.representations_due + timedelta(days=1)
    naming.decide(case, sup2, True, "No representations received in time; the facts are established by the records.",
                  today=decided)
    if stage == CaseStatus.DECIDED_PUBLISH:  # its appeal window is still open
        return
    if stage == CaseStatus.APPEALED:
        naming_appeal.lodge_appeal(case, officer, "Letter from the owner (received by post): the second sale was "
                                   "to a young-looking adult, not a child; we ask for the decision to be "
                                   "reconsidered.", today=decided + timedelta(days=5))
        return
    naming.publish(case, sup2, on=case.appeal_due + timedelta(days=1))
    if stage == CaseStatus.PUBLISHED:
        naming.submit_reply(case, None, "We have since trained every member of staff and operate Challenge 25 on "
                                        "all bladed items. We regret these sales.")
        naming.check_reply(case, sup, True, "Nothing offensive")
    if stage == CaseStatus.REMOVED:
        naming.expire_published(today)


def _more_candidates(ctx: DemoContext, today) -> int:
    """Small scale: businesses with two underage sales and no refusal since the first are offered training at the
    follow-up visit and decline it, so the candidates list and every workflow stage have someone in them."""
    from ..models.training import TrainingRefusal

    rules = scoring.current_rules()
    since = scoring.months_before(today, rules["candidate_window_months"])
    sales = db.session.execute(scoring.underage_sales_query(None, since)).all()
    first: dict[int, object] = {}
    count: dict[int, int] = {}
    for business_id, _id, on in sales:
        if on <= today:
            count[business_id] = count.get(business_id, 0) + 1
            first[business_id] = min(first.get(business_id, on), on)
    pending = scoring.enforcement_pending_ids()
    refused = {bid for bid, on in db.session.execute(sa.select(TrainingRefusal.business_id, TrainingRefusal.refused_on))
               if bid in first and on > first[bid]}
    premises = {}
    for p in ctx.premises:
        premises.setdefault(p["business_id"], p)
    added = 0
    for business_id, n in sorted(count.items()):
        if n < rules["candidate_min_sales"] or business_id in pending or business_id in refused:
            continue
        on = min(first[business_id] + timedelta(days=ctx.rng.randint(14, 45)), today - timedelta(days=1))
        shop = premises.get(business_id) or {}
        home = shop.get("authority")
        db.session.add(TrainingRefusal(business_id=business_id, premises_id=shop.get("id"), refused_on=on,
                                       kind="declined",
                                       recorded_by=login_email(home, "officer") if home in DEMO_BOROUGHS else "demo",
                                       reason="Declined the free training offered at the follow-up advice visit."))
        added += 1
    db.session.flush()
    return added


@generator
def generate_compliance(ctx: DemoContext) -> None:
    today = ctx.today
    rules = scoring.current_rules()
    added = _more_candidates(ctx, today) if ctx.scale == "small" else 0
    with ctx.progress(length=1, label="compliance scores") as bar:
        scores = scoring.compute_scores(None, today, rules=rules)
        scoring.store_scores(scores, rules.version, today)
        refresh_ranking(db.session)  # the monitor's online targets, ranked by what the scores read
        bar.update(1)
    db.session.flush()
    candidates = sorted((s.business_id for s in scores.values() if s.candidate),
                        key=lambda bid: (-scores[bid].total, bid))
    teams = {}
    for code in DEMO_BOROUGHS:
        people = {key: db.session.get(User, ctx.users[f"{code}:{key}"]) if f"{code}:{key}" in ctx.users else None
                  for key in ("officer", "supervisor", "supervisor2")}
        if all(people.values()):
            teams[code] = people
    owners = _case_owners(ctx, candidates, teams)
    n_candidates = len(candidates)
    candidates = [bid for bid in candidates if bid in owners]
    made = 0
    if teams:
        demo = ctx.demo_business_id
        if demo in candidates:
            candidates.remove(demo)
            made += _case(demo, CaseStatus.NOTICE_SENT, owners[demo], teams, today)
        # Past cases first (a business can have an expired entry and a new case), then one open stage each.
        spare = candidates[len(OPEN_STAGES):]
        if len(spare) < len(CLOSED_STAGES):
            spare = list(reversed(candidates))
        for business_id, stage in zip(spare, CLOSED_STAGES, strict=False):
            made += _case(business_id, stage, owners[business_id], teams, today)
        for business_id, stage in zip(candidates, OPEN_STAGES, strict=False):
            made += _case(business_id, stage, owners[business_id], teams, today)
    db.session.flush()
    # The cases changed nothing the scores read; do not rescore again when the seed commits.
    db.session.info.pop("rescore_businesses", None)
    db.session.info.pop("rescore_stores", None)
    click.echo(f"  scored {len(scores)} businesses; {n_candidates} naming candidates"
               f"{f' ({added} after refusals added)' if added else ''}; {made} naming cases")


def _case_owners(ctx: DemoContext, candidates: list[int], teams: dict) -> dict[int, str]:
    """Which demo borough runs each candidate's case: the borough of its shop; an online seller's goes to the borough
    that registered it (its council reference). Candidates with shops only elsewhere have no demo team."""
    shops: dict[int, list[str]] = {}
    for p in ctx.premises:
        shops.setdefault(p["business_id"], []).append(p.get("authority") or p["borough"])
    by_id = {v: k for k, v in authority_ids(ctx).items()}
    refs = dict(db.session.execute(sa.select(Business.id, Business.ref_authority_id)
                                   .where(Business.id.in_(candidates))).all()) if candidates else {}
    owners = {}
    for business_id in candidates:
        homes = [code for code in shops.get(business_id, []) if code in teams]
        if not shops.get(business_id) and by_id.get(refs.get(business_id)) in teams:
            homes = [by_id[refs[business_id]]]
        if homes:
            owners[business_id] = homes[0]
    return owners


def _case(business_id: int, stage: CaseStatus, owner: str, teams: dict, today) -> int:
    """Open and walk one case as the owning borough (so the case is that borough's, as if its officer opened it)."""
    people = teams[owner]
    scope = Scope(AUTHORITY, people["officer"].authority_id, None, people["officer"].id)
    with acting_for(scope):
        return _walk_case(business_id, stage, people, today)


def _walk_case(business_id: int, stage: CaseStatus, people: dict, today) -> int:
    business = db.session.get(Business, business_id)
    evidence = scoring.candidate_evidence(business_id, today)
    if not evidence["meets_rule"] or naming.open_case_for(business_id):
        return 0
    case = naming.open_case(business, people["officer"], "Found on the candidates list", today=today)
    _walk(case, stage, people, today, business, evidence)
    db.session.flush()
    return 1
