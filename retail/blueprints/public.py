"""The public register of named businesses: no login, only what the approved statements say."""
from datetime import date

from flask import Blueprint, abort, render_template, request

from .. import naming_public
from ..access import public
from ..boroughs import BOROUGH_CHOICES
from ..extensions import db
from ..models.compliance import NamingCase
from ..scoping import london_wide
from ..timeutil import today_london

bp = Blueprint("public", __name__)


def _for_page(entries: list[dict]) -> list[dict]:
    """The public entries with their dates written out for people (the API keeps ISO dates)."""
    def label(iso):
        return date.fromisoformat(iso).strftime("%d %B %Y").lstrip("0") if iso else ""

    return [dict(e, published_label=label(e["published_on"]), expires_label=label(e["expires_on"]),
                 reply_label=label(e["reply_date"]), corrected_label=label(e["corrected_on"])) for e in entries]


@bp.route("/named")
@public
@london_wide  # the public register is the same for everyone, signed in or not
def named():
    q = request.args.get("q", "").strip()[:100]
    postcode = request.args.get("postcode", "").strip()[:10]
    borough = request.args.get("borough", "").strip()[:40]
    page = db.paginate(naming_public.public_query(q, postcode, borough), per_page=20, error_out=False,
                       max_per_page=50)
    return render_template("public/named.html", entries=_for_page(naming_public.public_entries(list(page.items))),
                           page=page, q=q, postcode=postcode, borough=borough, borough_choices=BOROUGH_CHOICES,
                           today=today_london())


@bp.route("/named/<int:entry_id>")
@public
@london_wide  # the public register is the same for everyone, signed in or not
def named_entry(entry_id: int):
    case = db.session.scalar(naming_public.live_query().where(NamingCase.id == entry_id))
    if case is None:
        abort(404)
    return render_template("public/named_entry.html", entry=_for_page(naming_public.public_entries([case]))[0])
