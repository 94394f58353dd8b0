"""Small validators shared by forms and CSV imports: UK postcodes and web addresses."""
import re
from urllib.parse import urlsplit

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

_POSTCODE = re.compile(r"^(GIR0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]?[0-9][ABD-HJLNP-UW-Z]{2})$")
_POSTCODE_PREFIX = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?[0-9]?[A-Z]{0,2}$")
_HOST = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$"
    r"|^localhost$|^\d{1,3}(\.\d{1,3}){3}$"
)


class InvalidValue(ValueError):
    """A value a user typed that we cannot accept; the message is shown next to the field."""


def normalise_postcode(text: str | None) -> str:
    """'sw1a1aa' -> 'SW1A 1AA'. Raises InvalidValue with a message for the officer."""
    compact = re.sub(r"\s+", "", (text or "").upper())
    if not compact:
        raise InvalidValue("Enter a postcode.")
    if not _POSTCODE.match(compact):
        raise InvalidValue(f"'{text.strip()}' is not a valid UK postcode (for example SW1A 1AA).")
    return f"{compact[:-3]} {compact[-3:]}"


def postcode_key(postcode: str) -> str:
    return re.sub(r"\s+", "", postcode.upper())


def looks_like_postcode_prefix(text: str) -> bool:
    compact = re.sub(r"\s+", "", text.upper())
    return bool(compact) and bool(_POSTCODE_PREFIX.match(compact)) and any(c.isdigit() for c in compact)


def normalise_url(text: str | None) -> str:
    """Validate an http(s) address and return it tidied (lower-case host, no fragment)."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidValue("Enter a web address.")
    if "://" not in raw:
        raw = "https://" + raw
    parts = urlsplit(raw)
    if parts.scheme.lower() not in {"http", "https"}:
        raise InvalidValue("The address must start with http:// or https://.")
    host = (parts.hostname or "").lower()
    if not host or not _HOST.match(host) or " " in raw:
        raise InvalidValue(f"'{text.strip()}' is not a valid web address.")
    netloc = host + (f":{parts.port}" if parts.port else "")
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{netloc}{path}{query}"


def url_domain(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string above every string that starts with `prefix` ('abc' -> 'abd'), for index-friendly prefix
    searches (column >= prefix AND column < bound). Characters already at the top of Unicode (U+10FFFF) cannot be
    incremented: they are dropped and the one before is incremented; None when no bound exists (search unbounded)."""
    trimmed = prefix.rstrip(chr(0x10FFFF))
    if not trimmed:
        return None
    following = ord(trimmed[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:
        # Surrogates cannot be stored or sent (UTF-8): U+D7FF's successor among real characters is U+E000.
        following = 0xE000
    return trimmed[:-1] + chr(following)


MAX_ID = 2**31 - 1  # the largest id an integer column holds (PostgreSQL `integer`)


def parse_id(value) -> int | None:
    """A record id from a form or query: ASCII digits within an integer column's range, else None ('²' is a digit
    to str.isdigit but not to int; a 25-digit number overflows the database)."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


MAX_PAGE = 1_000_000  # the open data API publishes this bound (retail/openapi/named.json)


class BoundedArgs(ImmutableMultiDict):
    """Query and form values whose `get(..., type=int)` answers the default for numbers no integer column holds,
    as it already does for text that is not a number."""

    def get(self, key, default=None, type=None):  # noqa: A002  (werkzeug's signature)
        value = super().get(key, default, type)
        if type is int and isinstance(value, int) and value is not default and abs(value) > MAX_ID:
            return default
        return value


class BoundedRequest(Request):
    parameter_storage_class = BoundedArgs


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` in a route: an id beyond an integer column is a 404, not an overflow."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
