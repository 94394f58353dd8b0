"""Demo training: the accredited trader course, sessions past and future (each run by the borough where it is held),
invitations (visit then letter, to a session of the shop's own borough where it runs any), replies, attendance with
exam results and certificates, and refusals (some after underage sales)."""
import bisect
from datetime import UTC, date, datetime, time, timedelta

import click

from ..models.training import (
    TrainingAttendance,
    TrainingCourse,
    TrainingInvitation,
    TrainingRefusal,
    TrainingSession,
)
from ..timeutil import LONDON, utcnow
from ..timeutil import add_months
from ..training import default_reply_by
from . import DemoContext, bulk_insert, generator, next_id
from .organisations import DEMO_BOROUGHS, authority_ids

INVITATIONS = {"small": 50, "london": 2500, "uk": 43_000}
GIVEN = ["Amir", "Grace", "Tomasz", "Priya", "Kwame", "Sofia", "Daniel", "Fatima", "Liam", "Mei", "Oluwaseun", "Hannah",
         "Yusuf", "Chloe", "Ravi", "Zara", "Marek", "Aisha", "Connor", "Leila", "Emre", "Niamh", "Bilal", "Ama"]
SURNAMES = ["Patel", "Khan", "Smith", "Ahmed", "Jones", "Singh", "Brown", "Ali", "Taylor", "Shah", "Wilson", "Hussain",
            "Okafor", "Nowak", "Kaya", "Murphy", "Evans", "Begum", "Chen", "Costa", "Mensah", "Demir", "Rahman"]
ROLES = ["Owner", "Manager", "Sales assistant", "Sales assistant", "Supervisor", "Cashier", "Delivery driver"]
OFFICERS = ["Olu Officer", "Jo Officer", "J. Okafor", "S. Patel", "M. Evans", "R. Chen"]
TRAINERS = ["J. Okafor", "S. Patel", "M. Evans", "R. Chen", "PC A. Wright"]
# (venue, the borough whose Trading Standards service runs sessions there)
VENUES = [("Croydon Clocktower, Katharine Street", "croydon"), ("Hackney Town Hall, Mare Street", "hackney"),
          ("Westminster Council House, Marylebone Road", "westminster"),
          ("CLR James Library, Dalston Square", "hackney"), ("Thornton Heath Library, Brigstock Road", "croydon"),
          ("Church Street Library, Lisson Grove", "westminster"), ("Brixton Library, Brixton Oval", "lambeth"),
          ("Lewisham Civic Suite, Catford Road", "lewisham"), ("Tottenham Green Centre", "haringey"),
          ("Ealing Town Hall, New Broadway", "ealing"), ("Wembley Civic Centre", "brent"),
          ("Stratford Library, The Grove", "newham"), ("Southwark Council, Tooley Street", "southwark")]
DECLINE_REASONS = ["Too busy at the moment", "Staff already trained by head office", "Cannot spare staff that day",
                   "Not interested", "We do not sell many knives", "Owner away; will ask next year"]


def _utc(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def _working_day(day: date) -> date:
    """Councils run sessions on working days: not at weekends, nor in the Christmas-to-New-Year closure."""
    while day.weekday() >= 5 or (day.month == 12 and day.day >= 24) or (day.month == 1 and day.day == 1):
        day += timedelta(days=1)
    return day


def _person(rng) -> str:
    return f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}"


