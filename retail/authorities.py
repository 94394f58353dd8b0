"""The organisations in one deployment: the 33 London authorities and the partners, and the current user's own."""
import sqlalchemy as sa

from .boroughs import LONDON_BOROUGHS
from .extensions import db
from .models.authority import Authority, AuthorityKind

PARTNERS = (
    ("met", "Metropolitan Police Service (Operation Sceptre)", AuthorityKind.POLICE),
    ("city-hall", "Mayor of London (City Hall)", AuthorityKind.CITY_HALL),
    ("lts", "London Trading Standards", AuthorityKind.PARTNERSHIP),
)


def _borough_authority_name(name: str) -> str:
    if name == "City of London":
        return "City of London Corporation"
    if name in ("Kensington and Chelsea", "Kingston upon Thames"):
        return f"Royal Borough of {name}"
    if name == "Westminster":
        return "Westminster City Council"
    return f"London Borough of {name}"


def standard_authorities() -> list[dict]:
    rows = [{"code": b.code, "name": _borough_authority_name(b.name), "kind": AuthorityKind.LONDON_BOROUGH,
             "borough": b.code} for b in LONDON_BOROUGHS]
    rows += [{"code": code, "name": name, "kind": kind, "borough": None} for code, name, kind in PARTNERS]
    return rows


def ensure_authorities() -> int:
    """Add any of the London authorities and partners that are missing. Returns how many were added."""
    existing = set(db.session.scalars(sa.select(Authority.code)))
    added = 0
    for row in standard_authorities():
        if row["code"] not in existing:
            db.session.add(Authority(**row))
            added += 1
    db.session.flush()
    return added


def authority_by_code(code: str) -> Authority | None:
    return db.session.scalar(sa.select(Authority).where(Authority.code == code.strip().lower()))


def authority_choices(include_partners: bool = True) -> list[tuple[int, str]]:
    query = sa.select(Authority.id, Authority.name).where(Authority.active.is_(True)).order_by(Authority.name)
    if not include_partners:
        query = query.where(Authority.kind.in_([AuthorityKind.LONDON_BOROUGH, AuthorityKind.OTHER_AUTHORITY]))
    return [(i, n) for i, n in db.session.execute(query)]


def authorities_for_boroughs(boroughs) -> list[Authority]:
    codes = [b for b in boroughs or [] if b]
    if not codes:
        return []
    return list(db.session.scalars(sa.select(Authority).where(Authority.borough.in_(codes))))
