"""Benchmark the wording classifier on generated 50 KB and 500 KB product pages; prints median times."""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retail.scrapers.classify import classify

TARGET_50KB_MS = 20.0

_HEAD = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<title>{name} | Northern Blades</title>
<meta name="description" content="Buy the {name} from Northern Blades. Free UK delivery over £50.">
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"Product","name":"{name}",
"offers":{{"@type":"Offer","price":"{price}","priceCurrency":"GBP"}}}}</script>
<script>window.dataLayer = window.dataLayer || []; dataLayer.push({{"event": "view_item", "value": {price}}});</script>
<style>.product{{display:grid}} .review{{margin:1em 0}} .spec td{{padding:4px}}</style>
</head><body>
<header class="site-header"><nav class="main-nav"><ul><li><a href="/kitchen-knives">Kitchen knives</a></li>
<li><a href="/pocket-knives">Pocket knives</a></li><li><a href="/axes">Axes</a></li>
<li><a href="/sharpening">Sharpening</a></li><li><a href="/sale">Sale</a></li></ul></nav></header>
<main class="product">
<ol class="breadcrumb"><li><a href="/">Home</a></li><li><a href="/kitchen-knives">Kitchen knives</a></li></ol>
<h1>{name}</h1><p class="price">£{price}</p><p class="stock">In stock</p>
<form><label for="qty">Quantity</label><input id="qty" value="1"><button>Add to basket</button></form>
<div class="age-note"><p>This is an age-restricted product. We use Yoti to verify your age at checkout, and our courier
will ask for photo ID on delivery. Parcels will not be left with a neighbour.</p></div>
"""
_FOOT = """</main><footer class="site-footer"><p>Northern Blades Ltd, VAT No. GB 318 1800 21.</p>
<a href="/delivery">Delivery</a> <a href="/terms">Terms</a> <a href="/privacy">Privacy</a></footer></body></html>"""

_NAMES = ["Wüsthof Classic Chef's Knife 20cm", "Opinel No.8 Carbon", "Victorinox Fibrox Bread Knife",
          "Global G-2 Cook's Knife", "Morakniv Garberg", "Gränsfors Small Forest Axe", "Tojiro DP Gyuto 21cm"]
_ADJ = ["sharp", "well balanced", "comfortable", "heavy", "light", "beautifully finished", "good value", "superb"]
_REVIEW = ["Arrived quickly and well packaged.", "The driver checked my ID at the door.", "Holds an edge for months.",
           "A bit pricey but worth it.", "Bought as a gift for my dad, he loves it.", "The 18cm blade is ideal.",
           "Comes with 18 months warranty which is reassuring.", "Handle is grippy even when wet."]


def _block(rng: random.Random, i: int) -> str:
    """One repeating chunk of a long product page: a review, a spec table row set, or a related-product card."""
    kind = i % 3
    if kind == 0:
        text = " ".join(rng.choice(_REVIEW) for _ in range(4))
        return (f'<div class="review"><h3>{rng.choice(_ADJ).capitalize()} knife</h3>'
                f'<p class="stars">{rng.randint(3, 5)} out of 5</p><p>{text} Really {rng.choice(_ADJ)}.</p>'
                f'<p class="by">Verified buyer, {rng.randint(1, 28)} March</p></div>\n')
    if kind == 1:
        units = ["mm", "g", "HRC", "cm"]
        rows = "".join(f"<tr><th>Spec {i}-{j}</th><td>{rng.randint(10, 999)} {rng.choice(units)}</td></tr>"
                       for j in range(5))
        return f'<table class="spec">{rows}</table>\n'
    name = rng.choice(_NAMES)
    return (f'<div class="card"><a href="/p/{i}"><img alt="{name}" src="/img/{i}.jpg">{name}</a>'
            f'<span class="price">£{rng.randint(10, 200)}.{rng.randint(0, 99):02d}</span>'
            f"<button>Add to basket</button></div>\n")


def make_page(size: int, seed: int = 1) -> str:
    """A deterministic product page of about `size` characters."""
    rng = random.Random(seed)
    parts = [_HEAD.format(name=_NAMES[0], price="119.00")]
    length = len(parts[0]) + len(_FOOT)
    i = 0
    while length < size:
        block = _block(rng, i)
        parts.append(block)
        length += len(block)
        i += 1
    parts.append(_FOOT)
    return "".join(parts)


def median_ms(document: str, runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds per classification.

    CPU time is reported too because a shared machine's wall-clock time mostly measures the neighbours.
    """
    classify(document)  # warm-up: first call pays for lazy imports and caches
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        classify(document)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def raw_parse_ms(document: str, runs: int) -> float:
    """Median CPU ms of the floor the issue measures against: an lxml parse and its text, nothing else."""
    import lxml.html

    times = []
    for _ in range(runs):
        started = time.process_time()
        lxml.html.fromstring(document).text_content()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def cli_start_ms(runs: int = 7) -> float:
    """Median wall-clock ms of `python -m retail.scrapers.classify` on a small page, start to exit."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    page = root / "tests" / "scrapers" / "fixtures" / "classify" / "axe_agechecked_cancel.html"
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "retail.scrapers.classify", str(page)], cwd=root, check=True,
                       stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=25, help="timed runs per size (default 25)")
    args = parser.parse_args(argv)
    print(f"{'page':>8} {'bytes':>9} {'median ms':>10} {'cpu ms':>8} {'lxml ms':>8} {'ratio':>6} {'runs':>5}")
    ok = True
    for label, size in (("50 KB", 50_000), ("500 KB", 500_000)):
        page = make_page(size)
        verdict = classify(page)
        assert verdict.bladed and verdict.age_check == "strong", verdict.to_dict()  # the bench page must be realistic
        ms, cpu_ms = median_ms(page, args.runs)
        raw = raw_parse_ms(page, args.runs)
        print(f"{label:>8} {len(page.encode()):>9} {ms:>10.2f} {cpu_ms:>8.2f} {raw:>8.2f} {cpu_ms / raw:>5.1f}x"
              f" {args.runs:>5}")
        if size == 50_000 and cpu_ms >= TARGET_50KB_MS:
            ok = False
    # Judged on CPU time: on a busy shared machine the wall-clock median includes time spent waiting for a core.
    print(f"target: 50 KB median CPU time under {TARGET_50KB_MS:.0f} ms -> {'met' if ok else 'MISSED'}; "
          "issue 13 asks for at most 2.5x the lxml parse")
    start = cli_start_ms()
    print(f"command-line classifier, start to exit on a small page: {start:.0f} ms (target < 300 ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
