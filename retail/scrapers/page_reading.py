"""Reading a page: its text, where the content and the chrome start, product names, structured sale signals."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

_FOLD = (
    ("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u2032", "'"), ("\u2033", '"'),
    ("\u2013", "-"), ("\u2014", "-"), ("\u2010", "-"), ("\u2011", "-"), ("\u2212", "-"), ("\u200b", ""),
    ("\r", "\n"),
)
_TITLE_SPLIT = re.compile(r"\s(?:\||-|::|\u2013|\u2014)\s")

# Block-level tags get a line break either side, so sentences from separate boxes never run together.
_BLOCK_TAGS = (
    "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "br", "section", "article",
    "header", "footer", "nav", "aside", "main", "form", "table", "dt", "dd", "dl", "blockquote", "option", "title",
    "figcaption", "address", "pre", "hr", "label", "button", "fieldset", "legend", "summary", "details",
)
# Navigation and footers repeat the whole shop's vocabulary ("Knives", "Wine") on every page: their text is kept for
# age wording (footers carry age notices) but does not make a page a knife listing.
_CHROME_TAGS = ("nav", "footer", "aside")
_CHROME_CLASS = re.compile(
    r"^(?:(?:site|main|primary|global|top|mega|page|header|footer)[-_]?)?(?:nav|navbar|navigation|menu|megamenu"
    r"|footer|header|masthead)$",
    re.IGNORECASE,
)
# Plain etree rather than lxml.html: lxml.html looks up a Python class for every element it touches.
_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
# Case variants are spelled out: IGNORECASE would halve the speed of these two passes over the raw page.
_BLOCK_TAG = re.compile(r"<(?=/?(?:" + "|".join(_BLOCK_TAGS + tuple(t.upper() for t in _BLOCK_TAGS)) + r")[\s/>])")
_INLINE_TAG = re.compile(r"<(?=(?:a|img|span|input|select|A|IMG|SPAN|INPUT|SELECT)[\s/>])")
# One path rather than the union "//@class | //@id", which lxml sorts back into document order: 10x slower.
_CLASS_OR_ID = etree.XPath("//@*[name() = 'class' or name() = 'id']")
_HAS_ITEMTYPE = etree.XPath("//@itemtype/..")  # from the attributes: "//*[@itemtype]" tests every element
_CHROME_HINT = re.compile(r"nav|menu|footer|header|masthead", re.IGNORECASE)
# A buy control: a button or link whose words buy the thing ("Buy £35", "Add to basket", "Order now"). Many small
# shops have no basket form and no structured data, only this (issue 13).
# Every link comes back and is judged in Python: an XPath test of each link's words (translate, contains) costs more
# than the rest of the search together.
_BUY_CANDIDATES = etree.XPath("//button | //input[@type='submit' or @type='button'] | //@role[. = 'button']/.. | //a")
_LINK_BUY_WORDS = ("buy", "order", "add to")
_XPATH_SPACE = re.compile(r"[ \t\r\n]+")  # what XPath's normalize-space() collapses (not Python's wider set)
_BUY_WORDS = re.compile(
    r"^(?:buy(?: it)?(?: now)?|order(?: now| online)?|purchase|pre-?order(?: now)?|add to (?:basket|cart|bag|trolley)"
    r"|reserve (?:and|&) collect|click (?:and|&) collect)(?: (?:for |- |: )?(?:£|gbp ?)\d[\d,]*(?:\.\d\d)?)?$",
    re.IGNORECASE,
)
# Markup that shop platforms put only on a product's buy box (Shopify, WooCommerce, Magento, BigCommerce, Etsy, eBay,
# Amazon sellers). Case-sensitive literals, each found with str.find: a regex alternation of them scanned the whole
# page at Python regex speed (half a millisecond on 50 KB).
_PLATFORM_MARKUP = (
    "/cart/add", "product-form__", "single_add_to_cart_button", "add_to_cart_button", "woocommerce-Price-amount",
    "product-addtocart-button", "action tocart", "form-action-addToCart", "data-cart-item-add", "listing-page-cart",
    "data-buy-box", "x-bin-price", "x-buybox", "binBtn_btn", "add-to-cart-button", "buy-now-button",
    'id="productTitle"',
)
_PLATFORM_NAMES = (
    ("/cart/add", "Shopify"), ("product-form__", "Shopify"), ("add_to_cart_button", "WooCommerce"),
    ("woocommerce", "WooCommerce"), ("tocart", "Magento"), ("AddToCart", "BigCommerce"),
    ("cart-item-add", "BigCommerce"), ("listing-page-cart", "Etsy"), ("buy-box", "Etsy"), ("x-bin", "eBay"),
    ("x-buybox", "eBay"), ("binBtn", "eBay"), ("add-to-cart-button", "Amazon"), ("buy-now-button", "Amazon"),
    ("productTitle", "Amazon"),
)
_TILE_CLASS = re.compile(r"product|card|tile|item|grid", re.IGNORECASE)


@dataclass
class _Page:
    """Text extracted from a document, with the offsets the classifier needs."""

    text: str
    main_start: int  # before this: title, meta description and JSON-LD product lines
    chrome_start: int  # from here: navigation, header and footer text
    heading: str = ""  # product name candidates: first title segment and h1
    products: list[str] = field(default_factory=list)  # JSON-LD Product names
    structured: list[tuple[str, str]] = field(default_factory=list)  # (phrase, context) for machine-readable sale
    buy_controls: list[tuple[str, str]] = field(default_factory=list)  # (control words, its product tile's text)



# --- extraction -------------------------------------------------------------------------------------------------


def _normalise(raw: str) -> str:
    """Fold quotes and dashes, collapse whitespace inside lines, drop empty lines."""
    for old, new in _FOLD:
        if old in raw:
            raw = raw.replace(old, new)  # str.replace is far faster than str.translate on long text
    # Per line, str.split() collapses the same whitespace that \s matches, at twice the speed of a regex pass.
    return "\n".join(filter(None, (" ".join(line.split()) for line in raw.split("\n"))))


def _walk_jsonld(node: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Yield every JSON-LD object, however it is nested (@graph, ItemList, offers...)."""
    if depth > 8:
        return
    if isinstance(node, dict):
        yield node
        for value in node.values():
            if isinstance(value, (dict, list)):
                yield from _walk_jsonld(value, depth + 1)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_jsonld(item, depth + 1)


