"""The classifier against the labelled corpus of real-world wording (issue 13 part 4 and 'Done when'): at least 300
passages from shop policy and delivery pages, shop and marketplace listings, other age-restricted shops and pages
about knives, each labelled with the officer's verdict under s.141B and why (domain brief 1.2 for the conditions,
1.3 for delivery, 6 for the wording patterns and the pitfalls). The verdict must match the label exactly (strict) on
at least 95% of them, and pages that sell no blade must be judged not bladed at least 90% of the time."""
import collections

from retail.scrapers.classify import classify
from tests.scrapers import corpus

REQUIRED_KEYS = {"id", "text", "page", "product", "title", "age_check", "conditions", "bladed", "why", "source"}


def test_the_corpus_is_real_world_wording_labelled_with_reasons():
    items = corpus.load()
    assert len(items) >= 300
    assert len({item["id"] for item in items}) == len(items)
    for item in items:
        assert set(item) == REQUIRED_KEYS, item["id"]
        assert item["page"] in corpus.PAGE_KINDS and item["age_check"] in ("strong", "weak", "none"), item["id"]
        assert item["why"].strip() and item["source"].strip(), item["id"]
        assert (item["conditions"] != []) == (item["age_check"] == "strong"), item["id"]
        assert set(item["conditions"]) <= {"A", "C"}, item["id"]
    labels = collections.Counter(item["age_check"] for item in items)
    assert min(labels.values()) >= 50, labels  # every verdict is exercised, not just "none"
    # Most passages come from a named real page; "composed" ones follow the patterns seen and are a small share.
    assert sum(item["source"] == "composed" for item in items) <= 0.15 * len(items)
    # The hard negatives the issue names are there.
    text = " ".join(item["text"].lower() for item in items if item["age_check"] == "none")
    for trap in ("wine", "vape", "lottery", "ticket", "18 months", "18cm", "18/10"):
        assert trap in text, trap
    pages = collections.Counter(item["page"] for item in items)
    assert pages["editorial"] >= 30 and pages["other-shop"] >= 30


def test_the_classifier_matches_the_officers_verdict_on_at_least_95_percent_strict():
    result = corpus.evaluate(classify)
    misses = [f"{w['id']}: labelled {w['label']}, got {w['got']}" for w in result.wrong if w["label"] != w["got"]]
    assert result.age_accuracy >= 0.95, misses
    # Brief 6: guidance pages, news and other shops' pages are not listings at all.
    assert result.not_bladed_rate >= 0.90, [w["id"] for w in result.wrong if w["bladed"]]
