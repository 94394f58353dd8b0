"""Demo organisations: Hackney, Croydon and Westminster Trading Standards, the Met's test-purchase team and City
Hall, each with its own users (and, at the larger scales, every London borough and, for `uk`, authorities outside
London running their own operations), so a new user can sign in as each and see the separation."""
import re

import sqlalchemy as sa

from ..access import Role
from ..authorities import ensure_authorities
from ..extensions import db
from ..models.accounts import User
from ..models.authority import Authority, AuthorityKind
from ..settings import save_settings
from . import DemoContext

# The boroughs whose Trading Standards services have users in the demo (shops are weighted towards them).
DEMO_BOROUGHS = ("hackney", "croydon", "westminster")
POLICE = "met"
CITY_HALL = "city-hall"
PARTNERSHIP = "lts"  # London Trading Standards: sets what is London-wide (the monitor's evidence period)
# The organisations a new user can sign in to, in the order the logins are printed.
DEMO_ORGANISATIONS = DEMO_BOROUGHS + (POLICE, CITY_HALL, PARTNERSHIP)

# (authority code, key, email, name, role). Everyone shares the one demo password.
DEMO_USERS = [
    ("hackney", "admin", "admin@hackney.demo", "Alex Admin", Role.ADMIN),
    ("hackney", "supervisor", "supervisor@hackney.demo", "Sam Supervisor", Role.SUPERVISOR),
    ("hackney", "supervisor2", "supervisor2@hackney.demo", "Pat Principal", Role.SUPERVISOR),
    # The head of service: a third supervisor, who decides appeals the other two were involved in (issue 9).
    ("hackney", "head", "head@hackney.demo", "Hana Head of Service", Role.SUPERVISOR),
    ("hackney", "officer", "officer@hackney.demo", "Olu Officer", Role.OFFICER),
    ("hackney", "officer2", "officer2@hackney.demo", "Jo Officer", Role.OFFICER),
    ("hackney", "retailer", "retailer@hackney.demo", "Rita Retailer", Role.RETAILER),
    ("croydon", "admin", "admin@croydon.demo", "Chris Admin", Role.ADMIN),
    ("croydon", "supervisor", "supervisor@croydon.demo", "Sunita Supervisor", Role.SUPERVISOR),
    ("croydon", "supervisor2", "supervisor2@croydon.demo", "Morgan Principal", Role.SUPERVISOR),
    ("croydon", "head", "head@croydon.demo", "Cal Head of Service", Role.SUPERVISOR),
    ("croydon", "officer", "officer@croydon.demo", "Ade Officer", Role.OFFICER),
    ("croydon", "officer2", "officer2@croydon.demo", "Kit Officer", Role.OFFICER),
    ("croydon", "retailer", "retailer@croydon.demo", "Ravi Retailer", Role.RETAILER),
    ("westminster", "admin", "admin@westminster.demo", "Wendy Admin", Role.ADMIN),
    ("westminster", "supervisor", "supervisor@westminster.demo", "Kim Supervisor", Role.SUPERVISOR),
    ("westminster", "supervisor2", "supervisor2@westminster.demo", "Ray Principal", Role.SUPERVISOR),
    ("westminster", "head", "head@westminster.demo", "Win Head of Service", Role.SUPERVISOR),
    ("westminster", "officer", "officer@westminster.demo", "Nia Officer", Role.OFFICER),
    ("westminster", "officer2", "officer2@westminster.demo", "Tom Officer", Role.OFFICER),
    ("met", "supervisor", "supervisor@met.demo", "DS Morgan Sergeant", Role.SUPERVISOR),
    ("met", "police", "police@met.demo", "PC Dana Police", Role.POLICE),
    ("met", "police2", "police2@met.demo", "PC Lee Constable", Role.POLICE),
    ("city-hall", "city-hall", "city-hall@city-hall.demo", "Casey Hall", Role.CITY_HALL),
    ("lts", "admin", "admin@lts.demo", "Lou London Trading Standards", Role.ADMIN),
]