@generator
def generate_training(ctx: DemoContext) -> None:
    rng, today, now = ctx.rng, ctx.today, utcnow()
    n_invitations = INVITATIONS[ctx.scale]
    authorities = authority_ids(ctx)
    # At small scale only the demo boroughs run sessions; shops elsewhere are invited to theirs.
    venues = [v for v in VENUES if ctx.scale != "small" or v[1] in DEMO_BOROUGHS]
    trading = [p for p in ctx.premises if p["status"] == "trading"]
    if not trading:
        return

    # --- courses --------------------------------------------------------------------------------------------
    course_id = next_id(TrainingCourse.__table__)
    main_course = dict(id=course_id, title="Knife retailer accredited trader training",
                       provider="Trading Standards (Croydon model)", duration_minutes=150, has_exam=True,
                       pass_mark=70, validity_months=12, active=True,
                       description="The law on selling knives to under-18s; assess, challenge, check; acceptable ID; "
                                   "secure display; when to call the police. Exam at the end.",
                       created_at=now, updated_at=now, version=1)
    driver_course = dict(id=course_id + 1, title="Age-verified delivery briefing for drivers",
                         provider="Trading Standards and Metropolitan Police", duration_minutes=60, has_exam=False,
                         pass_mark=None, validity_months=12, active=True,
                         description="Checking age at the door for bladed articles.", created_at=now, updated_at=now,
                         version=1)
    bulk_insert(TrainingCourse.__table__, [main_course, driver_course])

    # --- sessions: spread over two years and the next two months; enough places for the expected bookings ------
    expected_seats = int(n_invitations * 1.4)
    n_sessions = max(20, expected_seats // 14)
    start, span = today - timedelta(days=730), 790
    step = span / n_sessions  # evenly spread with some jitter, so every visit has a session within weeks
    session_days = [(start + timedelta(days=int(i * step + rng.uniform(0, step * 0.8))), None)
                    for i in range(n_sessions)]
    # Fixed sessions in each demo borough so every scale has certificates about to expire and dates to offer.
    session_days += [(today + timedelta(days=offset), borough) for offset in (-350, -342, 9, 23, 44)
                     for borough in DEMO_BOROUGHS]
    session_days = [(_working_day(day), borough) for day, borough in session_days]
    session_days.sort(key=lambda d: (d[0], d[1] or ""))
    session_id = next_id(TrainingSession.__table__)
    sessions = []
    for day, fixed in session_days:
        evening = rng.random() < 0.4
        capacity = rng.choice([12, 15, 20, 20, 25])
        is_driver = rng.random() < 0.05 and fixed is None
        venue, runner = rng.choice([v for v in VENUES if v[1] == fixed] if fixed else venues)
        sessions.append(dict(
            id=session_id, course_id=driver_course["id"] if is_driver else course_id,
            starts_at=_utc(day, time(18, 30) if evening else time(10, 0)), venue=venue,
            authority_id=authorities[runner], trainer=rng.choice(TRAINERS), capacity=capacity, cancelled=False,
            notes="", created_at=now, updated_at=now, version=1, _day=day, _left=capacity, _validity=12,
            _exam=not is_driver, _runner=runner))
        session_id += 1
    # Each borough's sessions by date (None: all of them), so a shop is invited to its own borough's first.
    calendars: dict[str | None, tuple[list[date], list[dict]]] = {None: ([s["_day"] for s in sessions], sessions)}
    for s in sessions:
        calendars.setdefault(s["_runner"], ([], []))
        calendars[s["_runner"]][0].append(s["_day"])
        calendars[s["_runner"]][1].append(s)

    def find_session(after: date, before: date, places: int, premises: dict | None = None):
        owner = (premises.get("authority") or premises.get("borough")) if premises else None
        for calendar in ([owner, None] if owner in calendars else [None]):
            dates, listed = calendars[calendar]
            index = bisect.bisect_left(dates, after)
            while index < len(listed) and dates[index] <= before:
                s = listed[index]
                if s["_left"] >= places:
                    return s
                index += 1
        return None

    invitation_rows, attendance_rows, refusal_rows = [], [], []
    invitation_id = next_id(TrainingInvitation.__table__)
    attendance_id = next_id(TrainingAttendance.__table__)
    refusal_id = next_id(TrainingRefusal.__table__)

    def add_invitation(premises: dict, visited: date, response: str | None = None, places: int | None = None,
                       session: dict | None = None, letter: bool | None = None, attend: str | None = None,
                       reason: str | None = None):
        """Add an invitation and what followed; `response`/`attend` force the story, else it is drawn."""
        nonlocal invitation_id, attendance_id, refusal_id
        places = places or rng.choice([1, 1, 1, 2, 2, 3])
        if session is None:
            session = find_session(visited + timedelta(days=10), visited + timedelta(days=80), places, premises)
        deadline = default_reply_by(visited, session["_day"] if session else None)
        if letter is None:
            letter = not (visited > today - timedelta(days=10) and rng.random() < 0.5)
        letter_on = min(today, visited + timedelta(days=rng.randint(1, 6))) if letter else None
        if response is None:
            if deadline >= today:
                response = rng.choices(["pending", "accepted", "declined"], [70, 22, 8])[0]
            else:
                response = rng.choices(["accepted", "declined", "no-response"], [62, 13, 25])[0]
        if response == "accepted" and session is None:
            response = "no-response" if deadline < today else "pending"
        responded_on = None
        if response in ("accepted", "declined"):
            responded_on = min(today, deadline, visited + timedelta(days=rng.randint(1, 20)))
        elif response == "no-response":
            responded_on = deadline
        row = dict(id=invitation_id, business_id=premises["business_id"], premises_id=premises["id"],
                   session_id=session["id"] if session else None, visited_on=visited,
                   visit_officer=rng.choice(OFFICERS), letter_sent_on=letter_on,
                   letter_sent_by=rng.choice(OFFICERS) if letter_on else "", deadline=deadline, places=places,
                   response=response, responded_on=responded_on,
                   responded_by={"accepted": "retailer: phone call", "declined": "retailer: phone call",
                                 "no-response": "deadline passed"}.get(response, ""),
                   decline_reason=(reason or rng.choice(DECLINE_REASONS)) if response == "declined" else "",
                   notes="", created_at=now, updated_at=now, version=1)
        invitation_rows.append(row)
        if response == "declined":
            refusal_rows.append(dict(id=refusal_id, business_id=row["business_id"], premises_id=row["premises_id"],
                                     refused_on=responded_on, kind="declined", invitation_id=invitation_id,
                                     attendance_id=None, reason=row["decline_reason"], recorded_by="demo",
                                     recorded_at=now))
            refusal_id += 1
        elif response == "accepted":
            session["_left"] -= places
            held = session["_day"]
            no_show_recorded = False
            for n in range(places):
                status, score, passed, number, expires = "booked", None, None, None, None
                if held <= today:
                    outcome = attend or ("no-show" if rng.random() < 0.1 else "attended")
                    if outcome == "no-show":
                        status = "no-show"
                        if not no_show_recorded:
                            refusal_rows.append(dict(
                                id=refusal_id, business_id=row["business_id"], premises_id=row["premises_id"],
                                refused_on=held, kind="no-show", invitation_id=invitation_id, attendance_id=None,
                                reason="Did not attend after accepting", recorded_by="demo", recorded_at=now))
                            refusal_id += 1
                            no_show_recorded = True
                    else:
                        status = "attended"
                        if session["_exam"]:
                            score = max(30, min(100, int(rng.gauss(81, 11))))
                            passed = score >= 70 if outcome != "pass" else True
                            if outcome == "pass":
                                score = max(score, 75)
                        else:
                            passed = True
                        if passed:
                            number = f"KRT-{held.year}-{attendance_id:06d}"
                            expires = add_months(held, session["_validity"])
                attendance_rows.append(dict(
                    id=attendance_id, session_id=session["id"], invitation_id=invitation_id,
                    business_id=row["business_id"], premises_id=row["premises_id"], person_name=_person(rng),
                    person_role=ROLES[0] if n == 0 and places > 1 else rng.choice(ROLES), status=status,
                    exam_score=score, passed=passed, certificate_number=number, certificate_expires=expires,
                    created_at=now, updated_at=now, version=1))
                attendance_id += 1
        invitation_id += 1
        return row

    # The demo retailer's story: a certificate about to expire, an older pass still valid, and a pending
    # invitation to a coming session they can accept online.
    demo_premises = [p for p in trading if p["business_id"] == ctx.demo_business_id]
    if demo_premises:
        shop = demo_premises[0]
        home = shop.get("authority") or shop["borough"]

        def fixed_session(on: date) -> dict:
            # The fixed sessions were moved to the next working day: the first on or after `on`.
            return next((s for s in sessions if s["_day"] >= on and s["_runner"] == home),
                        next(s for s in sessions if s["_day"] >= on))

        expiring = fixed_session(today - timedelta(days=350))
        add_invitation(shop, expiring["_day"] - timedelta(days=30), response="accepted", places=1, session=expiring,
                       letter=True, attend="pass")
        recent = find_session(today - timedelta(days=200), today - timedelta(days=60), 1, shop)
        if recent is not None:
            add_invitation(shop, recent["_day"] - timedelta(days=25), response="accepted", places=1, session=recent,
                           letter=True, attend="pass")
        coming = fixed_session(today + timedelta(days=23))
        add_invitation(shop, today - timedelta(days=4), response="pending", places=2, session=coming, letter=True)

    # Refusals after underage sales: businesses with two or more failures in 24 months decline (or miss) training
    # after the first, so the naming-candidate rule has cases to find.
    purchases = ctx.extra.get("purchases") or []
    first_fail: dict[int, date] = {}
    fail_count: dict[int, int] = {}
    for business_id, when, failed in purchases:
        if failed and when >= today - timedelta(days=730):
            fail_count[business_id] = fail_count.get(business_id, 0) + 1
            first_fail[business_id] = min(first_fail.get(business_id, when), when)
    premises_by_business: dict[int, list[dict]] = {}
    for p in trading:
        premises_by_business.setdefault(p["business_id"], []).append(p)
    # Online-only sellers have no shop: they are invited as a business (their delivery staff).
    repeaters = sorted(b for b, n in fail_count.items() if n >= 2 and b != ctx.demo_business_id)
    if not repeaters:  # no test purchase data: choose some independents to be reluctant
        independents = sorted({p["business_id"] for p in trading if p["business_type"] == "independent"
                               and p["business_id"] != ctx.demo_business_id})
        repeaters = rng.sample(independents, k=min(len(independents), max(4, n_invitations // 40)))
        for b in repeaters:
            first_fail[b] = today - timedelta(days=rng.randint(120, 600))
    reluctant = []
    for business_id in repeaters:
        if rng.random() > 0.65 and len(repeaters) > 4:
            continue
        shop = rng.choice(premises_by_business.get(business_id) or [{"id": None, "business_id": business_id}])
        visit = min(today - timedelta(days=30), first_fail[business_id] + timedelta(days=rng.randint(7, 60)))
        if visit <= first_fail[business_id]:
            continue
        add_invitation(shop, visit, response="declined")
        if rng.random() < 0.4:
            later = visit + timedelta(days=rng.randint(60, 150))
            if later < today - timedelta(days=100):
                session = find_session(later + timedelta(days=10), later + timedelta(days=80), 1, shop)
                if session is not None and session["_day"] < today:
                    add_invitation(shop, later, response="accepted", places=1, session=session, attend="no-show")
        reluctant.append(business_id)
    ctx.extra["training_refusal_businesses"] = reluctant

    # This week's visits: their confirming letters are waiting to be printed.
    for _ in range(max(5, min(n_invitations // 25, 150))):
        add_invitation(rng.choice(trading), today - timedelta(days=rng.randint(0, 6)), letter=False)

    # Everyone else: invitations spread over two years, most recent ones still awaiting a reply.
    remaining = max(0, n_invitations - len(invitation_rows))
    with ctx.progress(length=remaining, label="Training invitations") as bar:
        for _ in range(remaining):
            shop = rng.choice(trading)
            visited = today - timedelta(days=int(rng.triangular(1, 700, 60)))
            add_invitation(shop, visited)
            bar.update(1)

    click.echo(f"Writing {len(sessions)} training sessions, {len(invitation_rows)} invitations, "
               f"{len(attendance_rows)} attendances, {len(refusal_rows)} refusals")
    bulk_insert(TrainingSession.__table__, [{k: v for k, v in s.items() if not k.startswith("_")} for s in sessions])
    bulk_insert(TrainingInvitation.__table__, invitation_rows)
    bulk_insert(TrainingAttendance.__table__, attendance_rows)
    bulk_insert(TrainingRefusal.__table__, refusal_rows)
