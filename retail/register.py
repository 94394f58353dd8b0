"""Rules for the retailer register: searching, creating and changing businesses, shops, online stores and RRAs."""
import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from .audit import record_event
from .extensions import db
from .models.authority import Authority
from .records import apply_fields
from .models.register import (address_key, Business, BusinessType, OnlineStore, Premises, PremisesSells, RraSignature,
                              RraStatus, RraStatusEvent, name_key)
from .validation import (InvalidValue, looks_like_postcode_prefix, normalise_url, postcode_key, prefix_upper_bound,
                         url_domain)


class StaleRecord(Exception):
    """The record changed since the form was opened; the second save is refused, not merged."""


class DuplicateRecord(InvalidValue):
    def __init__(self, message: str, existing_id: int | None = None, field: str | None = None):
        super().__init__(message)
        self.existing_id = existing_id
        self.field = field


def check_version(record, submitted_version) -> None:
    if submitted_version is not None and str(submitted_version) != str(record.version):
        raise StaleRecord(
            f"This record was changed by someone else since you opened it (you had version {submitted_version}, "
            f"it is now version {record.version}). Reload it to see their changes, then make yours again."
        )


# --- search -----------------------------------------------------------------------------------------------------

SORTS = {
    "name": lambda: (Business.trading_name_key.asc(), Business.id.asc()),
    "-name": lambda: (Business.trading_name_key.desc(), Business.id.desc()),
    "newest": lambda: (Business.id.desc(),),
    "updated": lambda: (Business.updated_at.desc(), Business.id.desc()),
}


@dataclass
class RegisterFilters:
    q: str = ""
    borough: str = ""
    business_type: str = ""
    rra: str = ""
    sells: str = ""
    sort: str = "name"


def _prefix(column, text: str):
    """An index-friendly prefix match: column >= 'abc' AND column < 'abd' (works on SQLite and PostgreSQL)."""
    upper = prefix_upper_bound(text)
    return column >= text if upper is None else sa.and_(column >= text, column < upper)


def matching_business_ids(q: str):
    """Business ids whose legal/trading name, shop name or shop postcode starts with `q`, as a UNION of index scans."""
    key = name_key(q)
    selects = [
        sa.select(Business.id).where(_prefix(Business.legal_name_key, key)),
        sa.select(Business.id).where(_prefix(Business.trading_name_key, key)),
        sa.select(Premises.business_id).where(_prefix(Premises.name_key, key)),
    ]
    if looks_like_postcode_prefix(q):
        selects.append(sa.select(Premises.business_id).where(_prefix(Premises.postcode_key, postcode_key(q))))
    return sa.union(*selects)


def _rra_ids(status: str):
    return sa.select(RraSignature.business_id).where(RraSignature.status == status)


def register_query(filters: RegisterFilters):
    query = sa.select(Business)
    if filters.q.strip():
        query = query.where(Business.id.in_(matching_business_ids(filters.q.strip())))
    if filters.borough:
        query = query.where(Business.id.in_(sa.select(Premises.business_id).where(Premises.borough == filters.borough)))
    if filters.business_type:
        query = query.where(Business.business_type == filters.business_type)
    if filters.sells:
        query = query.where(Business.id.in_(
            sa.select(Premises.business_id).join(PremisesSells, PremisesSells.premises_id == Premises.id)
            .where(PremisesSells.category == filters.sells)))
    if filters.rra == "active":
        query = query.where(Business.id.in_(_rra_ids("active")))
    elif filters.rra == "suspended":
        query = query.where(Business.id.in_(_rra_ids("suspended")), Business.id.not_in(_rra_ids("active")))
    elif filters.rra == "withdrawn":
        query = query.where(Business.id.in_(_rra_ids("withdrawn")),
                            Business.id.not_in(_rra_ids("active")), Business.id.not_in(_rra_ids("suspended")))
    elif filters.rra == "never":
        query = query.where(Business.id.not_in(sa.select(RraSignature.business_id)))
    order = SORTS.get(filters.sort, SORTS["name"])()
    return query.order_by(*order)


