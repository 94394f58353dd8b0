"""Register CSV import (all or nothing, with a per-row preview), in the columns the export (register_export.py)
writes, so they round-trip."""
import csv
import io
import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from . import csvout
from .boroughs import OUTSIDE_LONDON, normalise_borough
from .extensions import db
from .models.register import (BUSINESS_TYPE_LABELS, Business, BusinessType, KnifeDisplay, Premises, PremisesStatus,
                              SellsCategory, address_key, name_key)
from .register import council_ref_matches, may_change_premises, _set_keys, _premises_keys
from .scoping import current_authority_id
from .validation import InvalidValue, normalise_postcode, postcode_key

# Canonical columns, in export order. Import accepts these and the spellings in HEADING_ALIASES.
COLUMNS = ["external_ref", "legal_name", "trading_name", "company_number", "business_type", "contact_name",
           "contact_email", "contact_phone", "primary_authority", "premises_name", "address_line1", "address_line2",
           "town", "postcode", "borough", "local_authority", "sells", "display", "status", "notes", "rra_status"]
EXPORT_ONLY = {"rra_status"}  # read by the import (so it is not reported as ignored) but never kept or used
IMPORT_COLUMNS = [c for c in COLUMNS if c not in EXPORT_ONLY]

HEADING_ALIASES = {
    "external_ref": ["externalref", "councilref", "councilreference", "reference", "ref", "ourref", "premisesref",
                     "traderref", "id"],
    "legal_name": ["legalname", "businessname", "name", "companyname", "business", "registeredname", "tradername"],
    "trading_name": ["tradingname", "tradingas", "ta", "dba"],
    "company_number": ["companynumber", "companyno", "companyregno", "crn", "companieshousenumber"],
    "business_type": ["businesstype", "type", "retailertype", "tradertype"],
    "contact_name": ["contactname", "contact", "owner", "manager", "contactperson"],
    "contact_email": ["contactemail", "email", "emailaddress"],
    "contact_phone": ["contactphone", "phone", "telephone", "tel", "phonenumber", "telno"],
    "primary_authority": ["primaryauthority", "primaryauthoritypartner", "pa"],
    "premises_name": ["premisesname", "shopname", "storename", "premises", "shop", "site", "sitename"],
    "address_line1": ["addressline1", "address1", "address", "street", "premisesaddress", "shopaddress"],
    "address_line2": ["addressline2", "address2", "locality"],
    "town": ["town", "city", "towncity", "posttown"],
    "postcode": ["postcode", "postalcode", "premisespostcode", "shoppostcode"],
    "borough": ["borough", "londonborough", "localauthority", "la", "council", "district"],
    "local_authority": ["localauthorityoutsidelondon", "otherlocalauthority"],
    "sells": ["sells", "whatitsells", "products", "knifecategories", "categories", "knivessold", "productssold"],
    "display": ["display", "knifedisplay", "howknivesaredisplayed", "storage", "displaystorage"],
    "status": ["status", "tradingstatus", "premisesstatus"],
    "notes": ["notes", "comments", "remarks"],
    "rra_status": ["rrastatus", "rra", "responsibleretaileragreement"],
}
_HEADING_LOOKUP = {alias: column for column, aliases in HEADING_ALIASES.items() for alias in aliases}
_HEADING_LOOKUP.update({re.sub(r"[^a-z0-9]", "", c): c for c in COLUMNS})

