"""The labelled corpus of real-world wording (issue 13 part 4): passages from shop policy and delivery pages,
marketplace and shop listings, other age-restricted shops and pages about knives, each with the verdict an officer
gives it under s.141B (brief 1.2 and 6) and why. Each passage is a close paraphrase of the page named in `source`
(or "composed" on the patterns seen), placed on the kind of page it came from.

`evaluate()` is shared by the accuracy test and `bench/bench_corpus.py`.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
FILES = ("strong.jsonl", "weak_none.jsonl", "negatives.jsonl", "heldout.jsonl")
PAGE_KINDS = ("listing", "policy", "other-shop", "editorial")


def load_file(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load() -> list[dict]:
    return [item for name in FILES for item in load_file(HERE / name)]


def page_for(item: dict) -> str:
    """The passage on the kind of page it came from."""
    text = html.escape(item["text"])
    kind = item["page"]
    if kind in ("listing", "other-shop"):
        product = html.escape(item["product"] or "Product")
        return f"""<!doctype html><html><head><title>{product} | Shop</title></head><body>
<nav><a href="/">Home</a> <a href="/delivery">Delivery</a></nav>
<main><h1>{product}</h1><p class="price">&pound;24.99</p><p>In stock.</p>
<form action="/basket" method="post"><button>Add to basket</button></form>
<div class="description"><p>{text}</p></div></main></body></html>"""
    title = html.escape(item["title"] or "Information")
    if kind == "editorial":
        return f"""<!doctype html><html><head><title>{title}</title></head><body>
<header><a href="/">News</a></header><article><h1>{title}</h1><p class="byline">By our reporter</p>
<p>{text}</p></article></body></html>"""
    return f"""<!doctype html><html><head><title>{title}</title></head><body>
<nav><a href="/">Home</a></nav><main><h1>{title}</h1><p>{text}</p></main></body></html>"""


@dataclass
class Result:
    items: int = 0
    age_right: int = 0
    not_selling: int = 0
    not_selling_right: int = 0
    strong: int = 0
    conditions_right: int = 0
    wrong: list[dict] = field(default_factory=list)

    @property
    def age_accuracy(self) -> float:
        return self.age_right / self.items if self.items else 0.0

    @property
    def not_bladed_rate(self) -> float:
        return self.not_selling_right / self.not_selling if self.not_selling else 0.0

    @property
    def conditions_accuracy(self) -> float:
        return self.conditions_right / self.strong if self.strong else 0.0


def evaluate(classify, items: list[dict] | None = None) -> Result:
    """Strict accuracy: the age verdict must be the label exactly (strong, weak or none)."""
    result = Result()
    for item in items if items is not None else load():
        verdict = classify(page_for(item))
        result.items += 1
        age_ok = verdict.age_check == item["age_check"]
        result.age_right += age_ok
        if item["page"] != "listing":
            result.not_selling += 1
            result.not_selling_right += not verdict.bladed
        if item["age_check"] == "strong" and age_ok:
            result.strong += 1
            result.conditions_right += sorted(verdict.conditions or []) == sorted(item["conditions"])
        elif item["age_check"] == "strong":
            result.strong += 1
        if not age_ok or (item["page"] != "listing" and verdict.bladed):
            result.wrong.append({"id": item["id"], "label": item["age_check"], "got": verdict.age_check,
                                 "bladed": verdict.bladed, "page": item["page"], "text": item["text"],
                                 "why": item["why"]})
    return result
