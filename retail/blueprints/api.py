"""Open data: the public register of named businesses as JSON and CSV, in the style of the food hygiene ratings API.

GET only (no CSRF exemption needed). The OpenAPI description is a data file, retail/openapi/named.json.
"""
import io
import json
from pathlib import Path

from flask import Blueprint, Response, abort, jsonify, request

from .. import csvout
from .. import naming, naming_public
from ..access import public
from ..extensions import db
from ..security import public_url
from ..models.compliance import NamingCase
from ..scoping import london_wide
from ..timeutil import today_london

bp = Blueprint("api", __name__, url_prefix="/api/v1")

OPENAPI_FILE = Path(__file__).resolve().parents[1] / "openapi" / "named.json"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
CSV_COLUMNS = ["id", "business_name", "legal_name", "premises", "websites", "statement", "published_on", "expires_on",
               "reply", "reply_date", "corrected_on"]


MAX_PAGE = 1_000_000
MAX_ID = 2**31 - 1
# The longest value accepted for each text filter (the OpenAPI document states the same bounds).
MAX_LENGTHS = {"name": 100, "postcode": 10, "borough": 40}


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    """A whole number within the bounds the OpenAPI document publishes; anything else is a 400, not clamped."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400)
    if not low <= value <= high:
        abort(400)
    return value


def _text_arg(name: str) -> str:
    value = request.args.get(name, "")
    if len(value) > MAX_LENGTHS[name]:
        abort(400)
    return value.strip()


def _filters() -> dict:
    return {"q": _text_arg("name"), "postcode": _text_arg("postcode"), "borough": _text_arg("borough")}


@bp.route("/named")
@public
@london_wide  # the public register is the same for everyone, signed in or not
def named_list():
    page_number = _int_arg("page", 1, 1, MAX_PAGE)
    page_size = _int_arg("page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    filters = _filters()
    page = db.paginate(naming_public.public_query(**filters), page=page_number, per_page=page_size, error_out=False,
                       max_per_page=MAX_PAGE_SIZE, count=True)
    args = {k: v for k, v in (("name", filters["q"]), ("postcode", filters["postcode"]),
                              ("borough", filters["borough"])) if v}

    def link(rel: str, number: int) -> dict:
        return {"rel": rel, "href": public_url("api.named_list", page=number, page_size=page_size, **args)}

    last = max(page.pages, 1)
    links = [link("self", page_number), link("first", 1), link("last", last)]
    if page_number > 1:
        links.append(link("prev", min(page_number - 1, last)))
    if page_number < page.pages:
        links.append(link("next", page_number + 1))
    items = naming_public.public_entries(list(page.items))
    for item in items:
        item["links"] = [{"rel": "self", "href": public_url("api.named_item", entry_id=item["id"])}]
    return jsonify({"meta": {"extract_date": today_london().isoformat(), "total_count": page.total or 0,
                             "page": page_number, "page_size": page_size, "page_count": page.pages,
                             "licence": "Open Government Licence v3.0"},
                    "links": links, "items": items})


@bp.route("/named/withdrawn")
@public
@london_wide  # the public register is the same for everyone, signed in or not
def named_withdrawn():
    rows = db.session.execute(naming.withdrawn_query().limit(10_000)).all()
    return jsonify({"meta": {"extract_date": today_london().isoformat(), "total_count": len(rows)},
                    "items": [{"id": row.id, "withdrawn_on": row.withdrawn_on.isoformat()} for row in rows]})


@bp.route("/named/<int:entry_id>")
@public
@london_wide  # the public register is the same for everyone, signed in or not
def named_item(entry_id: int):
    if not 1 <= entry_id <= MAX_ID:
        abort(404)  # beyond what the database's integer ids can hold: no such entry
    case = db.session.scalar(naming_public.live_query().where(NamingCase.id == entry_id))
    if case is None:
        abort(404)
    item = naming_public.public_entries([case])[0]
    item["links"] = [{"rel": "self", "href": public_url("api.named_item", entry_id=entry_id)},
                     {"rel": "collection", "href": public_url("api.named_list")}]
    return jsonify(item)




@bp.route("/named.csv")
@public
@london_wide  # the public register is the same for everyone, signed in or not
def named_csv():
    today = today_london()
    cases = db.session.scalars(naming_public.public_query(**_filters(), today=today)).all()
    out = io.StringIO()
    writer = csvout.writer(out)
    writer.writerow(["extract_date", *CSV_COLUMNS])
    for item in naming_public.public_entries(list(cases)):
        premises = "; ".join(f"{p['name']}, {p['address']}, {p['postcode']} ({p['borough']})" for p in item["premises"])
        writer.writerow([today.isoformat(), item["id"], item["business_name"], item["legal_name"], premises,
                         " ".join(item["websites"]), item["statement"], item["published_on"], item["expires_on"],
                         item["reply"], item["reply_date"] or "", item["corrected_on"] or ""])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=named-businesses-{today.isoformat()}.csv"})


@bp.route("/openapi.json")
@public
def openapi():
    spec = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    spec["servers"] = [{"url": public_url("api.named_list").rsplit("/named", 1)[0]}]
    return jsonify(spec)