def shops_for_page(business_ids: list[int], filters: RegisterFilters, per_business: int = 3):
    """The first few shops of each business on a register page (matching ones first) and each one's shop count.

    A chain can have thousands of shops, so this uses a window function instead of loading them all.
    """
    if not business_ids:
        return {}, {}
    preference = []
    if filters.borough:
        preference.append(sa.case((Premises.borough == filters.borough, 0), else_=1))
    if filters.q and looks_like_postcode_prefix(filters.q):
        preference.append(sa.case((_prefix(Premises.postcode_key, postcode_key(filters.q)), 0), else_=1))
    rank = sa.func.row_number().over(partition_by=Premises.business_id,
                                     order_by=[*preference, Premises.name_key, Premises.id]).label("rank")
    ranked = sa.select(Premises.id, rank).where(Premises.business_id.in_(business_ids)).subquery()
    rows = db.session.scalars(
        sa.select(Premises).join(ranked, ranked.c.id == Premises.id).where(ranked.c.rank <= per_business)
        .order_by(Premises.business_id, ranked.c.rank)
    ).all()
    shops: dict[int, list[Premises]] = {bid: [] for bid in business_ids}
    for premises in rows:
        shops[premises.business_id].append(premises)
    counts = dict(db.session.execute(
        sa.select(Premises.business_id, sa.func.count()).where(Premises.business_id.in_(business_ids))
        .group_by(Premises.business_id)).all())
    return shops, counts


def business_premises_page(business: Business, limit: int = 50) -> tuple[list[Premises], int]:
    """The shops listed on a business page: all of an independent's, the first `limit` of a chain's."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Premises)
                              .where(Premises.business_id == business.id))
    shops = db.session.scalars(sa.select(Premises).where(Premises.business_id == business.id)
                               .order_by(Premises.name_key, Premises.id).limit(limit)).all()
    return list(shops), total


def rra_summary(business_ids: list[int]) -> dict[int, str]:
    """For each business: 'active', 'suspended', 'withdrawn' or 'never' (one query for the whole page)."""
    rank = {"active": 3, "suspended": 2, "withdrawn": 1}
    result = {bid: "never" for bid in business_ids}
    if not business_ids:
        return result
    rows = db.session.execute(
        sa.select(RraSignature.business_id, RraSignature.status).where(RraSignature.business_id.in_(business_ids))
    )
    for business_id, status in rows:
        current = result[business_id]
        if current == "never" or rank[status.value] > rank[current]:
            result[business_id] = status.value
    return result


def business_rra_status(business: Business) -> str:
    return rra_summary([business.id])[business.id]


# --- businesses and shops ---------------------------------------------------------------------------------------

BUSINESS_FIELDS = ("legal_name", "trading_name", "other_trading_names", "company_number", "business_type",
                   "head_office_address", "head_office_postcode", "contact_name", "contact_email", "contact_phone",
                   "primary_authority", "external_ref", "notes")
PREMISES_FIELDS = ("name", "address_line1", "address_line2", "town", "postcode", "borough", "local_authority",
                   "display", "status")


# Optional text columns stored as NULL when left blank (unique or typed columns must not hold "").
NULLABLE_FIELDS = frozenset({"company_number", "external_ref", "head_office_postcode", "display"})


def _apply(record, data: dict, fields) -> None:
    apply_fields(record, data, fields, NULLABLE_FIELDS)


def find_duplicate_business(legal_name: str, trading_name: str, postcode: str | None,
                            exclude_id: int | None = None) -> Business | None:
    """Same name (legal or trading) with a shop or head office at the same postcode."""
    if not postcode:
        return None
    keys = {name_key(legal_name), name_key(trading_name)} - {""}
    pkey = postcode_key(postcode)
    query = (
        sa.select(Business)
        .outerjoin(Premises, Premises.business_id == Business.id)
        .where(sa.or_(Business.legal_name_key.in_(keys), Business.trading_name_key.in_(keys)))
        .where(sa.or_(Premises.postcode_key == pkey,
                      sa.func.replace(Business.head_office_postcode, " ", "") == pkey))
    )
    if exclude_id:
        query = query.where(Business.id != exclude_id)
    return db.session.scalars(query.limit(1)).first()


def _set_keys(business: Business) -> None:
    if not (business.trading_name or "").strip():
        business.trading_name = business.legal_name
    business.legal_name_key = name_key(business.legal_name)
    business.trading_name_key = name_key(business.trading_name)
    _link_primary_authority(business)


def _link_primary_authority(business: Business) -> None:
    """A Primary Authority named as an authority in the register (by name or code, any case) is linked to it, so
    officers are prompted to notify it before formal action; any other partner stays as recorded."""
    text = name_key(business.primary_authority)
    if not text:
        business.primary_authority_id = None
        return
    known = db.session.info.get("authority_names")
    if known is None:
        known = db.session.info["authority_names"] = {
            key: authority_id for authority_id, name, code in db.session.execute(
                sa.select(Authority.id, Authority.name, Authority.code))
            for key in (name_key(name), name_key(code))}
    business.primary_authority_id = known.get(text)


def council_ref_matches(column_condition):
    """Businesses whose council reference matches, among the references of the signed-in user's authority (a
    council reference is the council's own: Hackney's TS-1 and Croydon's TS-1 are different businesses)."""
    from .scoping import current_authority_id

    authority_id = current_authority_id()
    if authority_id is None:
        return column_condition
    return sa.and_(column_condition, Business.ref_authority_id == authority_id)


