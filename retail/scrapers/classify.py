"""Classify a shop page's age-verification wording for bladed products: strong, weak or none."""
from __future__ import annotations

import argparse
import json
import re
import sys
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

try:  # the regex parser moved in Python 3.11; it is only read, to find each rule's required literals
    from re import _constants as _sre_c
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants as _sre_c  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

from retail.scrapers import rules as R

__all__ = ["Cue", "Verdict", "classify", "main"]

# Reported evidence is capped per rule so a 500 KB category page repeating one footer notice on every product card
# still yields a readable verdict; the page-level judgement uses every match.
_MAX_CUES_PER_RULE = 3
_CONTEXT = 60  # characters of context either side of a cue
_TOPIC_WINDOW = 150  # characters either side of an age cue searched for what the cue is about



def _split_top_level(pattern: str) -> list[str]:
    """Split a regex at its top-level "|" (outside groups and character classes)."""
    parts, depth, in_class, i, start = [], 0, False, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1: i + 2] == "]":
                i += 1  # a "]" first in a class is a literal
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


_COMMON_WORDS = frozenset({
    "to", "the", "and", "for", "of", "you", "our", "not", "are", "is", "be", "in", "on", "at", "we", "age", "any",
    "all", "can", "may", "with", "will", "your", "this", "that", "from", "have", "only", "one", "out", "who", "own",
})


def _required_sets(items: Any) -> tuple[frozenset[str], ...]:
    """From a parsed regex, up to three literal sets; every match contains a member of each set."""
    candidates = _candidates(items)
    # Very short or very common literals (" to ", " the ", "with") are on every page and filter nothing.
    useful = [c for c in candidates if all(len(a.strip()) >= 3 and a.strip() not in _COMMON_WORDS for a in c)]
    # Prefer few alternatives of decent length: "verif" rules out more pages than "delivery|collection|courier".
    useful.sort(key=lambda c: (min(map(len, c)) >= 5, -len(c), min(map(len, c))), reverse=True)
    return tuple(useful[:3])


def _required_literals(items: Any) -> frozenset[str] | None:
    """From a parsed regex, one set of literals one of which any match must contain (None if none is known)."""
    useful = [c for c in _candidates(items) if min(map(len, c)) >= 3]
    return max(useful, key=lambda c: (min(map(len, c)), -len(c))) if useful else None


def _candidates(items: Any) -> list[frozenset[str]]:
    """Every literal set the parsed sequence `items` requires (each literal run, each all-alternatives set)."""
    candidates: list[frozenset[str]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            candidates.append(frozenset(["".join(run)]))
            run.clear()

    for op, av in items:
        if op is _sre_c.LITERAL:
            run.append(chr(av))
            continue
        flush()
        found = None
        if op is _sre_c.SUBPATTERN:
            found = _required_literals(av[-1])
        elif op is _sre_c.BRANCH:
            alternatives = [_required_literals(branch) for branch in av[1]]
            if all(alternatives):
                found = frozenset().union(*alternatives)
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT) and av[0] >= 1:
            found = _required_literals(av[2])
        if found:
            candidates.append(found)
    flush()
    return candidates