LETTERHEADS = {
    "hackney": {"letterhead_address": "Trading Standards, Hackney Service Centre, Mare Street, London E8",
                "letterhead_phone": "020 7946 0101", "letterhead_email": "trading.standards@hackney.example",
                "letter_signatory": "Olu Officer, Trading Standards Officer"},
    "croydon": {"letterhead_address": "Trading Standards, Bernard Weatherill House, Croydon CR0",
                "letterhead_phone": "020 7946 0202", "letterhead_email": "trading.standards@croydon.example",
                "letter_signatory": "Ade Officer, Trading Standards Officer"},
    "westminster": {"letterhead_address": "Trading Standards, Westminster City Hall, Victoria Street, London SW1",
                    "letterhead_phone": "020 7946 0303", "letterhead_email": "trading.standards@westminster.example",
                    "letter_signatory": "Nia Officer, Trading Standards Officer"},
    "met": {"letterhead_address": "Operation Sceptre test-purchase team, Metropolitan Police Service, London",
            "letterhead_phone": "020 7946 0404", "letterhead_email": "sceptre.testpurchase@met.example",
            "letter_signatory": "PC Dana Police, Operation Sceptre"},
}


def login_email(code: str, key: str) -> str:
    return next(email for c, k, email, _name, _role in DEMO_USERS if c == code and k == key)


def person_name(code: str, key: str) -> str:
    return next(name for c, k, _email, name, _role in DEMO_USERS if c == code and k == key)


def outside_code(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def prepare_authorities(ctx: DemoContext, outside_names: list[str]) -> None:
    """The London authorities and partners (and, for the `uk` scale, authorities outside London), into ctx."""
    ensure_authorities()
    if outside_names:
        existing = set(db.session.scalars(sa.select(Authority.code)))
        for name in outside_names:
            if outside_code(name) not in existing:
                db.session.add(Authority(code=outside_code(name), name=f"{name} Trading Standards",
                                         kind=AuthorityKind.OTHER_AUTHORITY))
        db.session.flush()
    ctx.authorities = dict(db.session.execute(sa.select(Authority.code, Authority.id)).all())


def authority_ids(ctx: DemoContext) -> dict[str, int]:
    """code -> id (read from the database when a generator runs on its own, as in tests)."""
    if not ctx.authorities:
        ctx.authorities = dict(db.session.execute(sa.select(Authority.code, Authority.id)).all())
    return ctx.authorities


def borough_owners(ctx: DemoContext) -> list[str]:
    """The authorities that run their own operations and training besides the Met: the demo boroughs at small scale;
    at the larger scales every authority whose area has shops (so the records are spread over 33 or more)."""
    if ctx.scale == "small":
        return list(DEMO_BOROUGHS)
    return sorted({p["authority"] for p in ctx.premises if p.get("authority")})


def create_users(ctx: DemoContext) -> None:
    """The demo logins, each in its own organisation; the retailers belong to an independent shop in Hackney and
    one in Croydon (their accounts are managed by that borough)."""
    ids = authority_ids(ctx)
    single_shop: dict[str, list[int]] = {}
    shops_of: dict[int, list[dict]] = {}
    for p in ctx.premises:
        shops_of.setdefault(p["business_id"], []).append(p)
    for business_id, shops in shops_of.items():
        if len(shops) == 1 and shops[0]["business_type"] == "independent" and shops[0]["status"] == "trading":
            single_shop.setdefault(shops[0].get("authority") or shops[0]["borough"], []).append(business_id)
    retailer_business = {code: (single_shop.get(code) or [None])[0] for code in DEMO_BOROUGHS}
    ctx.demo_business_id = retailer_business["hackney"]
    ctx.extra["retailer_businesses"] = retailer_business
    for code, key, email, name, role in DEMO_USERS:
        existing = db.session.scalar(sa.select(User).where(User.email == email))
        if existing:
            ctx.users[f"{code}:{key}"] = existing.id
            continue
        business_id = retailer_business.get(code) if role == Role.RETAILER else None
        if role == Role.RETAILER and business_id is None:
            continue
        user = User(email=email, name=name, role=role, business_id=business_id, authority_id=ids[code])
        user.set_password(ctx.password)
        db.session.add(user)
        db.session.flush()
        ctx.users[f"{code}:{key}"] = user.id
    for code, values in LETTERHEADS.items():
        save_settings(values, authority_id=ids[code])