def _check_external_ref(business: Business, exclude_id: int | None) -> None:
    from .scoping import current_authority_id

    ref = business.external_ref
    if not ref:
        business.ref_authority_id = None
        return
    if business.ref_authority_id is None or sa.inspect(business).attrs.external_ref.history.added:
        business.ref_authority_id = current_authority_id() or business.ref_authority_id
    query = sa.select(Business.id).where(Business.external_ref == ref,
                                         Business.ref_authority_id.is_(business.ref_authority_id)
                                         if business.ref_authority_id is None
                                         else Business.ref_authority_id == business.ref_authority_id)
    if exclude_id:
        query = query.where(Business.id != exclude_id)
    existing = db.session.scalar(query)
    if existing:
        raise DuplicateRecord(f"Another business already has the council reference '{ref}'.", existing, "external_ref")


def create_business(data: dict, first_premises: dict | None = None) -> Business:
    """Create a business (and optionally its first shop). Raises DuplicateRecord/InvalidValue; adds nothing then."""
    business = Business()
    _apply(business, data, BUSINESS_FIELDS)
    _set_keys(business)
    _check_external_ref(business, None)
    postcode = (first_premises or {}).get("postcode") or business.head_office_postcode
    duplicate = find_duplicate_business(business.legal_name, business.trading_name, postcode)
    if duplicate:
        raise DuplicateRecord(
            f"'{duplicate.display_name}' is already registered at {postcode}. Open that record instead of "
            "adding it again.", duplicate.id, "legal_name")
    db.session.add(business)
    if first_premises:
        add_premises(business, first_premises)
    db.session.flush()
    return business


def update_business(business: Business, data: dict, version=None) -> Business:
    check_version(business, version)
    _apply(business, data, BUSINESS_FIELDS)
    _set_keys(business)
    _check_external_ref(business, business.id)
    postcodes = [p.postcode for p in business.premises] or [business.head_office_postcode]
    for postcode in postcodes:
        duplicate = find_duplicate_business(business.legal_name, business.trading_name, postcode, business.id)
        if duplicate:
            raise DuplicateRecord(f"'{duplicate.display_name}' is already registered at {postcode}.",
                                  duplicate.id, "legal_name")
    db.session.flush()
    return business


def _premises_keys(premises: Premises) -> None:
    premises.name_key = name_key(premises.name)
    premises.postcode_key = postcode_key(premises.postcode)
    if premises.borough != "outside":
        premises.local_authority = ""
    elif not premises.local_authority:
        raise DuplicateRecord("Name the local authority for a shop outside London.", field="local_authority")