def _is_product(obj: dict[str, Any]) -> bool:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(isinstance(k, str) and k.rsplit("/", 1)[-1] in {"Product", "ProductGroup", "IndividualProduct"}
               for k in kinds)


def _jsonld_products(scripts: list[str]) -> list[tuple[str, str]]:
    """(name, description) of each Product in the page's JSON-LD; broken JSON is skipped, as browsers do."""
    found = []
    for raw in scripts:
        try:
            data = json.loads(raw, strict=False)  # raw newlines inside strings are common (and we add some)
        except ValueError:
            continue
        for obj in _walk_jsonld(data):
            if _is_product(obj):
                name = obj.get("name")
                desc = obj.get("description")
                found.append((name if isinstance(name, str) else "", desc if isinstance(desc, str) else ""))
    return found


def _parse_text(document: str) -> _Page:
    text = _normalise(document)
    first = text.split("\n", 1)[0] if text else ""
    return _Page(text=text, main_start=0, chrome_start=len(text), heading=first[:200])


def _text_of(el: etree._Element) -> str:
    return "".join(el.itertext())


def _drop(el: etree._Element) -> None:
    """Remove an element but keep the text that follows it (lxml keeps that text on the element)."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _parse_html(document: str) -> _Page:
    # Line breaks go in front of block-level tags in the markup itself: one C-level substitution instead of a
    # Python loop over every element, which cost more than the parse on a 50 KB page.
    marked = _INLINE_TAG.sub(" <", _BLOCK_TAG.sub("\n<", document))
    try:
        root = etree.fromstring(marked.encode("utf-8", "replace"), _PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        root = None
    if root is None:
        return _parse_text(document)

    # Read what scripts and head elements say before the scripts are thrown away.
    ld_scripts = [s.text or "" for s in root.iter("script") if "ld+json" in (s.get("type") or "").lower()]
    head_bits: list[str] = []
    structured: list[tuple[str, str]] = []
    title_el = root.find(".//title")
    title = _text_of(title_el) if title_el is not None else ""
    head_bits.append(title)
    for meta in root.iter("meta"):
        key = (meta.get("name") or meta.get("property") or "").lower()
        content = meta.get("content") or ""
        if key in {"description", "og:description", "og:title", "twitter:title", "twitter:description"}:
            head_bits.append(content)
        elif key == "og:type" and "product" in content.lower():
            structured.append(("og:type product", content))
    for el in _HAS_ITEMTYPE(root):
        if re.search(r"schema\.org/Product\b", el.get("itemtype") or "", re.IGNORECASE):
            structured.append(("microdata Product", _leading_text(el, 120)))
            break

    products = _jsonld_products(ld_scripts)
    for name, _desc in products:
        structured.append(("JSON-LD Product", name or "(unnamed product)"))
    marker = _first_platform_marker(document)
    if marker:
        name = next((n for key, n in _PLATFORM_NAMES if key in marker), "shop platform")
        structured.append((f"{name} buy box", marker))

    etree.strip_elements(root, "script", "style", "noscript", "template", "svg", "iframe", "object", with_tail=False)
    # Submit buttons carry their words in an attribute ("Add to basket").
    for inp in root.iter("input"):
        if (inp.get("type") or "").lower() in {"submit", "button"} and inp.get("value"):
            inp.tail = f" {inp.get('value')}\n{inp.tail or ''}"

    h1 = " ".join(" ".join(_text_of(el).split()) for el in root.iter("h1"))
    first_title = _TITLE_SPLIT.split(" ".join(title.split()), 1)[0]

    chrome_parts: list[str] = []
    for el in _chrome_elements(root):
        chrome_parts.append(_text_of(el))
        _drop(el)

    buy_controls = _buy_controls(root)
    body = root.find("body")
    main = _text_of(body if body is not None else root)
    product_lines = [f"Product: {name}. {desc}" for name, desc in products]
    head = _normalise("\n".join(head_bits + product_lines))
    main_n = _normalise(main)
    chrome = _normalise("\n".join(chrome_parts))
    text = "\n".join(part for part in (head, main_n, chrome) if part)
    main_start = len(head) + 1 if head else 0
    chrome_start = main_start + len(main_n) + 1 if chrome else len(text)
    return _Page(
        text=text, main_start=main_start, chrome_start=min(chrome_start, len(text)),
        heading=f"{first_title}\n{h1}", products=[n for n, _ in products], structured=structured,
        buy_controls=buy_controls,
    )


def _buy_controls(root: etree._Element) -> list[tuple[str, str]]:
    """Each buy button or link outside the page chrome, with the text of the product tile it sits in."""
    found = []
    for el in _BUY_CANDIDATES(root):
        if el.tag == "a" and el.get("role") != "button" and not _link_may_buy(_text_of(el)):
            continue
        words = " ".join((el.get("value") if el.tag == "input" else _text_of(el)).split())
        if not words and el.tag in {"a", "button"}:
            words = " ".join((el.get("aria-label") or el.get("title") or "").split())
        if len(words) > 40 or not _BUY_WORDS.match(words.replace("\u00a3", "£")):
            continue
        # The tile: the nearest ancestor that looks like a product card (a category page has one per product).
        tile, up = el.getparent(), 0
        while tile is not None and up < 5 and not _TILE_CLASS.search(tile.get("class") or ""):
            tile, up = tile.getparent(), up + 1
        tile_text = _leading_text(tile, 300) if tile is not None and up < 5 else ""
        found.append((words, tile_text))
    return found


def _first_platform_marker(document: str) -> str | None:
    """The platform marker that comes first in the page (on a tie, the first listed), as a regex search would find."""
    found = [(at, i) for i, marker in enumerate(_PLATFORM_MARKUP) if (at := document.find(marker)) >= 0]
    return _PLATFORM_MARKUP[min(found)[1]] if found else None


def _link_may_buy(text: str) -> bool:
    """A link short enough to be a control, whose words say buy, order or "add to" (any case)."""
    if len(_XPATH_SPACE.sub(" ", text).strip(" ")) >= 40:
        return False
    low = text.lower()
    return any(word in low for word in _LINK_BUY_WORDS)


def _leading_text(el: etree._Element, limit: int) -> str:
    """The first `limit` characters of an element's text, whitespace collapsed, reading no more of it than needed.

    A buy button's nearest "product" ancestor can be the whole <main>: collapsing all of it to keep 300 characters
    cost most of a millisecond per page.
    """
    parts: list[str] = []
    read, check_at = 0, 4 * limit
    for piece in el.itertext():
        parts.append(piece)
        read += len(piece)
        if read >= check_at:
            # Every word but the last is followed by space in what was read, so it is whole.
            whole = " ".join("".join(parts).split()[:-1])
            if len(whole) >= limit:
                return whole[:limit]
            check_at *= 2
    return " ".join("".join(parts).split())[:limit]


def _chrome_elements(root: etree._Element) -> list[etree._Element]:
    """Outermost navigation/footer elements; never one that holds the page's h1 (that is the content)."""
    candidates = []
    for el in root.iter(*_CHROME_TAGS, "header"):
        if el.tag == "header" and any(a.tag in {"article", "main"} for a in el.iterancestors()):
            continue  # an article's own header holds its headline
        candidates.append(el)
    # XPath narrows the class/id check to a few elements in C before the exact token test in Python.
    # Attribute strings come back from XPath in one C call; only the few that look like chrome cost Python work.
    for value in _CLASS_OR_ID(root):
        if not _CHROME_HINT.search(value):
            continue
        el = value.getparent()
        if el.tag not in {"body", "html", "main", "article"} and any(_CHROME_CLASS.match(t) for t in value.split()):
            candidates.append(el)
    chosen: list[etree._Element] = []
    for el in candidates:
        if el in chosen or el.find(".//h1") is not None:
            continue
        chosen.append(el)
    chosen_set = set(chosen)
    # Only outermost ones: a menu inside a dropped header goes with it.
    return [el for el in chosen if not any(a in chosen_set for a in el.iterancestors())]