_TYPE_WORDS = {
    "independent": BusinessType.INDEPENDENT, "indie": BusinessType.INDEPENDENT, "ind": BusinessType.INDEPENDENT,
    "multiple": BusinessType.MULTIPLE, "chain": BusinessType.MULTIPLE, "multiplechain": BusinessType.MULTIPLE,
    "nationalagreement": BusinessType.NATIONAL_AGREEMENT, "nationalvoluntaryagreement": BusinessType.NATIONAL_AGREEMENT,
    "nationalvoluntaryagreementsignatory": BusinessType.NATIONAL_AGREEMENT, "nva": BusinessType.NATIONAL_AGREEMENT,
    "onlineonly": BusinessType.ONLINE_ONLY, "online": BusinessType.ONLINE_ONLY,
    "marketplaceseller": BusinessType.MARKETPLACE_SELLER, "marketplace": BusinessType.MARKETPLACE_SELLER,
}
_TYPE_WORDS.update({re.sub(r"[^a-z]", "", label.lower()): t for t, label in BUSINESS_TYPE_LABELS.items()})
_SELLS_WORDS = [
    (r"kitchen|domestic|cutlery|chef", SellsCategory.KITCHEN), (r"fold|pocket|lock", SellsCategory.FOLDING),
    (r"multi", SellsCategory.MULTI_TOOL), (r"craft|stanley|utility|scalpel", SellsCategory.CRAFT),
    (r"garden|axe|machete|hatchet|billhook", SellsCategory.GARDEN), (r"razor", SellsCategory.RAZORS),
    (r"sword|martial|katana", SellsCategory.SWORDS), (r"other", SellsCategory.OTHER),
]
_DISPLAY_WORDS = [(r"lock|cabinet", KnifeDisplay.LOCKED_CABINET), (r"behind|counter|till", KnifeDisplay.BEHIND_COUNTER),
                  (r"open|shelf|self", KnifeDisplay.OPEN_SHELF)]
MAX_ROWS = 50_000


class ImportFileError(ValueError):
    """The file as a whole cannot be read (encoding, no header, missing required columns)."""


@dataclass(slots=True)
class ImportRow:
    line: int
    values: dict
    errors: list[str] = field(default_factory=list)
    action: str = ""


@dataclass
class ExistingByName:
    """The register's businesses a row without a council reference may be: one with that legal or trading name and a
    shop in the row's postcode, or, for a row without a shop, one with that legal name and no shop. Looked up for the
    whole file in a few statements (a statement per row made a 50,000-row file take minutes: issue 14)."""
    by_name_postcode: dict[tuple[str, str], int] = field(default_factory=dict)
    shopless_by_name: dict[str, int] = field(default_factory=dict)

    def business_id(self, values: dict) -> int | None:
        if values["no_shop"]:
            return self.shopless_by_name.get(name_key(values["legal_name"]))
        return self.by_name_postcode.get((name_key(values["legal_name"]), postcode_key(values["postcode"])))


@dataclass
class ImportPlan:
    rows: list[ImportRow]
    ignored_columns: list[str]
    file_errors: list[str] = field(default_factory=list)
    existing: ExistingByName = field(default_factory=ExistingByName)

    @property
    def error_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if r.errors]

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.error_rows and bool(self.rows)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.action] = counts.get(row.action, 0) + 1
        return counts


def _heading_key(heading: str) -> str:
    return re.sub(r"[^a-z0-9]", "", heading.lower())