def add_premises(business: Business, data: dict) -> Premises:
    premises = Premises()
    _apply(premises, data, PREMISES_FIELDS)
    premises.sells = data.get("sells", [])
    _premises_keys(premises)
    if business.id:
        same_place = db.session.execute(
            sa.select(Premises.id, Premises.address_line1).where(
                Premises.business_id == business.id, Premises.name_key == premises.name_key,
                Premises.postcode_key == premises.postcode_key)).all()
        # Two shops of one business may share a postcode: only the same address too is the same shop.
        duplicate = next((pid for pid, line in same_place
                          if address_key(line) == address_key(premises.address_line1)), None)
        if duplicate:
            raise DuplicateRecord(f"This business already has a shop called '{premises.name}' at "
                                  f"{premises.address_line1}, {premises.postcode}.", duplicate, "name")
    premises.business = business
    db.session.add(premises)
    db.session.flush()
    return premises


def may_change_premises(premises: Premises) -> bool:
    """A shop belongs to the authority of its borough: only its staff change it (everyone reads it)."""
    from .scoping import current_authority_id

    authority_id = current_authority_id()
    return authority_id is None or premises.authority_id in (None, authority_id)


def update_premises(premises: Premises, data: dict, version=None) -> Premises:
    if not may_change_premises(premises):
        raise InvalidValue(f"{premises.name} is in {premises.borough_name}: only that authority's staff can change "
                           "it. Ask them, or tell them what you found.")
    check_version(premises, version)
    _apply(premises, data, PREMISES_FIELDS)
    if "sells" in data:
        premises.sells = data["sells"]
    _premises_keys(premises)
    db.session.flush()
    return premises


# --- online stores ----------------------------------------------------------------------------------------------

STORE_FIELDS = ("name", "base_url", "platform", "seller_id")


def _store_url(data: dict, exclude_id: int | None) -> str:
    url = normalise_url(data.get("base_url"))
    query = sa.select(OnlineStore).where(OnlineStore.base_url == url)
    if exclude_id:
        query = query.where(OnlineStore.id != exclude_id)
    existing = db.session.scalars(query).first()
    if existing:
        raise DuplicateRecord(f"{url} is already registered for {existing.business.display_name}.",
                              existing.id, "base_url")
    return url


def add_online_store(business: Business, data: dict) -> OnlineStore:
    url = _store_url(data, None)
    store = OnlineStore()
    _apply(store, data, STORE_FIELDS)
    store.base_url = url
    store.domain = url_domain(url)
    store.business = business
    db.session.add(store)
    db.session.flush()
    return store


def update_online_store(store: OnlineStore, data: dict, version=None) -> OnlineStore:
    check_version(store, version)
    url = _store_url(data, store.id)
    _apply(store, data, STORE_FIELDS)
    store.base_url = url
    store.domain = url_domain(url)
    db.session.flush()
    return store


# --- Responsible Retailers Agreement ------------------------------------------------------------------------------

RRA_FIELDS = ("scheme", "scheme_other", "signed_on", "signatory_name", "signatory_role", "ts_officer",
              "police_officer", "commitments", "signage_given", "review_due")


def _rra_premises(business: Business, premises_ids) -> list[Premises]:
    wanted = {int(i) for i in premises_ids or []}
    chosen = [p for p in business.premises if p.id in wanted]
    if len(chosen) != len(wanted):
        raise InvalidValue("A chosen shop does not belong to this business.")
    return chosen


def sign_rra(business: Business, data: dict, actor: str) -> RraSignature:
    if data.get("signed_on") and data["signed_on"] > date.today():
        raise InvalidValue("The signing date cannot be in the future.")
    signature = RraSignature(business=business, status=RraStatus.ACTIVE)
    _apply(signature, data, RRA_FIELDS)
    signature.premises = _rra_premises(business, data.get("premises_ids"))
    signature.status_changed_on = signature.signed_on
    signature.events.append(RraStatusEvent(status=RraStatus.ACTIVE, on=signature.signed_on, reason="Signed", by=actor))
    db.session.add(signature)
    db.session.flush()
    return signature