class _Scanner:
    """A compiled rule that finds matches fast on lower-cased text.

    Python's regex engine can jump straight to a pattern's first literal characters, but a leading \\b or
    IGNORECASE switches that off and makes every pattern walk the text one character at a time (about 40x slower
    here). So patterns run on pre-lowered text without IGNORECASE, and a leading \\b on every alternative is
    stripped and checked by hand on each candidate match instead. Patterns with a case-sensitive part
    ("(?-i:AVD)") keep IGNORECASE and run on the original text.
    """

    def __init__(self, pattern: str, analysis: dict | None = None):
        # A "(?-i:...)" part marks a case-sensitive rule (acronyms): it runs on the original text, all case-exact.
        self.on_original = "(?-i:" in pattern
        branches = _split_top_level(pattern)
        self.boundary = all(b.startswith("\\b") for b in branches)
        if self.boundary:
            pattern = "(?:" + "|".join(b[2:] for b in branches) + ")"
        self.pattern = pattern
        self._rx: re.Pattern[str] | None = None  # compiled on first use: a page lacking the anchors never needs it
        analysis = analysis or _analyse(pattern)
        # Literal sets every match must contain: when one is absent from the page, the rule cannot match and is
        # skipped after a few C-speed substring tests instead of a regex scan.
        self.anchors = [frozenset(required) for required in analysis["anchors"]]
        self.max_width = analysis["max_width"]

    @property
    def rx(self) -> re.Pattern[str]:
        if self._rx is None:
            self._rx = re.compile(self.pattern)
        return self._rx

    def windows(self, low: str, original: str, index: dict[str, list[int]]) -> list[tuple[int, int]]:
        """Stretches of text that can hold a match, or [] when a required literal is missing from the page.

        Every match contains a literal from each required set and has bounded width, so it lies within max_width
        of an occurrence of the set that is rarest on this page; on a 50 KB page this turns most rules' full scans
        into a few tiny searches, or none at all. `index` maps each literal to where it occurs (see _AnchorIndex).
        """
        text = original if self.on_original else low
        n = len(text)
        if not self.anchors:
            return [(0, n)]
        if self.on_original:
            present = all(any(a in text for a in required) for required in self.anchors)
            return [(0, n)] if present else []
        counts = [sum(len(index.get(a, ())) for a in required) for required in self.anchors]
        rarest = min(range(len(counts)), key=counts.__getitem__)
        if counts[rarest] == 0:
            return []
        reach = (self.max_width or n) + 40  # lookaheads (e.g. "not followed by 'months'") read a little further
        if counts[rarest] * 2 * reach >= n:
            return [(0, n)]  # windows would cover the page anyway
        spans = sorted((max(0, i - reach), min(n, i + len(a) + reach))
                       for a in self.anchors[rarest] for i in index.get(a, ()))
        merged: list[tuple[int, int]] = []
        for lo, hi in spans:
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
            else:
                merged.append((lo, hi))
        return merged

    def scan(self, low: str, original: str, index: dict[str, list[int]]) -> Iterator[re.Match[str]]:
        """Every match in the page, searching only where one can be."""
        last = 0
        for lo, hi in self.windows(low, original, index):
            for m in self.finditer(low, original, max(lo, last), hi):
                last = m.end()
                yield m

    def finditer(self, low: str, original: str, pos: int = 0, endpos: int | None = None) -> Iterator[re.Match[str]]:
        text = original if self.on_original else low
        end = len(text) if endpos is None else endpos
        search = self.rx.search
        while pos <= end:
            m = search(text, pos, end)
            if m is None:
                return
            st = m.start()
            if self.boundary and st > 0 and _is_word(text[st - 1]) == _is_word(text[st]):
                pos = st + 1  # no word boundary here: the original pattern would fail too, try the next position
                continue
            yield m
            pos = m.end() if m.end() > st else st + 1

    def search(self, low: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
        return next(self.finditer(low, low, pos, endpos), None)


def _analyse(pattern: str) -> dict:
    """What `_Scanner` needs to know of a pattern before searching: its required literal sets and widest match."""
    parsed = _sre_parse.parse(pattern)
    max_width = parsed.getwidth()[1]
    return {"anchors": [sorted(required) for required in _required_sets(parsed)],
            "max_width": max_width if max_width < 2000 else None}


# The analysis of every rule, kept next to this module so the command-line classifier starts without parsing ~150
# regexes (issue 13 part 7). Stale or missing (a rule was edited): worked out here instead, and
# `python -m retail.scrapers.classify --rebuild-rule-index` writes it again (a test says when it is due).
_RULE_INDEX = Path(__file__).with_name("rules_index.json")


def _scanner_patterns() -> list[str]:
    return [r.pattern for r in R.ALL_RULES] + [R.OTHER_TOPIC, _BLADE_TOPIC_PATTERN]


def _rule_index_key() -> str:
    import hashlib

    return hashlib.sha256("\n".join([R.RULES_VERSION, *_scanner_patterns()]).encode("utf-8")).hexdigest()


def _load_rule_index() -> dict[str, dict]:
    try:
        data = json.loads(_RULE_INDEX.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data.get("patterns", {}) if data.get("key") == _rule_index_key() else {}


def write_rule_index(path: Path = _RULE_INDEX) -> int:
    """Write the analysis of every rule; returns how many patterns it holds."""
    patterns = {}
    for pattern in _scanner_patterns():
        scanner = _Scanner(pattern)
        patterns[pattern] = {"anchors": [sorted(a) for a in scanner.anchors], "max_width": scanner.max_width}
    path.write_text(json.dumps({"key": _rule_index_key(), "rules_version": R.RULES_VERSION, "patterns": patterns},
                               ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    return len(patterns)


_BLADE_TOPIC_PATTERN = "|".join(b for r in R.BLADED_RULES for b in _split_top_level(r.pattern))
_INDEX = _load_rule_index()
_COMPILED: list[tuple[R.Rule, _Scanner]] = [(r, _Scanner(r.pattern, _INDEX.get(r.pattern))) for r in R.ALL_RULES]


class _AnchorIndex:
    """Finds where every rule's required literals occur, in one regex pass instead of hundreds of str.count calls.

    The literals are compiled into a trie-shaped regex inside a lookahead, so each position reports the longest
    literal starting there; every shorter literal that is a prefix of it starts there too.
    """

    # Compiling the trie costs ~30 ms: worth it for a process that classifies many pages (the monitor), not for the
    # command line's one page. Until this many characters have been indexed, each literal is found with str.find.
    TRIE_AFTER_CHARS = 200_000

    def __init__(self, literals: set[str]):
        self.literals = sorted(literals)
        self._rx: re.Pattern[str] | None = None
        self._prefixes: dict[str, list[str]] = {}
        self._seen = 0

    def _compile(self) -> None:
        # The monitor classifies in several threads: another thread may use the trie as soon as `_rx` is set, so
        # the prefix table it needs is published first (setting it after once raised KeyError mid-crawl).
        literals = set(self.literals)
        rx = re.compile("(?=(" + self._trie(self.literals) + "))")
        self._prefixes = {a: [b for b in literals if a.startswith(b)] for a in literals}
        self._rx = rx

    @staticmethod
    def _trie(words: list[str]) -> str:
        root: dict[str, Any] = {}
        for word in words:
            node = root
            for ch in word:
                node = node.setdefault(ch, {})
            node[""] = {}

        def build(node: dict[str, Any]) -> str:
            alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
            if not alts:
                return ""
            body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
            return f"(?:{body})?" if "" in node else body

        return build(root)

    def positions(self, low: str) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        if self._rx is None:
            self._seen += len(low)
            if self._seen < self.TRIE_AFTER_CHARS:
                find = low.find
                for literal in self.literals:
                    i = find(literal)
                    while i != -1:
                        found.setdefault(literal, []).append(i)
                        i = find(literal, i + 1)
                return found
            self._compile()
        prefixes = self._prefixes
        for m in self._rx.finditer(low):
            start = m.start()
            for literal in prefixes[m.group(1)]:
                found.setdefault(literal, []).append(start)
        return found


_ANCHORS = _AnchorIndex({a for _r, sc in _COMPILED if not sc.on_original for req in sc.anchors for a in req})
_OTHER_TOPIC = _Scanner(R.OTHER_TOPIC, _INDEX.get(R.OTHER_TOPIC))
_BLADE_TOPIC = _Scanner(_BLADE_TOPIC_PATTERN, _INDEX.get(_BLADE_TOPIC_PATTERN))
_BLADE_DECOY = _Scanner("|".join(
    b for r in R.DECOY_RULES if r.id in {"blade-accessory", "not-a-blade"} for b in _split_top_level(r.pattern)
))
_HEDGE = re.compile(R.HEDGE, R.FLAGS)
_TRAINER = re.compile(R.TRAINER, R.FLAGS)
_PHRASE_BREAK = re.compile(r"[(),\[\]|/]| - | with ")
_LIVE_BLADE = re.compile(R.LIVE_BLADE, R.FLAGS)
_NEGATION_PREFIX = re.compile(R.NEGATION_PREFIX, R.FLAGS)
_PROHIBITED_EXCLUSION = re.compile(R.PROHIBITED_EXCLUSION, R.FLAGS)
_ID_LEAD = re.compile(
    r"(?:\b(?:a|your|the|valid|acceptable|photo(?:graphic)?|picture|official|government[- ]issued) )+$", R.FLAGS
)
_CLAUSE_BREAK = re.compile(r"[.!?;:\n,()]| and | but | or |\bhowever\b", R.FLAGS)
_SENTENCE_BREAK = re.compile(r"[.!?;\n]")
_FOLD = (
    ("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u2032", "'"), ("\u2033", '"'),
    ("\u2013", "-"), ("\u2014", "-"), ("\u2010", "-"), ("\u2011", "-"), ("\u2212", "-"), ("\u200b", ""),
    ("\r", "\n"),
)
_LOOKS_HTML = re.compile(
    r"<(?:!doctype|html|head|body|div|p|span|script|meta|title|a|table|ul|li|h[1-6]|br|form|label|input|section)\b",
    re.IGNORECASE,
)
_TITLE_SPLIT = re.compile(r"\s(?:\||-|::|\u2013|\u2014)\s")
_URL_BLADE = re.compile(r"knife|knives|dagger|machete|axe|hatchet|cleaver|sword|razor|multi-?tool|blade", re.IGNORECASE)

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
_CLASS_OR_ID = etree.XPath("//@class | //@id")
_CHROME_HINT = re.compile(r"nav|menu|footer|header|masthead", re.IGNORECASE)
# A buy control: a button or link whose words buy the thing ("Buy £35", "Add to basket", "Order now"). Many small
# shops have no basket form and no structured data, only this (issue 13).
_BUY_CANDIDATES = etree.XPath(
    "//button | //input[@type='submit' or @type='button'] | //*[@role='button']"
    " | //a[string-length(normalize-space()) < 40][contains(translate(., 'BUYORDEATKS', 'buyordeatks'), 'buy')"
    " or contains(translate(., 'BUYORDEATKS', 'buyordeatks'), 'order')"
    " or contains(translate(., 'BUYORDEATKS', 'buyordeatks'), 'add to')]"
)
_BUY_WORDS = re.compile(
    r"^(?:buy(?: it)?(?: now)?|order(?: now| online)?|purchase|pre-?order(?: now)?|add to (?:basket|cart|bag|trolley)"
    r"|reserve (?:and|&) collect|click (?:and|&) collect)(?: (?:for |- |: )?(?:£|gbp ?)\d[\d,]*(?:\.\d\d)?)?$",
    re.IGNORECASE,
)
# Markup that shop platforms put only on a product's buy box (Shopify, WooCommerce, Magento, BigCommerce, Etsy, eBay,
# Amazon sellers). Case-sensitive literals, so the search over the raw page runs at C speed.
_PLATFORM_MARKUP = re.compile(
    r"/cart/add|product-form__|single_add_to_cart_button|add_to_cart_button|woocommerce-Price-amount"
    r"|product-addtocart-button|action tocart|form-action-addToCart|data-cart-item-add|listing-page-cart"
    r"|data-buy-box|x-bin-price|x-buybox|binBtn_btn|add-to-cart-button|buy-now-button|id=\"productTitle\""
)
_PLATFORM_NAMES = (
    ("/cart/add", "Shopify"), ("product-form__", "Shopify"), ("add_to_cart_button", "WooCommerce"),
    ("woocommerce", "WooCommerce"), ("tocart", "Magento"), ("AddToCart", "BigCommerce"),
    ("cart-item-add", "BigCommerce"), ("listing-page-cart", "Etsy"), ("buy-box", "Etsy"), ("x-bin", "eBay"),
    ("x-buybox", "eBay"), ("binBtn", "eBay"), ("add-to-cart-button", "Amazon"), ("buy-now-button", "Amazon"),
    ("productTitle", "Amazon"),
)
_TILE_CLASS = re.compile(r"product|card|tile|item|grid", re.IGNORECASE)
_WS = re.compile(r"[^\S\n]{2,}|[^\S \n]")  # single spaces, the vast majority, are left alone
_NEWLINES = re.compile(r" ?\n[ \n]*")


@dataclass(frozen=True)
class Cue:
    """One piece of evidence: the words matched, what they count as, and the text around them."""

    phrase: str
    kind: str
    context: str
    rule: str = ""  # rule id, for debugging; not part of the public dict

    def to_dict(self) -> dict[str, str]:
        return {"phrase": self.phrase, "kind": self.kind, "context": self.context}


@dataclass
class Verdict:
    """The classifier's answer for one page."""

    bladed: bool
    age_check: str  # "strong" | "weak" | "none"
    prohibited: list[str]
    cues: list[Cue]
    rules_version: str = R.RULES_VERSION
    url: str | None = None
    blade_score: float = 0.0
    sale_score: float = 0.0
    editorial: bool = False
    # s.141B conditions the strong wording covers: "A" (a check at sale), "C" (delivery into an adult's hands).
    conditions: list[str] = field(default_factory=list)
    trainers: list[str] = field(default_factory=list)  # prohibited items offered only as blunt trainers
    bladed_tiles: int = 0  # product tiles with a buy control that name a blade (category pages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bladed": self.bladed,
            "age_check": self.age_check,
            "prohibited": list(self.prohibited),
            "cues": [c.to_dict() for c in self.cues],
            "rules_version": self.rules_version,
            "conditions": list(self.conditions),
            "trainers": list(self.trainers),
            "bladed_tiles": self.bladed_tiles,
        }


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


@dataclass
class _Hit:
    rule: R.Rule
    start: int
    end: int
    kind: str = ""


# --- extraction -------------------------------------------------------------------------------------------------


def _normalise(raw: str) -> str:
    """Fold quotes and dashes, collapse whitespace inside lines, drop empty lines."""
    for old, new in _FOLD:
        if old in raw:
            raw = raw.replace(old, new)  # str.replace is far faster than str.translate on long text
    return _NEWLINES.sub("\n", _WS.sub(" ", raw)).strip()


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
    for el in root.xpath("//*[@itemtype]"):
        if re.search(r"schema\.org/Product\b", el.get("itemtype") or "", re.IGNORECASE):
            structured.append(("microdata Product", " ".join(_text_of(el).split())[:120]))
            break

    products = _jsonld_products(ld_scripts)
    for name, _desc in products:
        structured.append(("JSON-LD Product", name or "(unnamed product)"))
    platform = _PLATFORM_MARKUP.search(document)
    if platform:
        marker = platform.group(0)
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
        words = " ".join((el.get("value") if el.tag == "input" else _text_of(el)).split())
        if not words and el.tag in {"a", "button"}:
            words = " ".join((el.get("aria-label") or el.get("title") or "").split())
        if len(words) > 40 or not _BUY_WORDS.match(words.replace("\u00a3", "£")):
            continue
        # The tile: the nearest ancestor that looks like a product card (a category page has one per product).
        tile, up = el.getparent(), 0
        while tile is not None and up < 5 and not _TILE_CLASS.search(tile.get("class") or ""):
            tile, up = tile.getparent(), up + 1
        tile_text = " ".join(_text_of(tile).split())[:300] if tile is not None and up < 5 else ""
        found.append((words, tile_text))
    return found


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


# --- helpers ------------------------------------------------------------------------------------------------------


def _lower(text: str) -> str:
    """Lower-case without changing any offset (a few characters, like "İ", lower to two)."""
    low = text.lower()
    if len(low) != len(text):
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return low


def _context(text: str, start: int, end: int) -> str:
    return " ".join(text[max(0, start - _CONTEXT): end + _CONTEXT].split())


def _clause_prefix(text: str, start: int, limit: int = 40) -> str:
    """The part of the current clause just before `start` (where "no"/"may" would qualify a cue)."""
    seg = text[max(0, start - limit): start]
    ends = [m.end() for m in _CLAUSE_BREAK.finditer(seg)]
    return seg[ends[-1]:] if ends else seg


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    lo = max(0, start - 300)
    seg = text[lo:start]
    cut = max(seg.rfind(c) for c in ".!?;\n")
    s = lo + cut + 1 if cut >= 0 else lo
    m = _SENTENCE_BREAK.search(text, end, end + 300)
    return s, (m.start() if m else min(len(text), end + 300))


class _Spans:
    """Sorted, possibly overlapping spans with an overlap query; spans are short, so a bounded look-back suffices."""

    def __init__(self, spans: list[tuple[int, int]]):
        self.spans = sorted(spans)
        self.starts = [s for s, _ in self.spans]
        self.longest = max((e - s for s, e in self.spans), default=0)

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_left(self.starts, end)
        while i > 0:
            i -= 1
            s, e = self.spans[i]
            if s < start - self.longest:
                return False
            if e > start:
                return True
        return False


def _blade_nouns(text: str) -> bool:
    """Whether a short string (title, product name, URL-free) names a bladed product, not an accessory."""
    low = _lower(text)
    decoys = _Spans([m.span() for m in _BLADE_DECOY.finditer(low, low)])
    return any(not decoys.overlaps(*m.span()) for m in _BLADE_TOPIC.finditer(low, low))


# --- classification -----------------------------------------------------------------------------------------------


def _looks_like_html(document: str) -> bool:
    return bool(_LOOKS_HTML.search(document[:4000]))


def classify(document: str, url: str | None = None, *, is_html: bool | None = None) -> Verdict:
    """Classify one page (HTML or plain text): is it a bladed listing, how strong is its age check, any banned item."""
    if is_html is None:
        is_html = _looks_like_html(document)
    page = _parse_html(document) if is_html else _parse_text(document)
    text = page.text
    low = _lower(text)

    hits: dict[str, list[_Hit]] = {}
    index = _ANCHORS.positions(low)
    for rule, rx in _COMPILED:
        for m in rx.scan(low, text, index):
            hits.setdefault(rule.kind, []).append(_Hit(rule, m.start(), m.end()))
    decoys = hits.get(R.DECOY, [])
    decoy_spans = _Spans([(h.start, h.end) for h in decoys])
    cues: list[_Hit] = []

    # Sale context: each kind of signal counts once, so fifty prices do not outweigh one missing basket button.
    sale_by_rule: dict[str, _Hit] = {}
    for h in hits.get(R.SALE, []):
        if not decoy_spans.overlaps(h.start, h.end) or h.rule.id != "price":
            sale_by_rule.setdefault(h.rule.id, h)
    sale_score = sum(h.rule.weight for h in sale_by_rule.values())
    structured_sale = bool(page.structured or page.buy_controls)
    if structured_sale:
        sale_score += 1.5
    strong_sale = structured_sale or bool({"basket", "buy-now"} & sale_by_rule.keys())
    bladed_tiles = sum(1 for _words, tile in page.buy_controls if tile and _blade_nouns(tile))

    editorial_ids = {h.rule.id for h in hits.get(R.EDITORIAL, []) if h.start < page.chrome_start}
    shop_voice = sum(1 for h in hits.get(R.SHOP_VOICE, []) if h.start < page.chrome_start)
    # A page about knife law reads like one: three kinds of news or guidance vocabulary, or two where nothing at all
    # is sold and the shop never speaks of its own orders (issue 13: corpus of real news and guidance pages).
    editorial = (not strong_sale and shop_voice < 2
                 and (len(editorial_ids) >= 3 or (len(editorial_ids) >= 2 and shop_voice == 0 and sale_score == 0)))

    # Age wording: drop decoyed matches, let negations swallow what they cover, keep one cue per stretch of text.
    negations = hits.get(R.NEGATION, [])
    negation_spans = _Spans([(h.start, h.end) for h in negations])
    ranked = [(2, h) for h in hits.get(R.STRONG, [])] + [(1, h) for h in hits.get(R.WEAK, [])]
    for _rank, h in ranked:
        if h.rule.pattern.startswith(R.ID_CORE):  # give back the words the fast pattern leaves off ("photo ID")
            lead = _ID_LEAD.search(text, max(0, h.start - 40), h.start)
            if lead:
                h.start = lead.start()
    ranked.sort(key=lambda p: (-p[0], p[1].start, p[1].start - p[1].end))
    taken: list[tuple[int, int]] = []
    age_hits: list[_Hit] = []
    for rank, h in ranked:
        if decoy_spans.overlaps(h.start, h.end) or negation_spans.overlaps(h.start, h.end):
            continue
        if any(s < h.end and h.start < e for s, e in taken):
            continue
        taken.append((h.start, h.end))
        prefix = _clause_prefix(text, h.start)
        if h.rule.id not in R.NEGATION_IMMUNE and _NEGATION_PREFIX.search(prefix):
            h.kind = R.NEGATION
        elif rank == 2 and _HEDGE.search(prefix + " " + text[h.start:h.end]):
            h.kind = R.WEAK  # a check that "may" happen is a possibility, not a system
        else:
            h.kind = R.STRONG if rank == 2 else R.WEAK
        age_hits.append(h)
    for h in negations:
        h.kind = R.NEGATION

    # Sentences that state age policy name knives without offering one ("we will not sell knives to under-18s").
    policy_sentences = _Spans([_sentence(text, h.start, h.end) for h in age_hits + negations])

    blade_score = 0.0
    for h in hits.get(R.BLADED, []):
        if not (page.main_start <= h.start < page.chrome_start):
            continue
        if decoy_spans.overlaps(h.start, h.end) or policy_sentences.overlaps(h.start, h.end):
            continue
        blade_score += h.rule.weight
        h.kind = R.BLADED
        cues.append(h)
    if _blade_nouns(page.heading):
        blade_score += 2.0
    if any(_blade_nouns(name) for name in page.products):
        blade_score += 2.0
    if url and _URL_BLADE.search(urlsplit(url).path):
        blade_score += 1.0
    bladed = blade_score >= 1.0 and sale_score >= 1.0 and (strong_sale or not editorial)
    # A page whose product is a blunt trainer ("Butterfly knife trainer, no edge") sells no blade, unless it also
    # says the edge is live.
    main_text = text[page.main_start:page.chrome_start]
    live_blade = bool(_LIVE_BLADE.search(main_text))
    trainer_page = any(_TRAINER.search(_PHRASE_BREAK.split(line)[0]) for line in page.heading.split("\n")) \
        and not live_blade
    if trainer_page and bladed_tiles == 0:
        bladed = False

    # Scope: age wording about alcohol, vapes or events says nothing about knives.
    page_topics: list[bool] = []  # [has blades, has other restricted products], worked out only if needed

    def page_is_about_other_products() -> bool:
        if not page_topics:
            page_topics.append(blade_score > 0 or bool(_BLADE_TOPIC.search(low, page.main_start, page.chrome_start)))
            page_topics.append(bool(_OTHER_TOPIC.search(low, page.main_start, page.chrome_start)))
        return page_topics[1] and not page_topics[0]

    # A page selling something with no blade anywhere in it (a wine, a vape kit, a massager): its age wording is about
    # that product, not about knives (issue 13: corpus of other age-restricted shops).
    sells_something_else = (strong_sale and blade_score == 0 and bladed_tiles == 0
                            and _BLADE_TOPIC.search(low, page.main_start, page.chrome_start) is None)
    for h in age_hits:
        if h.kind not in (R.STRONG, R.WEAK):
            continue
        lo, hi = max(0, h.start - _TOPIC_WINDOW), min(len(low), h.end + _TOPIC_WINDOW)
        blade_near = _BLADE_TOPIC.search(low, lo, hi) is not None
        other_near = _OTHER_TOPIC.search(low, lo, hi) is not None
        about_other = not blade_near and (other_near or page_is_about_other_products() or sells_something_else)
        # A news story describing the law is not the shop's own check; nor is a wine shop's Challenge 25.
        if (editorial and not bladed) or about_other:
            h.kind = R.OUT_OF_SCOPE
    cues.extend(age_hits)
    cues.extend(negations)

    kinds = {h.kind for h in age_hits}
    age_check = "strong" if R.STRONG in kinds else "weak" if R.WEAK in kinds else "none"
    conditions = sorted({"C" if h.rule.id in R.CONDITION_C_RULES else "A" for h in age_hits if h.kind == R.STRONG})

    # Prohibited items are reported only where something is for sale and the shop is not disowning them.
    # Whatever the age wording: offering one is the offence (brief 1.4), so it is reported first.
    prohibited: list[str] = []
    trainers: list[str] = []
    for h in hits.get(R.PROHIBITED, []):
        s_lo, s_hi = _sentence(text, h.start, h.end)
        around = text[max(s_lo, h.start - 60):h.start] + " " + text[h.end:min(s_hi, h.end + 40)]
        if (sale_score >= 1.0 or bladed) and not editorial and not _PROHIBITED_EXCLUSION.search(around):
            label = h.rule.label or h.rule.id
            # The trainer word must sit right against the name, in the same bracket-free phrase.
            near = (_PHRASE_BREAK.split(text[max(s_lo, h.start - 20):h.start])[-1] + " "
                    + _PHRASE_BREAK.split(text[h.end:min(s_hi, h.end + 14)])[0])
            if (trainer_page or _TRAINER.search(near)) and not _LIVE_BLADE.search(text[s_lo:s_hi]):
                h.kind = R.TRAINER_KIND
                if label not in trainers:
                    trainers.append(label)
            else:
                h.kind = R.PROHIBITED
                if label not in prohibited:
                    prohibited.append(label)
        else:
            h.kind = R.OUT_OF_SCOPE
        cues.append(h)
    # A trainer named next to the same item as a live one is the live one's accessory, not a second finding.
    trainers = [t for t in trainers if t not in prohibited]

    for h in decoys:
        h.kind = R.DECOY
        cues.append(h)
    for h in sale_by_rule.values():
        h.kind = R.SALE
        cues.append(h)

    structured = page.structured + [("buy control", words) for words, _tile in page.buy_controls[:1]]
    return Verdict(
        bladed=bladed, age_check=age_check, prohibited=prohibited,
        cues=_report(text, cues, structured), url=url,
        blade_score=blade_score, sale_score=sale_score, editorial=editorial,
        conditions=conditions, trainers=trainers, bladed_tiles=bladed_tiles,
    )


def _report(text: str, hits: list[_Hit], structured: list[tuple[str, str]]) -> list[Cue]:
    """Evidence in page order, at most a few per rule, machine-readable sale signals first."""
    out = [Cue(phrase=p, kind=R.SALE, context=" ".join(c.split())[:2 * _CONTEXT], rule="structured")
           for p, c in structured[:_MAX_CUES_PER_RULE]]
    per_rule: dict[tuple[str, str], int] = {}
    for h in sorted(hits, key=lambda h: h.start):
        key = (h.rule.id, h.kind)
        if per_rule.get(key, 0) >= _MAX_CUES_PER_RULE:
            continue
        per_rule[key] = per_rule.get(key, 0) + 1
        out.append(Cue(" ".join(text[h.start:h.end].split()), h.kind, _context(text, h.start, h.end), h.rule.id))
    return out


# --- command line -------------------------------------------------------------------------------------------------


class _Unreadable(Exception):
    pass


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def _check_textual(text: str) -> str:
    """Reject decoded bytes that are mostly control characters: an image or archive, not a page."""
    sample = text[:8192]
    if sample and len(_CONTROL.findall(sample)) > len(sample) // 20:
        raise _Unreadable("input looks binary (too many control characters)")
    return text


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise _Unreadable("input looks binary (contains NUL bytes)")
    try:
        return _check_textual(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    try:
        return _check_textual(data.decode("cp1252"))
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps every byte, so this is the last resort.
        text = data.decode("latin-1")
    return _check_textual(text)


def _read(path: str) -> str:
    if path == "-":
        return _decode(sys.stdin.buffer.read())
    p = Path(path)
    if p.is_dir():
        raise _Unreadable(f"{path}: is a directory")
    try:
        return _decode(p.read_bytes())
    except OSError as exc:
        raise _Unreadable(f"{path}: {exc.strerror or exc}") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m retail.scrapers.classify",
        description="Classify a page's age-verification wording; prints one JSON verdict.",
    )
    parser.add_argument("path", nargs="?", default="-", help="HTML or text file; '-' or omitted reads stdin")
    parser.add_argument("--url", help="the page's address (a hint for product pages)")
    parser.add_argument("--rebuild-rule-index", action="store_true",
                        help="after editing rules.py: rewrite rules_index.json (what makes start-up fast)")
    args = parser.parse_args(argv)
    if args.rebuild_rule_index:
        print(f"wrote {write_rule_index()} patterns to {_RULE_INDEX}")
        return 0
    try:
        document = _read(args.path)
    except _Unreadable as exc:
        print(f"classify: cannot read input: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(classify(document, args.url).to_dict(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
