"""Classify a shop page's age-verification wording for bladed products: strong, weak or none.

This module holds the verdict: `classify()`, `Verdict`, `Cue` and the page-level judgement, and the command line
(`python -m retail.scrapers.classify PAGE.html`). Its parts live in sibling modules, which never import this one:

- `rule_matching`: the rules compiled into fast scanners (`_Scanner`, `_AnchorIndex`, `_COMPILED`, `_ANCHORS`, the
  topic scanners) and the rule index `rules_index.json` (`write_rule_index`, `--rebuild-rule-index`);
- `page_reading`: reading HTML or plain text into a `_Page` (text, main and chrome offsets, JSON-LD products, buy
  controls).

Names tests and tools reach through this module (`_parse_html`, `_COMPILED`, `_ANCHORS`, `_INDEX`, `_analyse`,
`_AnchorIndex`) are imported here from those modules.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from retail.scrapers import rules as R
from retail.scrapers.page_reading import _parse_html, _parse_text
from retail.scrapers.rule_matching import (
    _BLADE_DECOY,
    _BLADE_TOPIC,
    _OTHER_TOPIC,
    _RULE_INDEX,
    scan_rules,
    write_rule_index,
)
from retail.scrapers.rule_matching import (  # noqa: F401  (re-exported for tests)
    _ANCHORS, _COMPILED, _INDEX, _PREFILTER, _AnchorIndex, _analyse,
)

__all__ = ["Cue", "Verdict", "classify", "main"]

# Reported evidence is capped per rule so a 500 KB category page repeating one footer notice on every product card
# still yields a readable verdict; the page-level judgement uses every match.
_MAX_CUES_PER_RULE = 3
_CONTEXT = 60  # characters of context either side of a cue
_TOPIC_WINDOW = 150  # characters either side of an age cue searched for what the cue is about

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
_LOOKS_HTML = re.compile(
    r"<(?:!doctype|html|head|body|div|p|span|script|meta|title|a|table|ul|li|h[1-6]|br|form|label|input|section)\b",
    re.IGNORECASE,
)
_URL_BLADE = re.compile(r"knife|knives|dagger|machete|axe|hatchet|cleaver|sword|razor|multi-?tool|blade", re.IGNORECASE)


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
class _Hit:
    rule: R.Rule
    start: int
    end: int
    kind: str = ""




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
    for rule, m in scan_rules(low, text):
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
    # The live-blade search reads the whole main text (most of a millisecond on 50 KB): only when a trainer is named.
    trainer_page = (any(_TRAINER.search(_PHRASE_BREAK.split(line)[0]) for line in page.heading.split("\n"))
                    and not _LIVE_BLADE.search(text, page.main_start, page.chrome_start))
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
