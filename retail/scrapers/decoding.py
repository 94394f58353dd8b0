"""Body decoding: charset detection, garbled-text detection, markup sniffing and capped gunzip."""

from __future__ import annotations

import codecs
import re
import zlib

_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)
# WHATWG: browsers decode these labels as windows-1252 (and GB2312 as GBK), so shops rely on it.
_CODEC_ALIASES = {"iso8859-1": "cp1252", "ascii": "cp1252", "latin-1": "cp1252", "gb2312": "gbk"}
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _codec_name(label: str | None, *, from_document: bool = False) -> str | None:
    """Map a charset label to a Python text codec name, or None if unknown or not a text encoding."""
    if not label:
        return None
    try:
        info = codecs.lookup(label.strip().strip("\"'"))
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True):  # e.g. "base64", "rot13"
        return None
    name = _CODEC_ALIASES.get(info.name, info.name)
    # A document that says it is UTF-16 in ASCII-compatible bytes is lying (WHATWG also treats it as UTF-8).
    if from_document and name.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return name


def decode_body(body: bytes, content_type_header: str | None) -> tuple[str, str]:
    """Decode HTML/XML bytes to text; never raises. Returns (text, codec used).

    Order: byte-order mark, Content-Type charset, <meta>/XML declaration in the first 4 KB, then UTF-8,
    falling back to windows-1252 (the commonest legacy encoding on UK shop sites) with replacement characters.
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace").lstrip("\ufeff"), name
    candidates: list[str | None] = []
    if content_type_header:
        match = _HEADER_CHARSET.search(content_type_header)
        candidates.append(_codec_name(match.group(1)) if match else None)
    head = body[:4096]
    for pattern in (_XML_ENCODING, _META_CHARSET):
        match = pattern.search(head)
        if match:
            candidates.append(_codec_name(match.group(1).decode("ascii", "replace"), from_document=True))
    for name in candidates:
        if name:
            try:
                return body.decode(name, errors="replace"), name
            except (LookupError, TypeError, ValueError):  # codec exists but cannot decode str-wise
                continue
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace"), "cp1252"


# What a page of text never has more than a trace of: C0 control characters (other than tab, line breaks, form
# feed and ESC, which ISO-2022 encodings use) and the replacement character that decoding leaves where the bytes
# were not valid in the charset. Random binary is about one in ten of these; a legacy page with a stray byte or
# two (which browsers show with a "?" and we still read) stays well under the limit.
_GARBLED = re.compile("[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\ufffd]")
MAX_GARBLED_SHARE = 0.005


def garbled_reason(text: str, codec: str) -> str | None:
    """Why decoded text is not a readable page (binary, or bytes not in the declared charset), or None."""
    if not text:
        return None
    bad = sum(1 for _ in _GARBLED.finditer(text))
    if bad > len(text) * MAX_GARBLED_SHARE:
        return (f"not a readable page: {bad} of {len(text)} characters are control characters or bytes that "
                f"are not valid {codec}")
    return None


def _looks_like_markup(body: bytes, *, html_only: bool) -> bool:
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if html_only:
        return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head or b"<body" in head
    return head.startswith(b"<")


def _gunzip_capped(data: bytes, max_bytes: int) -> tuple[bytes, bool]:
    """Decompress gzip without trusting its claimed size (a 10 KB file can expand to gigabytes)."""
    decompressor = zlib.decompressobj(wbits=31)
    try:
        out = decompressor.decompress(data, max_bytes + 1)
    except zlib.error:
        return b"", False
    return out[:max_bytes], len(out) > max_bytes
