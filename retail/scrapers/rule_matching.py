"""Fast rule matching: the wording rules compiled into scanners that skip what a page cannot match, and their index."""
from __future__ import annotations

import codecs
import json
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

try:  # the regex parser moved in Python 3.11; it is only read, to find each rule's required literals
    from re import _constants as _sre_c
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants as _sre_c  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

from retail.scrapers import rules as R

log = logging.getLogger(__name__)


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

    def windows_ending_at(self, ends: Iterable[int], n: int) -> list[tuple[int, int]]:
        """Stretches of text that hold every match, given where matches of a looser pattern end (_Prefilter):
        each match starts at most max_width before its end; lookarounds read a little either side."""
        reach = (self.max_width or n) + 40
        merged: list[tuple[int, int]] = []
        for end in sorted(ends):
            lo, hi = max(0, end - reach), min(n, end + 40)
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
            else:
                merged.append((lo, hi))
        return merged

    def scan(self, low: str, original: str, index: dict[str, list[int]],
             windows: list[tuple[int, int]] | None = None) -> Iterator[re.Match[str]]:
        """Every match in the page, searching only where one can be (`windows`, or those the anchor index gives)."""
        last = 0
        for lo, hi in self.windows(low, original, index) if windows is None else windows:
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


class _ShadowTable(dict):
    """str.translate table for _ascii_shadow: each non-ASCII character becomes one ASCII character of the same class
    for Python's regex (a decimal digit, another letter or digit, a space, anything else), so offsets, \\b, \\w,
    \\d and \\s agree between the text and its shadow."""

    def __missing__(self, code: int) -> int | str:
        if code < 128:
            value: int | str = code
        else:
            ch = chr(code)
            value = "0" if ch.isdecimal() else "x" if ch.isalnum() else " " if ch.isspace() else "\x01"
        self[code] = value
        return value


_SHADOW = _ShadowTable()
# A non-ASCII character in a negated class would exclude only its shadow's class member: too strict to prefilter.
_NEGATED_CLASS_NON_ASCII = re.compile(r"\[\^(?:\\.|[^\]])*[^\x00-\x7f]")


def _shadow_run(error: UnicodeEncodeError) -> tuple[str, int]:
    """Encoding error handler: a run of non-ASCII characters becomes its shadow (one character each)."""
    return "".join(_SHADOW[ord(c)] for c in error.object[error.start:error.end]), error.end


codecs.register_error("retail-ascii-shadow", _shadow_run)


def _ascii_shadow(low: str) -> bytes:
    # The encoder runs in C and calls back only for each run of non-ASCII characters (a "£", an "é"): on a 50 KB
    # page, a tenth of the time of str.translate.
    return low.encode("ascii", "retail-ascii-shadow")


def _shadow_pattern(pattern: str) -> str:
    return "".join(c if ord(c) < 128 else f"\\x{ord(_SHADOW[ord(c)]):02x}" for c in pattern)


hyperscan: Any = None  # Intel's multi-pattern regex engine, imported when the prefilter is first compiled


class _Prefilter:
    """Every rule's pattern in one Hyperscan database, run once over the page in C.

    Compiled with HS_FLAG_PREFILTER, Hyperscan matches a looser version of each pattern (lookarounds and bounded
    repeats it cannot take are relaxed) and reports the end of every match, so a rule with no report cannot match
    and is skipped, and one with reports is searched by Python's regex only just before each end. On a page that
    repeats "knife" and "blade" hundreds of times, the anchor index sent six rules to every repeat; this sends each
    rule only where it matches. Hyperscan reads bytes, ASCII-wise: the page is scanned as its ASCII shadow (same
    length, same character classes, _ShadowTable), so every Python match is also a prefilter match.

    Compiling takes about a second: worth it for a process that classifies many pages (the monitor), not for the
    command line's one page. Until COMPILE_AFTER_CHARS characters have been classified, the anchor index is used.
    """

    COMPILE_AFTER_CHARS = 200_000

    def __init__(self, scanners: list[_Scanner]):
        self._scanners = scanners
        self._db: Any = None
        self.covered: frozenset[int] = frozenset()  # indexes into `scanners` that the database holds
        self._seen = 0
        self._lock = threading.Lock()
        self._local = threading.local()  # a Hyperscan scratch space is per thread
        self._unavailable = False

    def ready(self, low: str) -> bool:
        if self._db is not None:
            return True
        self._seen += len(low)
        if self._seen < self.COMPILE_AFTER_CHARS or self._unavailable:
            return False
        with self._lock:
            if self._db is None and not self._unavailable:
                try:
                    self._compile()
                except Exception:  # noqa: BLE001 - a crawl must go on: the anchor index finds the same matches
                    log.exception("the rules' Hyperscan prefilter did not compile; classifying without it")
                    self._unavailable = True
        return self._db is not None

    def _compile(self) -> None:
        global hyperscan
        try:  # imported here, not at the top: the command line classifies one page and never compiles
            import hyperscan
        except ImportError:  # pragma: no cover - it is in requirements.txt; without it the anchor index does the work
            self._unavailable = True
            return
        wanted = {i: _shadow_pattern(sc.pattern).encode("ascii") for i, sc in enumerate(self._scanners)
                  if not sc.on_original and not _NEGATED_CLASS_NON_ASCII.search(sc.pattern)}
        try:
            db = self._database(wanted)
        except hyperscan.error:  # one pattern it cannot take: find which, and leave those to the anchor index
            wanted = {i: p for i, p in wanted.items() if self._compiles(i, p)}
            db = self._database(wanted)
        self.covered = frozenset(wanted)
        self._db = db  # published last: another thread that sees it also sees `covered`

    @staticmethod
    def _database(patterns: dict[int, bytes]) -> Any:
        db = hyperscan.Database()
        flags = hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_ALLOWEMPTY
        db.compile(expressions=list(patterns.values()), ids=list(patterns), elements=len(patterns),
                   flags=[flags] * len(patterns))
        return db

    def _compiles(self, index: int, pattern: bytes) -> bool:
        try:
            self._database({index: pattern})
        except hyperscan.error:
            return False
        return True

    def ends(self, low: str) -> dict[int, list[int]]:
        """Scanner index -> the ends of its prefilter matches, ascending (only for indexes in `covered`)."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None or self._local.db is not self._db:
            scratch = self._local.scratch = hyperscan.Scratch(self._db)
            self._local.db = self._db
        found: dict[int, list[int]] = {}

        def on_match(index: int, _start: int, end: int, _flags: int, _context: Any) -> None:
            found.setdefault(index, []).append(end)

        self._db.scan(_ascii_shadow(low), match_event_handler=on_match, scratch=scratch)
        return found


_PREFILTER = _Prefilter([sc for _r, sc in _COMPILED])


def scan_rules(low: str, original: str) -> Iterator[tuple[R.Rule, re.Match[str]]]:
    """Every match of every rule on a page (`low` is `original` lower-cased, same offsets), in rule order."""
    ends = _PREFILTER.ends(low) if _PREFILTER.ready(low) else None
    covered = _PREFILTER.covered if ends is not None else frozenset()
    index: dict[str, list[int]] | None = None
    for i, (rule, scanner) in enumerate(_COMPILED):
        if i in covered:
            hits = ends.get(i)  # type: ignore[union-attr]
            if hits:
                yield from ((rule, m) for m in scanner.scan(low, original, {},
                                                           scanner.windows_ending_at(hits, len(low))))
            continue
        if index is None and not scanner.on_original:
            index = _ANCHORS.positions(low)
        yield from ((rule, m) for m in scanner.scan(low, original, index or {}))
