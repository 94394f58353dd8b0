"""Fast rule matching: the wording rules compiled into scanners that skip what a page cannot match, and their index."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

try:  # the regex parser moved in Python 3.11; it is only read, to find each rule's required literals
    from re import _constants as _sre_c
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants as _sre_c  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

from retail.scrapers import rules as R


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