def update_rra(signature: RraSignature, data: dict, version=None) -> RraSignature:
    check_version(signature, version)
    _apply(signature, data, RRA_FIELDS)
    if "premises_ids" in data:
        signature.premises = _rra_premises(signature.business, data["premises_ids"])
    db.session.flush()
    return signature


def change_rra_status(signature: RraSignature, status: str, on: date, reason: str, actor: str,
                      version=None) -> RraSignature:
    """Suspend, withdraw or reinstate a signature. Withdrawing and suspending need a reason; history is kept."""
    check_version(signature, version)
    status = RraStatus(status)
    if status == signature.status:
        raise InvalidValue(f"The agreement is already {status.value}.")
    if status != RraStatus.ACTIVE and not reason.strip():
        raise InvalidValue("Give the reason for this change.")
    if on > date.today():
        raise InvalidValue("The date cannot be in the future.")
    if on < signature.signed_on:
        raise InvalidValue("The date cannot be before the agreement was signed.")
    signature.status = status
    signature.status_changed_on = on
    signature.status_reason = reason.strip()
    signature.events.append(RraStatusEvent(status=status, on=on, reason=reason.strip() or "Reinstated", by=actor))
    db.session.flush()
    record_event("RraSignature", signature.id, f"Status changed to {status.value}")
    return signature


def business_type_values() -> list[str]:
    return [t.value for t in BusinessType]


def suggest_borough(postcode: str) -> dict | None:
    """The borough of other shops in the register with this postcode, else its sector ("E8 4"), else its district
    ("E8"), when most of them agree. A suggestion for the officer to confirm: districts can straddle boroughs."""
    key = postcode_key(postcode or "")
    if not re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}", key):
        return None
    outward, inward = key[:-3], key[-3:]
    same_length = sa.func.length(Premises.postcode_key) == len(key)
    for basis, condition in ((f"{outward} {inward}", Premises.postcode_key == key),
                             (f"{outward} {inward[0]}", sa.and_(_prefix(Premises.postcode_key, outward + inward[0]),
                                                                same_length)),
                             (outward, sa.and_(_prefix(Premises.postcode_key, outward), same_length))):
        rows = db.session.execute(
            sa.select(Premises.borough, sa.func.count()).where(condition).group_by(Premises.borough)
            .order_by(sa.func.count().desc()).limit(3)).all()
        total = sum(n for _, n in rows)
        if rows and rows[0][1] * 10 >= total * 7:  # at least 70% agree
            borough, count = rows[0]
            from .boroughs import borough_name

            return {"borough": borough, "name": borough_name(borough), "basis": basis, "shops": count}
    return None


def matching_premises_ids(q: str):
    key = name_key(q)
    selects = [sa.select(Premises.id).where(_prefix(Premises.name_key, key))]
    if looks_like_postcode_prefix(q):
        selects.append(sa.select(Premises.id).where(_prefix(Premises.postcode_key, postcode_key(q))))
    return sa.union(*selects)


# Record pages have room for sections that later areas add (test purchases, training, monitoring).
# A provider takes (record, viewer) and returns {"title", "template", ...context} or None.
BUSINESS_SECTIONS: list = []
PREMISES_SECTIONS: list = []
STORE_SECTIONS: list = []


def _sections(providers, record, viewer) -> list[dict]:
    return [s for s in (provider(record, viewer) for provider in providers) if s]


def business_sections(business, viewer) -> list[dict]:
    return _sections(BUSINESS_SECTIONS, business, viewer)


def premises_sections(premises, viewer) -> list[dict]:
    return _sections(PREMISES_SECTIONS, premises, viewer)


def store_sections(store, viewer) -> list[dict]:
    return _sections(STORE_SECTIONS, store, viewer)
