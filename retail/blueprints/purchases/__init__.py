"""Test purchases (in store, online by stage), notification letters, follow-up actions, exports, retailer letters.

One blueprint, `purchases`, whose routes live in the modules imported at the bottom: `lists` (the list, the CSV
export), `in_store`, `online` (order, dispatch, delivery, outcome), `records` (view, edit, amend), `actions`,
`letters`, and `sections` (the home panel, the business timeline, the register sections). They import `bp` from here,
so they are imported only after it exists.
"""
from flask import Blueprint

from ...access import STAFF
from ...nav import add_nav

bp = Blueprint("purchases", __name__)

add_nav("Test purchases", "purchases.index", STAFF, 20)
add_nav("Letters", "purchases.letters", STAFF, 22)

# Imported in the order the routes were declared when this was one module, so the URL map is unchanged.
from . import lists, in_store, online, records, actions, letters, sections  # noqa: E402, F401

__all__ = ["bp"]
