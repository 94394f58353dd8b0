"""The classifier's accuracy on the labelled corpus of real-world wording (issue 13 part 4): strict accuracy of the
age verdict, the confusion matrix, the s.141B conditions of the strong verdicts, and how often pages that sell no
blade are judged not bladed. Run: python bench/bench_corpus.py [--wrong]"""
from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retail.scrapers.classify import classify  # noqa: E402
from tests.scrapers import corpus  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wrong", action="store_true", help="list the passages the classifier gets wrong")
    parser.add_argument("--file", help="a JSONL file of passages to judge instead of the corpus (e.g. a held-out set)")
    args = parser.parse_args()
    items = corpus.load() if not args.file else corpus.load_file(Path(args.file))
    started = time.perf_counter()
    result = corpus.evaluate(classify, items)
    elapsed = time.perf_counter() - started
    confusion = collections.Counter()
    wrong = {w["id"]: w["got"] for w in result.wrong}
    for item in items:
        confusion[(item["age_check"], wrong.get(item["id"], item["age_check"]))] += 1
    labels = collections.Counter(item["age_check"] for item in items)
    print(f"passages: {result.items} ({', '.join(f'{k} {v}' for k, v in labels.items())})")
    print(f"age verdict, strict: {result.age_accuracy:.1%} ({result.age_right}/{result.items})")
    print(f"s.141B conditions of correctly strong verdicts: {result.conditions_accuracy:.1%}")
    print(f"pages selling no blade judged not bladed: {result.not_bladed_rate:.1%} "
          f"({result.not_selling_right}/{result.not_selling})")
    print("confusion (label -> verdict):")
    for label in ("strong", "weak", "none"):
        row = "  ".join(f"{got}: {confusion[(label, got)]:3d}" for got in ("strong", "weak", "none"))
        print(f"  {label:6s} -> {row}")
    print(f"classified in {elapsed:.2f} s ({elapsed / max(1, result.items) * 1000:.1f} ms a page)")
    if args.wrong:
        for w in result.wrong:
            print(f"- {w['id']} ({w['page']}): labelled {w['label']}, got {w['got']}"
                  f"{', bladed' if w['bladed'] and w['page'] != 'listing' else ''}: {w['text'][:160]}")


if __name__ == "__main__":
    main()
