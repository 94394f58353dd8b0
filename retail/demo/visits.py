"""Demo advice visits: a share of the trading shops visited once or twice in the last 18 months, some with advice."""
from datetime import timedelta

from ..models.accounts import User
from ..models.visits import CHECKS, AdviceVisit
from ..timeutil import add_months, utcnow
from . import DemoContext, bulk_insert, generator, next_id
from .organisations import authority_ids

SHARE = {"small": 0.5, "london": 0.25, "uk": 0.02}
ADVICE = {
    "display_check": "Move the knives from the open shelf into the locked cabinet or behind the counter.",
    "challenge25_policy_check": "Write down your Challenge 25 policy and make sure every member of staff has read it.",
    "signage_check": "Put the Challenge 25 posters we left by the till and at the knife display.",
    "refusals_log_check": "Keep the refusals book by the till and write down every refusal, with the date and time.",
    "till_prompts_check": "Ask your till supplier to add an age prompt for knives and bladed articles.",
    "training_check": "Book your staff onto our free training session (invitation left with you).",
}
PEOPLE = ["the owner", "the manager on duty", "the shop supervisor", "a member of staff"]


@generator
def generate_visits(ctx: DemoContext) -> None:
    rng, today, now = ctx.rng, ctx.today, utcnow()
    authorities = authority_ids(ctx)
    officers = {}
    from ..extensions import db
    import sqlalchemy as sa

    for user_id, name, authority_id in db.session.execute(
            sa.select(User.id, User.name, User.authority_id).where(User.role.in_(("officer", "police")))
            .order_by(User.role, User.id)).all():
        officers.setdefault(authority_id, (user_id, name))
    met = authorities.get("met")
    # Every demo retailer login has a visit to read in its portal.
    portal_businesses = set(db.session.scalars(sa.select(User.business_id).where(User.role == "retailer")))
    rows, visit_id = [], next_id(AdviceVisit.__table__)
    for p in ctx.premises:
        if p["status"] != "trading" or not p.get("authority"):
            continue
        if rng.random() > SHARE[ctx.scale] and p["business_id"] not in portal_businesses:
            continue
        authority_id = authorities.get(p["authority"])
        if authority_id is None:
            continue
        if met in officers and len(rows) % 7 == 6:
            authority_id = met  # the Met's knife crime team visits some shops itself (police engagement visits)
        officer_id, officer_name = officers.get(authority_id, (None, "Trading Standards officer"))
        for _ in range(rng.choice((1, 1, 2))):
            visited = today - timedelta(days=rng.randint(10, 540))
            checks = {name: rng.choices(("in-place", "advice", "not-checked"), (6, 3, 1))[0] for name in CHECKS}
            advised = [name for name, result in checks.items() if result == "advice"]
            rows.append(dict(
                id=visit_id, business_id=p["business_id"], premises_id=p["id"], authority_id=authority_id,
                visited_on=visited, officer_id=officer_id, officer_name=officer_name,
                person_seen=rng.choice(PEOPLE).capitalize(), person_role="", **checks,
                staff_trained_on=visited - timedelta(days=rng.randint(30, 400)) if rng.random() < 0.6 else None,
                rra=rng.choice(("already-signed", "signed", "offered", "declined", "not-offered")),
                advice_given=" ".join(ADVICE[name] for name in advised),
                photo_refs=f"IMG_{rng.randint(1000, 9999)}" if rng.random() < 0.5 else "",
                next_visit_due=add_months(visited, 3 if advised else 12),
                officer_notes="", version=1, created_at=now, updated_at=now))
            visit_id += 1
    bulk_insert(AdviceVisit.__table__, rows)
    _target_lists(ctx)


def _target_lists(ctx: DemoContext, per_operation: int = 8) -> None:
    """The operations running today get a target list: the top of the programme in their first borough, as a team
    would pick it (issue 11 part 2)."""
    import sqlalchemy as sa

    from .. import programme
    from ..extensions import db
    from ..models.purchases import Operation, OperationTarget

    running = db.session.scalars(sa.select(Operation).where(Operation.starts_on <= ctx.today,
                                                            Operation.ends_on >= ctx.today)
                                 .order_by(Operation.id).limit(6)).all()
    for operation in running:
        if not operation.boroughs:
            continue
        for row in programme.ranked_shops(operation.boroughs[0], ctx.today, limit=per_operation):
            db.session.add(OperationTarget(operation_id=operation.id, premises_id=row.premises.id, points=row.points,
                                           reasons=list(row.reasons)))
