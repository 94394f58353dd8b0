"""Demo compliance: score every business, then walk naming candidates through each stage of the workflow."""
from datetime import timedelta

import click
import sqlalchemy as sa

from .. import naming, scoring
from ..extensions import db
from ..models.accounts import User
from ..models.compliance import CaseStatus
from ..models.register import Business
from . import DemoContext, generator

# The order open stages are filled in when there are fewer candidates than stages: the most telling first.
OPEN_STAGES = [CaseStatus.PUBLISHED, CaseStatus.NOTICE_SENT, CaseStatus.REPRESENTATIONS, CaseStatus.PROPOSED,
               CaseStatus.APPROVED, CaseStatus.DECIDED_PUBLISH, CaseStatus.CANDIDATE]
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
            CaseStatus.REMOVED: today - timedelta(days=440)}.get(stage, today - timedelta(days=40))
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
    if stage == CaseStatus.DECIDED_PUBLISH:
        return
    naming.publish(case, sup2, on=decided + timedelta(days=2))
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
        premises.setdefault(p["business_id"], p["id"])
    added = 0
    for business_id, n in sorted(count.items()):
        if n < rules["candidate_min_sales"] or business_id in pending or business_id in refused:
            continue
        on = min(first[business_id] + timedelta(days=ctx.rng.randint(14, 45)), today - timedelta(days=1))
        db.session.add(TrainingRefusal(business_id=business_id, premises_id=premises.get(business_id), refused_on=on,
                                       kind="declined", recorded_by="officer@demo.test",
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
        bar.update(1)
    db.session.flush()
    users = {key: db.session.get(User, uid) for key, uid in ctx.users.items()}
    people = {"officer": users.get("officer"), "supervisor": users.get("supervisor"),
              "supervisor2": users.get("supervisor2") or users.get("admin")}
    candidates = sorted((s.business_id for s in scores.values() if s.candidate),
                        key=lambda bid: (-scores[bid].total, bid))
    made = 0
    if all(people.values()):
        demo = ctx.demo_business_id
        if demo in candidates:
            candidates.remove(demo)
            made += _case(demo, CaseStatus.NOTICE_SENT, people, today)
        # Past cases first (a business can have an expired entry and a new case), then one open stage each.
        spare = candidates[len(OPEN_STAGES):] or list(reversed(candidates))
        for business_id, stage in zip(spare, CLOSED_STAGES, strict=False):
            made += _case(business_id, stage, people, today)
        for business_id, stage in zip(candidates, OPEN_STAGES, strict=False):
            made += _case(business_id, stage, people, today)
    db.session.flush()
    # The cases changed nothing the scores read; do not rescore again when the seed commits.
    db.session.info.pop("rescore_businesses", None)
    db.session.info.pop("rescore_stores", None)
    click.echo(f"  scored {len(scores)} businesses; {len(candidates)} naming candidates"
               f"{f' ({added} after refusals added)' if added else ''}; {made} naming cases")


def _case(business_id: int, stage: CaseStatus, people: dict, today) -> int:
    business = db.session.get(Business, business_id)
    evidence = scoring.candidate_evidence(business_id, today)
    if not evidence["meets_rule"] or naming.open_case_for(business_id):
        return 0
    case = naming.open_case(business, people["officer"], "Found on the candidates list", today=today)
    _walk(case, stage, people, today, business, evidence)
    db.session.flush()
    return 1