def _encoding(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportFileError("The file is not readable text. Save it from your spreadsheet as CSV (UTF-8).")


def read_rows(content: bytes, each=None) -> tuple[list[str], list, list[str]]:
    """Headings mapped to our columns, rows as (line number, {column: value}), and headings we ignored. With
    `each(line, values)`, the rows are what it returns for each, as it is read: a 50,000-row file is not held twice."""
    if b"\x00" in content[:4096]:
        raise ImportFileError("This looks like a spreadsheet file, not CSV. Use 'Save as CSV' first.")
    # Decoded as it is read, not into one string first (and a copy of it): memory for a 50,000-row file (issue 14).
    stream = io.TextIOWrapper(io.BytesIO(content), encoding=_encoding(content), newline="")
    first_line = stream.readline().rstrip("\r\n")
    if not first_line.strip():
        raise ImportFileError("The file is empty.")
    stream.seek(0)
    delimiter = max([",", ";", "\t"], key=first_line.count)
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        return _read_rows(reader, each)
    except csv.Error as exc:  # a cell past the csv module's limit (128 kB), an unclosed quote at the end...
        raise ImportFileError(f"Line {reader.line_num} cannot be read ({exc}). Check that cell in the spreadsheet: "
                              "a cell longer than 131,072 characters, or a stray quote mark.") from None


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _read_rows(reader, each) -> tuple[list[str], list, list[str]]:
    headings = next(reader)
    mapping: dict[int, str] = {}
    ignored = []
    seen: dict[str, int] = {}
    for index, heading in enumerate(headings):
        column = _HEADING_LOOKUP.get(_heading_key(heading))
        if column and column in seen:
            # Two headings for one column: reading either silently would import the wrong values (issue 14).
            first = seen[column]
            raise ImportFileError(
                f"Two columns are both read as '{column}': '{headings[first].strip()}' (column "
                f"{_column_letter(first)}) and '{heading.strip()}' (column {_column_letter(index)}). Remove or "
                "rename one of them, then upload the file again.")
        if column:
            seen[column] = index
            mapping[index] = column
        elif heading.strip():
            ignored.append(heading.strip())
    # "Local Authority" alone means the borough; beside a Borough column it names an authority outside London.
    if "borough" not in mapping.values():
        for index, column in mapping.items():
            if column == "local_authority":
                mapping[index] = "borough"
    missing = [c for c in ("legal_name", "postcode") if c not in mapping.values()]
    if missing:
        names = {"legal_name": "Business Name", "postcode": "Postcode"}
        raise ImportFileError("The file has no " + " or ".join(f"'{names[m]}'" for m in missing) +
                              " column. See the accepted headings on this page.")
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(f"The file has more than {MAX_ROWS} rows; split it into smaller files.")
        row = {column: (csvout.read_cell(values[index]) if index < len(values) else "")
               for index, column in mapping.items() if column not in EXPORT_ONLY}
        rows.append((reader.line_num, row) if each is None else each(reader.line_num, row))
    return [mapping[i] for i in sorted(mapping)], rows, ignored


def _parse_type(text: str) -> BusinessType:
    if not text:
        return BusinessType.INDEPENDENT
    found = _TYPE_WORDS.get(re.sub(r"[^a-z]", "", text.lower()))
    if not found:
        raise InvalidValue(f"Unknown business type '{text}' (use independent, multiple, national agreement, "
                           "online only or marketplace seller).")
    return found


def _parse_sells(text: str) -> list[str]:
    found = set()
    for part in re.split(r"[|;,/+]| and ", text.lower()):
        part = part.strip()
        if not part:
            continue
        for pattern, category in _SELLS_WORDS:
            if re.search(pattern, part):
                found.add(category.value)
                break
        else:
            raise InvalidValue(f"Unknown product category '{part}'.")
    return sorted(found)


def _parse_display(text: str) -> str | None:
    if not text:
        return None
    for pattern, display in _DISPLAY_WORDS:
        if re.search(pattern, text.lower()):
            return display.value
    raise InvalidValue(f"Unknown display '{text}' (use locked cabinet, behind counter or open shelf).")


def _parse_status(text: str) -> str:
    lowered = text.lower().strip()
    if lowered in {"", "trading", "open", "active", "live"}:
        return PremisesStatus.TRADING.value
    if lowered in {"closed", "ceased", "ceased trading", "gone"}:
        return PremisesStatus.CLOSED.value
    raise InvalidValue(f"Unknown status '{text}' (use trading or closed).")


def _clean(line: int, raw: dict) -> ImportRow:
    row = ImportRow(line=line, values=raw)  # cleaned in place: the file's values are not kept twice
    v = row.values
    for column in IMPORT_COLUMNS:
        v.setdefault(column, "")
    if not v["legal_name"]:
        row.errors.append("Business name is missing.")
    try:
        v["business_type"] = _parse_type(v["business_type"])
    except InvalidValue as exc:
        row.errors.append(str(exc))
    # An online-only or marketplace seller may have no shop: its row carries the business alone.
    no_shop = not any(v[c] for c in ("postcode", "address_line1", "borough", "premises_name"))
    if no_shop and v["business_type"] in (BusinessType.ONLINE_ONLY, BusinessType.MARKETPLACE_SELLER):
        v["no_shop"] = True
        return row
    v["no_shop"] = False
    try:
        v["postcode"] = normalise_postcode(v["postcode"])
    except InvalidValue as exc:
        row.errors.append(str(exc))
    borough_text = v["borough"]
    code = normalise_borough(borough_text) if borough_text else None
    if not borough_text:
        row.errors.append("Borough is missing.")
    elif code is None:
        row.errors.append(f"Unknown borough '{borough_text}'. Use a London borough (e.g. 'Hackney' or 'LB Hackney') "
                          "or 'Outside London' with a local authority.")
    else:
        v["borough"] = code
        if code == OUTSIDE_LONDON and not v["local_authority"]:
            row.errors.append("A shop outside London needs a local authority.")
    for column, parser in (("sells", _parse_sells), ("display", _parse_display), ("status", _parse_status)):
        try:
            v[column] = parser(v[column])
        except InvalidValue as exc:
            row.errors.append(str(exc))
    if not v["address_line1"]:
        row.errors.append("Address is missing.")
    if len(v["legal_name"]) > 200 or len(v["premises_name"]) > 200 or len(v["address_line1"]) > 200:
        row.errors.append("A name or address is longer than 200 characters.")
    v["premises_name"] = v["premises_name"] or v["trading_name"] or v["legal_name"]
    return row


def plan_import(content: bytes) -> ImportPlan:
    """Read and check every row, and say what importing would do. Changes nothing."""
    try:
        _, rows, ignored = read_rows(content, each=_clean)
    except ImportFileError as exc:
        return ImportPlan(rows=[], ignored_columns=[], file_errors=[str(exc)])
    ignored = [h for h in ignored]
    plan = ImportPlan(rows=rows, ignored_columns=ignored)
    if not rows:
        plan.file_errors.append("The file has a heading row but no data rows.")
        return plan
    good = [r for r in rows if not r.errors]
    refs = {r.values["external_ref"] for r in good if r.values["external_ref"]}
    plan.existing = _existing_by_name([r.values for r in good if not r.values["external_ref"]])
    ref_ids = _business_ids_by_ref(refs)
    by_id = {b.id: b for b in _businesses_with_premises(
        set(ref_ids.values()) | set(plan.existing.by_name_postcode.values())
        | set(plan.existing.shopless_by_name.values()))}
    by_ref = {ref: by_id[business_id] for ref, business_id in ref_ids.items()}
    seen_premises: dict[tuple, int] = {}
    new_business_keys: set = set()
    for row in good:
        v = row.values
        if v["no_shop"]:
            found = by_ref.get(v["external_ref"]) if v["external_ref"] else by_id.get(plan.existing.business_id(v))
            row.action = "update" if found else "new business"
            continue
        business = by_ref.get(v["external_ref"]) if v["external_ref"] else by_id.get(plan.existing.business_id(v))
        # Two shops of one business can share a postcode (a parade, a shopping centre): the address tells them apart.
        pkey = (v["external_ref"] or name_key(v["legal_name"]), postcode_key(v["postcode"]),
                name_key(v["premises_name"]), address_key(v["address_line1"]))
        if pkey in seen_premises:
            row.errors.append(f"Same shop as line {seen_premises[pkey]} (same business, name, address and "
                              "postcode).")
            continue
        seen_premises[pkey] = row.line
        bkey = v["external_ref"] or (name_key(v["legal_name"]), postcode_key(v["postcode"]))
        if business is None:
            row.action = "new shop" if bkey in new_business_keys or _same_new_business(v, new_business_keys) else \
                "new business"
            new_business_keys.add(bkey)
            new_business_keys.add(("name", name_key(v["legal_name"])) if not v["external_ref"] else bkey)
        else:
            existing = same_shop(business.premises, v)
            if existing is not None and not may_change_premises(existing):
                row.errors.append(f"{existing.name} is in {existing.borough_name}: only that authority's staff can "
                                  "change it. Leave this row out.")
                continue
            row.action = "update" if existing else "new shop"
    return plan



def same_shop(premises: list[Premises], values: dict) -> Premises | None:
    """The business's shop this row describes: same name, postcode and first address line."""
    wanted = (postcode_key(values["postcode"]), name_key(values["premises_name"]), address_key(values["address_line1"]))
    return next((p for p in premises
                 if (p.postcode_key, p.name_key, address_key(p.address_line1)) == wanted), None)


def _same_new_business(values: dict, keys: set) -> bool:
    return not values["external_ref"] and ("name", name_key(values["legal_name"])) in keys


IN_LIST = 5000  # values per IN list: within every database's limit on bound parameters


def _existing_by_name(rows: list[dict]) -> ExistingByName:
    """ExistingByName for these rows (those without a council reference), in a statement per IN_LIST names."""
    found = ExistingByName()
    wanted = {(name_key(v["legal_name"]), postcode_key(v["postcode"])) for v in rows if not v["no_shop"]}
    names = sorted({name for name, _ in wanted})
    for start in range(0, len(names), IN_LIST):
        chunk = names[start:start + IN_LIST]
        # Ordered by id so that, of two businesses of one name in one postcode, the older is the one matched.
        for business_id, legal, trading, postcode in db.session.execute(
                sa.select(Business.id, Business.legal_name_key, Business.trading_name_key, Premises.postcode_key)
                .join(Premises, Premises.business_id == Business.id)
                .where(sa.or_(Business.legal_name_key.in_(chunk), Business.trading_name_key.in_(chunk)))
                .order_by(Business.id)):
            for key in {(legal, postcode), (trading, postcode)} & wanted:
                found.by_name_postcode.setdefault(key, business_id)
    shopless = sorted({name_key(v["legal_name"]) for v in rows if v["no_shop"]})
    for start in range(0, len(shopless), IN_LIST):
        for business_id, legal in db.session.execute(
                sa.select(Business.id, Business.legal_name_key)
                .where(Business.legal_name_key.in_(shopless[start:start + IN_LIST]), ~Business.premises.any())
                .order_by(Business.id)):
            found.shopless_by_name.setdefault(legal, business_id)
    return found


def _businesses_with_premises(ids: set[int]) -> list[Business]:
    """These businesses with their shops, in a statement (and one for the shops) per IN_LIST ids."""
    ids, out = sorted(ids), []
    for start in range(0, len(ids), IN_LIST):
        out.extend(db.session.scalars(sa.select(Business).where(Business.id.in_(ids[start:start + IN_LIST]))
                                      .options(selectinload(Business.premises))))
    return out


BUSINESS_COLUMNS = ["legal_name", "trading_name", "company_number", "business_type", "contact_name", "contact_email",
                    "contact_phone", "primary_authority", "notes"]


IMPORT_CHUNK = 1000  # rows per transaction: bounded memory, and other writers wait a moment, not a minute
EMPTY_COUNTS = {"businesses created": 0, "businesses updated": 0, "shops created": 0, "shops updated": 0}


def _business_ids_by_ref(refs: set[str]) -> dict[str, int]:
    """Council reference -> business id, in IN lists of a size every database accepts."""
    refs, out = sorted(refs), {}
    for start in range(0, len(refs), IN_LIST):
        out.update(db.session.execute(sa.select(Business.external_ref, Business.id).where(
            council_ref_matches(Business.external_ref.in_(refs[start:start + IN_LIST])))).all())
    return out


def apply_import(content: bytes, *, plan: ImportPlan | None = None, start_at: int = 0, counts: dict | None = None,
                 on_progress=None) -> dict[str, int]:
    """Import the file. Raises ImportFileError, with nothing changed, if any row is bad (every row is checked
    first). The rows are then written IMPORT_CHUNK at a time, each chunk its own transaction, with
    `on_progress(rows_done, counts)` called inside it, so progress is saved with the rows; an import stopped half way
    (a restart) continues from `start_at` with the `counts` saved so far, and meets nothing twice. `plan`: the
    file's plan, when the caller has just made it (the CLI shows it first), so the file is not checked twice."""
    plan = plan or plan_import(content)
    if not plan.ok:
        problems = plan.file_errors + [f"line {r.line}: {'; '.join(r.errors)}" for r in plan.error_rows[:5]]
        raise ImportFileError("Nothing was imported. " + " ".join(problems))
    db.session.expunge_all()  # the plan's look-ups: the chunks load what they need
    counts = dict(counts or EMPTY_COUNTS)
    rows = plan.rows
    ref_ids = _business_ids_by_ref({r.values["external_ref"] for r in rows if r.values["external_ref"]})
    seen: dict[object, int] = {}  # the businesses this import has created or updated (by ref or name) -> id
    from . import scoring

    # Scores are computed once at the end: after each chunk they would be a London-wide recompute every 1,000 rows.
    with scoring.scoring_paused():
        for start in range(start_at, len(rows), IMPORT_CHUNK):
            chunk = rows[start:start + IMPORT_CHUNK]
            try:
                _apply_chunk(chunk, ref_ids, plan.existing, seen, counts)
                db.session.flush()
                if on_progress is not None:
                    on_progress(start + len(chunk), counts)
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
            db.session.expunge_all()
    touched = set(seen.values())
    if len(touched) > scoring.BULK_THRESHOLD:
        scoring.rescore_all()
    elif touched:
        scoring.rescore_businesses(touched)
    return counts


def _business_key(values: dict, existing: ExistingByName):
    """Which business a row is, as the plan judged it: by council reference; else an existing business by name and
    postcode; else one new in this file, by legal name (the plan's 'new shop' of a 'new business')."""
    if values["external_ref"]:
        return values["external_ref"]
    business_id = existing.business_id(values)
    return ("id", business_id) if business_id is not None else ("name", name_key(values["legal_name"]))


def _apply_chunk(chunk: list[ImportRow], ref_ids: dict[str, int], existing: ExistingByName, seen: dict,
                 counts: dict) -> None:
    keys = [_business_key(r.values, existing) for r in chunk]

    def known(key) -> int | None:
        if isinstance(key, str):
            return seen.get(key) or ref_ids.get(key)
        return key[1] if key[0] == "id" else seen.get(key)

    wanted = {known(k) for k in keys} - {None}
    loaded = {b.id: b for b in db.session.scalars(sa.select(Business).where(Business.id.in_(wanted))
                                                  .options(selectinload(Business.premises)))} if wanted else {}
    here: dict[object, Business] = {}  # this chunk's businesses by key (new ones have no id until the flush)
    for row, key in zip(chunk, keys, strict=True):
        v = row.values
        business = here.get(key)
        if business is None and (business_id := known(key)) is not None:
            business = loaded.get(business_id) or db.session.get(Business, business_id)
        business_data = {c: v[c] for c in BUSINESS_COLUMNS if v[c] != "" or c == "business_type"}
        if business is None:
            business = Business(external_ref=v["external_ref"] or None, **business_data,
                                ref_authority_id=current_authority_id() if v["external_ref"] else None)
            _set_keys(business)
            db.session.add(business)
            counts["businesses created"] += 1
        elif key not in seen and key not in here:
            before = {c: getattr(business, c) for c in business_data}
            for column, value in business_data.items():
                setattr(business, column, value)
            _set_keys(business)
            if any(before[c] != getattr(business, c) for c in business_data):
                counts["businesses updated"] += 1
        here[key] = business
        if v["no_shop"]:
            continue
        premises = same_shop(business.premises, v)
        fields = {"name": v["premises_name"], "address_line1": v["address_line1"],
                  "address_line2": v["address_line2"], "town": v["town"] or "London", "postcode": v["postcode"],
                  "borough": v["borough"], "local_authority": v["local_authority"], "display": v["display"],
                  "status": v["status"]}
        if premises is None:
            premises = Premises(business=business, **fields)
            premises.sells = v["sells"]
            _premises_keys(premises)
            db.session.add(premises)
            counts["shops created"] += 1
        else:
            changed = any(getattr(premises, k) != val for k, val in fields.items()) or premises.sells != v["sells"]
            for k, val in fields.items():
                setattr(premises, k, val)
            premises.sells = v["sells"]
            _premises_keys(premises)
            if changed:
                counts["shops updated"] += 1
    _reserve_ids(Business, [b for b in here.values() if b.id is None])
    _reserve_ids(Premises, [o for o in db.session.new if isinstance(o, Premises) and o.id is None])
    db.session.flush()
    seen.update({key: business.id for key, business in here.items()})


def _reserve_ids(model, records: list) -> None:
    """On PostgreSQL, give new records their ids from the table's sequence in one statement before the flush.

    A record without an id is inserted with INSERT ... RETURNING, which SQLAlchemy sends as 1,000-row statements that
    psycopg re-parses in Python each time (too long for its statement cache): about a fifth of a 50,000-row import.
    With the ids known, the flush uses one short statement, parsed once and pipelined (issue 14). SQLite's driver
    has no such cost, and its ids come free with each row.
    """
    if not records or db.session.get_bind().dialect.name != "postgresql":
        return
    table = model.__table__.name
    ids = sorted(db.session.scalars(sa.text(
        "SELECT nextval(pg_get_serial_sequence(:table, 'id')::regclass) FROM generate_series(1, :n)"),
        {"table": table, "n": len(records)}))
    for record, record_id in zip(records, ids, strict=True):
        record.id = record_id
