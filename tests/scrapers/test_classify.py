"""Tests for the age-verification wording classifier: fixture corpus, wording traps, evidence and the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from retail.scrapers import rules
from retail.scrapers.classify import Cue, Verdict, classify

FIXTURES = Path(__file__).parent / "fixtures" / "classify"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
REPO = Path(__file__).resolve().parents[2]


def knife_page(notice: str, *, product: str = "Opinel No.8 Folding Knife") -> str:
    """A plain knife product page with `notice` as its only age-related wording."""
    return f"""<html><head><title>{product} | Test Knife Shop</title></head><body>
    <h1>{product}</h1><p class="price">£14.95</p><p>In stock</p><button>Add to basket</button>
    <p>Carbon steel 8.5cm blade, beech handle.</p>
    <div class="notice"><p>{notice}</p></div></body></html>"""


def plain_page(body: str, title: str = "Information") -> str:
    """A page with no products on it (policy, terms, news)."""
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{body}</p></body></html>"


# --- fixture corpus ---------------------------------------------------------------------------------------------


def test_every_fixture_has_an_expectation_and_the_corpus_is_big_enough():
    files = {p.name for p in FIXTURES.iterdir() if p.suffix in {".html", ".txt"}}
    assert files == set(EXPECTED)
    assert len(files) >= 30
    # The corpus must exercise every outcome, or the parametrised test below proves little.
    assert {e["age_check"] for e in EXPECTED.values()} == {"strong", "weak", "none"}
    assert {e["bladed"] for e in EXPECTED.values()} == {True, False}
    assert any(e["prohibited"] for e in EXPECTED.values())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_verdict(name):
    verdict = classify((FIXTURES / name).read_text(encoding="utf-8"))
    got = {"bladed": verdict.bladed, "age_check": verdict.age_check, "prohibited": verdict.prohibited}
    assert got == EXPECTED[name], [c.to_dict() for c in verdict.cues]


# --- real-world wording -----------------------------------------------------------------------------------------

STRONG_WORDING = [
    "We use Yoti to verify your age.",
    "Age verification is carried out by AgeChecked at checkout.",
    "Our courier will ask for photo ID (passport or driving licence) on delivery.",
    "All knives are sent with DPD Age Verified delivery.",
    "Proof of age will be required on collection.",
    "Orders will be cancelled if your age cannot be verified.",
    "Your parcel will not be left in a safe place or with a neighbour.",
    "We check your age with VerifyMyAge before dispatch.",
    "Age checks are provided by Experian when you place your order.",
    "Photo ID is required on delivery.",
    "The driver will ask the recipient to show valid photo ID.",
    "Knives are delivered by age verified delivery (AVD) only.",
    "On delivery the recipient will need to show a passport or driving licence.",
    "Please bring photo ID when you collect your order.",
    "Parcels will not be handed over without valid photo ID.",
    "You will need to upload a copy of your driving licence when ordering.",
    "Our drivers operate Challenge 25 on every delivery.",
]
WEAK_WORDING = [
    "You must be over 18 to purchase this item. By placing your order you confirm you are 18 or over.",
    "Please note: We will not sell knives to anyone under the age of 18.",
    "Knives will only be delivered to persons over 18; ID may be required.",
    "18+ only.",
    "You must be 18 or over to buy knives.",
    "ID may be required on delivery.",
    "Couriers might ask for proof of age.",
    "Parcels can be handed to any adult at the address.",
    "We reserve the right to request photo ID on delivery.",
    "Strictly no sales to under-18s.",
    "Age restricted product.",
]


@pytest.mark.parametrize("wording", STRONG_WORDING)
def test_real_world_strong_wording(wording):
    verdict = classify(knife_page(wording))
    assert verdict.bladed
    assert verdict.age_check == "strong", [c.to_dict() for c in verdict.cues]


@pytest.mark.parametrize("wording", WEAK_WORDING)
def test_real_world_weak_wording(wording):
    verdict = classify(knife_page(wording))
    assert verdict.age_check == "weak", [c.to_dict() for c in verdict.cues]


def test_tick_box_label_in_a_form_is_read():
    page = knife_page('<form><input type="checkbox" id="a"><label for="a">I confirm I am over 18</label></form>')
    verdict = classify(page)
    assert verdict.age_check == "weak"
    assert any(c.kind == "weak" and "I confirm I am over 18" in c.phrase for c in verdict.cues)


# --- traps that must not count as age checks --------------------------------------------------------------------

NOT_AGE_WORDING = [
    "18 months warranty.",
    "Comes with an 18-month manufacturer's guarantee.",
    "18cm blade, 18 inch overall.",
    "18-piece set in a beech block.",
    "SKU: 18-1800. VAT No. GB 118 1818 18. Item no 1818.",
    "Now only £18.99.",
    "A signature is required on delivery.",
    "Sent by Royal Mail Signed For.",
    "Payments are protected by 3D Secure. We verify your billing address (AVS).",
    "Please check your local laws before carrying a knife.",
    '<label><input type="checkbox"> I agree to the terms and conditions</label>',
    "No age verification required!",
    "We do not carry out age checks.",
    "No ID needed on delivery.",
    "Over 18 styles to choose from; rated 4.8 by over 18 reviewers.",
    "Photo ID is not required on delivery.",
]


@pytest.mark.parametrize("wording", NOT_AGE_WORDING)
def test_wording_that_is_not_an_age_check(wording):
    verdict = classify(knife_page(wording))
    assert verdict.bladed
    assert verdict.age_check == "none", [c.to_dict() for c in verdict.cues]


@pytest.mark.parametrize("wording", [
    "No age verification required!",
    "We do not carry out age checks.",
    "No photo ID required on delivery.",
])
def test_negations_are_reported_as_negated(wording):
    verdict = classify(knife_page(wording))
    assert any(c.kind == "negated" for c in verdict.cues)
    assert not any(c.kind in {"strong", "weak"} for c in verdict.cues)


@pytest.mark.parametrize("wording", [
    "We operate Challenge 25. You must be 18 or over to buy alcohol. Photo ID may be requested on delivery.",
    "This site sells vapes and e-liquids. 18+ only. Age verification by AgeChecked at checkout.",
    "Tobacco and cigarettes are only sold to over-18s.",
    "You must be 18 or over to buy National Lottery tickets and scratchcards.",
    "Club night: strictly over 18s only, photo ID required on entry.",
])
def test_age_wording_about_other_products_is_out_of_scope(wording):
    verdict = classify(plain_page(wording, title="Shop"))
    assert not verdict.bladed
    assert verdict.age_check == "none"
    assert any(c.kind == "out-of-scope" for c in verdict.cues)


def test_generic_knife_age_wording_on_a_non_bladed_page_still_counts():
    verdict = classify(plain_page("You must be 18 or over to buy knives from this website.", title="Terms"))
    assert not verdict.bladed
    assert verdict.age_check == "weak"


def test_policy_page_with_photo_id_on_delivery_is_strong_but_not_bladed():
    verdict = classify(plain_page(
        "All orders containing knives are sent by DPD. The driver will check photo ID on delivery and the parcel "
        "will not be left with a neighbour.", title="Delivery information"))
    assert not verdict.bladed
    assert verdict.age_check == "strong"


def test_hedged_strong_wording_is_weak_and_unhedged_is_strong():
    assert classify(knife_page("Photo ID may be required on delivery.")).age_check == "weak"
    assert classify(knife_page("Photo ID will be required on delivery.")).age_check == "strong"


def test_strong_beats_weak_and_both_are_reported():
    verdict = classify(knife_page("You must be 18 or over to buy this. We use Yoti to verify your age."))
    assert verdict.age_check == "strong"
    kinds = {c.kind for c in verdict.cues}
    assert {"strong", "weak"} <= kinds


def test_age_wording_in_footer_is_read_but_nav_links_do_not_make_a_listing():
    page = """<html><head><title>Dualit Kettle | Home Store</title></head><body>
    <nav><a>Kitchen knives</a> <a>Kettles</a></nav><h1>Dualit Classic Kettle</h1><p>£119.99</p>
    <button>Add to basket</button><footer>Knives are only sold to customers aged 18 or over.</footer></body></html>"""
    verdict = classify(page)
    assert not verdict.bladed
    assert verdict.age_check == "weak"


def test_script_and_style_text_is_ignored_but_product_json_ld_counts():
    page = """<html><head><title>Gift ideas</title>
    <script>var banner = "We use Yoti to verify your age";</script><style>.yoti{}</style>
    <script type="application/ld+json">{"@type": "Product", "name": "Morakniv Companion Knife",
     "offers": {"@type": "Offer", "price": "16.99"}}</script></head><body><p>Great gifts.</p></body></html>"""
    verdict = classify(page)
    assert verdict.bladed
    assert verdict.age_check == "none"
    assert any(c.kind == "sale" and c.phrase == "JSON-LD Product" for c in verdict.cues)


def test_broken_json_ld_is_skipped():
    page = '<html><head><script type="application/ld+json">{"@type": "Product",</script></head><body>Hi</body></html>'
    assert classify(page).bladed is False


def test_knife_law_article_is_not_a_listing_until_it_sells_something():
    article = """<html><head><title>The law on knife sales explained</title></head><body><article>
    <h1>How to buy a knife legally</h1><p>Published on 3 May 2025 by our legal editor.</p>
    <p>The law says sellers must not sell a knife to anyone under 18. Trading Standards and the police run test
    purchases, and magistrates can fine retailers. Sellers should use age verified delivery.</p></article>
    {extra}</body></html>"""
    assert classify(article.format(extra="")).bladed is False
    assert classify(article.format(extra="")).age_check == "none"
    shop = classify(article.format(extra="<p>Victorinox Paring Knife £6.50</p><button>Add to basket</button>"))
    assert shop.bladed is True


@pytest.mark.parametrize("text, expected", [
    ("Tramontina Garden Machete 18in, plain edge", []),
    ("Tactical Machete with serrated edge and spikes", ["zombie-style machete"]),
    ("Zombie Hunter Knife 12in", ["zombie knife"]),
    ("Automatic flick knife", ["flick knife"]),
    ("Gravity knife, German army style", ["gravity knife"]),
    ("Balisong trainer", []),  # a blunt trainer: told apart, see test_trainers_are_told_apart_from_live_blades
    ("Brass knuckle duster", ["knuckle-duster"]),
    ("Ninja sword with scabbard", ["ninja sword"]),
    ("Push dagger with sheath", ["push dagger"]),
    ("Belt buckle knife", ["belt-buckle knife"]),
    ("Walnut sword stick", ["sword-stick"]),
    ("Lipstick knife", ["disguised knife"]),
    ("We no longer sell zombie knives following the ban.", []),
])
def test_prohibited_items(text, expected):
    verdict = classify(knife_page("You must be 18 or over.", product=text))
    assert verdict.prohibited == expected


@pytest.mark.parametrize("product, prohibited, trainers", [
    ("Balisong trainer", [], ["butterfly knife"]),
    ("Butterfly knife trainer, blunt aluminium practice blade", [], ["butterfly knife"]),
    ("Butterfly knife trainer with live blade", ["butterfly knife"], []),
    ("Butterfly knife, sharp edge", ["butterfly knife"], []),
    ("Zombie knife 18in (practise your grip with our trainer range)", ["zombie knife"], []),
])
def test_trainers_are_told_apart_from_live_blades(product, prohibited, trainers):
    """Issue 13 (brief 1.4): a blunt trainer is no prohibited weapon and no bladed article; a live blade is both."""
    verdict = classify(knife_page("You must be 18 or over.", product=product))
    assert verdict.prohibited == prohibited
    assert verdict.trainers == trainers
    if trainers:
        assert verdict.bladed is False
        assert any(c.kind == "trainer" for c in verdict.cues)


def test_prohibited_items_in_a_news_story_are_not_flagged():
    verdict = classify(plain_page("Police said zombie knives and flick knives were handed in at the amnesty.",
                                  title="News"))
    assert verdict.prohibited == []


@pytest.mark.parametrize("page", [
    knife_page("", product="Ninja Professional Blender with stainless steel blender blades"),
    knife_page("", product="Bosch Aerotwin wiper blades"),
    knife_page("", product="Wüsthof Knife Sharpener"),
])
def test_things_with_blades_that_are_not_bladed_products(page):
    assert classify(page).bladed is False


def test_plain_text_is_detected_and_can_be_forced():
    text = "Knife policy\n\nYou must be 18 or over to buy knives. <b> is not a tag here"
    assert classify(text).age_check == "weak"
    assert classify(text, is_html=False).age_check == "weak"
    assert classify("<p>We use Yoti to verify your age for knives</p>", is_html=False).age_check == "strong"


def test_empty_documents():
    for doc in ("", "   ", "<html></html>"):
        verdict = classify(doc)
        assert (verdict.bladed, verdict.age_check, verdict.prohibited) == (False, "none", [])


# --- evidence -------------------------------------------------------------------------------------------------


def test_cue_evidence_has_phrase_kind_and_collapsed_context():
    notice = "Lorem ipsum dolor sit amet.\n\n   Our courier   will ask for photo ID on delivery.   Thanks."
    verdict = classify(knife_page(notice))
    strong = [c for c in verdict.cues if c.kind == "strong"]
    assert strong, verdict.cues
    cue = strong[0]
    assert isinstance(cue, Cue)
    assert cue.phrase == "courier will ask for photo ID"
    assert cue.phrase in cue.context
    assert "  " not in cue.context and "\n" not in cue.context
    before, _, after = cue.context.partition(cue.phrase)
    assert 0 < len(before) <= 61 and 0 < len(after) <= 61


def test_to_dict_has_exactly_the_public_keys_and_is_json():
    verdict = classify(knife_page("We use Yoti to verify your age."))
    data = verdict.to_dict()
    assert list(data) == ["bladed", "age_check", "prohibited", "cues", "rules_version", "conditions", "trainers",
                          "bladed_tiles"]
    assert all(list(c) == ["phrase", "kind", "context"] for c in data["cues"])
    assert data["rules_version"] == rules.RULES_VERSION
    assert json.loads(json.dumps(data)) == data
    assert isinstance(verdict, Verdict)


def test_rules_version_is_recorded_and_looks_like_a_calendar_version():
    assert classify("hello").rules_version == rules.RULES_VERSION
    assert rules.RULES_VERSION.count(".") == 2


def test_repeated_notices_are_capped_in_the_evidence():
    cards = "".join(f"<li>Knife {i} £1{i}.00 <button>Add to basket</button> 18+ only</li>" for i in range(40))
    verdict = classify(f"<html><body><h1>Knives</h1><ul>{cards}</ul></body></html>")
    assert verdict.age_check == "weak"
    assert sum(1 for c in verdict.cues if c.phrase == "18+") <= 3


def test_every_rule_has_a_known_kind_and_prohibited_rules_have_labels():
    kinds = {rules.BLADED, rules.SALE, rules.STRONG, rules.WEAK, rules.PROHIBITED, rules.NEGATION, rules.DECOY,
             rules.EDITORIAL, rules.SHOP_VOICE}
    assert {r.kind for r in rules.ALL_RULES} <= kinds
    assert len({r.id for r in rules.ALL_RULES}) == len(rules.ALL_RULES)
    assert all(r.label for r in rules.PROHIBITED_RULES)


# --- command line -----------------------------------------------------------------------------------------------


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "retail.scrapers.classify", *args],
        input=stdin, capture_output=True, cwd=REPO, timeout=60, check=False,
    )


def test_cli_reads_a_file():
    proc = run_cli(str(FIXTURES / "chef_knife_yoti_photo_id.html"))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["bladed"], data["age_check"]) == (True, "strong")
    assert proc.stdout.count(b"\n") == 1  # one JSON object on one line


@pytest.mark.parametrize("args", [["-"], []])
def test_cli_reads_stdin(args):
    proc = run_cli(*args, stdin=knife_page("You must be 18 or over.").encode())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["age_check"] == "weak"


def test_cli_url_hint_is_accepted_and_used():
    # A bare product name with a price: the URL path is what says it is a knife.
    page = "<html><body><h1>Morakniv Companion</h1><p>£16.99</p><p>In stock</p></body></html>"
    without = json.loads(run_cli("-", stdin=page.encode()).stdout)
    proc = run_cli("-", "--url", "https://shop.example/knives/morakniv-companion", stdin=page.encode())
    assert proc.returncode == 0, proc.stderr
    assert (without["bladed"], json.loads(proc.stdout)["bladed"]) == (False, True)


def test_cli_decodes_cp1252(tmp_path):
    path = tmp_path / "legacy.html"
    path.write_bytes("<p>Chef\u2019s knife \u00a334.99 Add to basket. You must be 18 or over.</p>".encode("cp1252"))
    proc = run_cli(str(path))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["bladed"], data["age_check"]) == (True, "weak")


def test_cli_missing_file_exits_2(tmp_path):
    proc = run_cli(str(tmp_path / "nope.html"))
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert b"nope.html" in proc.stderr


def test_cli_directory_exits_2(tmp_path):
    proc = run_cli(str(tmp_path))
    assert proc.returncode == 2
    assert b"directory" in proc.stderr


@pytest.mark.parametrize("payload", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
    bytes(range(32)) * 50,
])
def test_cli_binary_input_exits_2(tmp_path, payload):
    path = tmp_path / "image.png"
    path.write_bytes(payload)
    proc = run_cli(str(path))
    assert proc.returncode == 2
    assert b"binary" in proc.stderr
    assert run_cli("-", stdin=payload).returncode == 2


# --- the fast scanning path must find exactly what a plain regex scan finds ------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_windowed_scan_matches_a_full_scan(name):
    from retail.scrapers import classify as module

    page = module._parse_html((FIXTURES / name).read_text(encoding="utf-8"))
    low = module._lower(page.text)
    index = module._ANCHORS.positions(low)
    for rule, scanner in module._COMPILED:
        fast = [m.span() for m in scanner.scan(low, page.text, index)]
        full = [m.span() for m in scanner.finditer(low, page.text)]
        assert fast == full, rule.id


def test_fast_patterns_agree_with_the_rules_as_written():
    # The scanner strips leading \b and IGNORECASE for speed; the matches must be those of the rule text itself.
    import re

    from retail.scrapers import classify as module

    for name in sorted(EXPECTED):
        page = module._parse_html((FIXTURES / name).read_text(encoding="utf-8"))
        low = module._lower(page.text)
        for rule, scanner in module._COMPILED:
            fast = [m.span() for m in scanner.finditer(low, page.text)]
            plain = [m.span() for m in re.finditer(rule.pattern, page.text, rules.FLAGS)]
            assert fast == plain, (name, rule.id)


def test_command_line_classifier_does_not_load_the_web_app():
    """Issue 13: `python -m retail.scrapers.classify` starts fast because importing it builds no Flask app."""
    code = ("import sys, retail.scrapers.classify; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'sqlalchemy'} or m == 'retail.app'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("notice, conditions", [
    ("We use Yoti to verify your age at checkout.", ["A"]),
    ("Our courier will ask for photo ID (passport or driving licence) on delivery.", ["C"]),
    ("All knives are sent with DPD Age Verified delivery.", ["C"]),
    ("We ask for photographic ID when you buy, and the driver checks it again on delivery.", ["A", "C"]),
    ("Knives are sold in store only, photo ID required.", ["C"]),
    ("We check your details against credit reference agency data to confirm you are over 18.", ["A"]),
    ("By placing an order you confirm you are 18 or over.", []),
])
def test_strong_wording_names_the_s141b_condition_it_covers(notice, conditions):
    """Issue 13, brief 1.2: condition A is a check at sale, condition C delivery into an adult's hands; weak wording
    covers neither, so the targets list can tell 'no check at sale' from 'check only at delivery'."""
    verdict = classify(knife_page(notice))
    assert verdict.age_check == ("strong" if conditions else "weak")
    assert verdict.conditions == conditions


# --- start-up (issue 13 part 7) -----------------------------------------------------------------------------------


def test_the_rule_index_is_current_so_the_command_line_starts_fast():
    from retail.scrapers import classify as C

    assert C._INDEX, ("retail/scrapers/rules_index.json is stale: after editing rules.py run "
                      "`python -m retail.scrapers.classify --rebuild-rule-index` and commit it")
    for _rule, scanner in C._COMPILED:
        fresh = C._analyse(scanner.pattern)
        assert [sorted(a) for a in scanner.anchors] == fresh["anchors"] and scanner.max_width == fresh["max_width"]


def test_finding_anchors_by_substring_and_by_trie_agree():
    """The command line finds each rule's literals with str.find; a long-running monitor compiles a trie. Both must
    report the same positions, or a rule would be skipped on one path and not the other."""
    from retail.scrapers import classify as C

    literals = set(C._ANCHORS.literals)
    by_find = C._AnchorIndex(literals)
    by_trie = C._AnchorIndex(literals)
    by_trie._compile()
    page = (knife_page("By ordering you confirm you are 18 or over. Photo ID is required on delivery by DPD; "
                       "we use Yoti at checkout. 18 months warranty, 18cm blade.") * 3).lower()
    assert by_find.positions(page) == by_trie.positions(page)


def test_the_literal_index_is_ready_for_other_threads_the_moment_they_can_use_it():
    """The monitor classifies in several crawl threads, and the literal index is compiled lazily by whichever
    thread gets there: a thread that sees the compiled trie must also see its prefix table. Publishing the trie
    first once raised KeyError: 'knife ' in another thread mid-crawl, losing that store's check."""
    from retail.scrapers.classify import _AnchorIndex

    seen_when_published = []

    class Watched(_AnchorIndex):
        def __setattr__(self, name, value):
            if name == "_rx" and value is not None:
                seen_when_published.append(dict(self._prefixes))
            super().__setattr__(name, value)

    index = Watched({"knife", "knife ", "knives", "age"})
    index.TRIE_AFTER_CHARS = 0
    found = index.positions("a knife and knives, age 18")
    assert seen_when_published and sorted(seen_when_published[0].get("knife ", [])) == ["knife", "knife "]
    assert found["knife"] == [2] and found["knives"] == [12] and found["age"] == [20]


# --- the Hyperscan prefilter (issue 13 part 7, issue 15 crawl): one C pass finds where each rule can match -------

NON_ASCII_PAGE = ("<html><body><h1>Café knives — naïve «Buy» offers</h1><p>£35 Buy now. Ｋnife ٣٣ 18€ 18£ "
                  "You must be 18 or over;\u00a0photo ID is required on delivery. Délivery by DPD Age Verified. "
                  "The 18cm blade, 18 months warranty. Zombie knife £18.00 (trainer, no edge). Wir prüfen dein "
                  "Alter: 18+ Ausweis. ¡Edad mínima 18 años!</p></body></html>")


@pytest.fixture(scope="module")
def prefilter():
    from retail.scrapers import rule_matching as M

    fresh = M._Prefilter([scanner for _rule, scanner in M._COMPILED])
    fresh.COMPILE_AFTER_CHARS = 0
    assert fresh.ready("x"), "hyperscan is in requirements.txt: the prefilter must compile"
    return fresh


def _pages():
    for name in sorted(EXPECTED):
        yield name, (FIXTURES / name).read_text(encoding="utf-8")
    yield "non-ascii", NON_ASCII_PAGE


@pytest.mark.parametrize("name, document", list(_pages()), ids=[n for n, _ in _pages()])
def test_the_prefiltered_scan_finds_exactly_what_a_full_scan_finds(prefilter, monkeypatch, name, document):
    """The prefilter only says where to look: every rule's matches must be those of a plain scan of the whole page,
    including around characters outside ASCII (Hyperscan reads bytes; the page is scanned as its ASCII shadow)."""
    from retail.scrapers import classify as module
    from retail.scrapers import rule_matching as M

    monkeypatch.setattr(M, "_PREFILTER", prefilter)
    page = module._parse_html(document)
    low = module._lower(page.text)
    found = sorted((rule.id, m.span()) for rule, m in M.scan_rules(low, page.text))
    full = sorted((rule.id, m.span()) for rule, scanner in M._COMPILED for m in scanner.finditer(low, page.text))
    assert found == full
    assert found, "every page here matches some rule"


def test_the_prefilter_holds_every_rule_it_can(prefilter):
    """Only the case-sensitive rules (acronyms, run on the original text) are left to the anchor index: a rule that
    stopped compiling would silently fall back to the slow path."""
    from retail.scrapers import rule_matching as M

    left_out = [rule.id for i, (rule, scanner) in enumerate(M._COMPILED) if i not in prefilter.covered]
    assert left_out == [rule.id for rule, scanner in M._COMPILED if scanner.on_original]


def test_the_ascii_shadow_keeps_offsets_and_character_classes():
    import re

    from retail.scrapers.rule_matching import _ascii_shadow

    text = "café £35 ٣ a\u00a0b — 18€ naïve _x"
    shadow = _ascii_shadow(text).decode("ascii")
    assert len(shadow) == len(text)
    for pattern in (r"\w", r"\d", r"\s", r"\b"):
        assert [m.start() for m in re.finditer(pattern, text)] == [m.start() for m in re.finditer(pattern, shadow)]


def test_classifying_in_threads_with_the_prefilter_gives_the_same_verdicts(prefilter, monkeypatch):
    """The monitor classifies in several crawl threads: each needs its own Hyperscan scratch space."""
    from concurrent.futures import ThreadPoolExecutor

    from retail.scrapers import rule_matching as M

    monkeypatch.setattr(M, "_PREFILTER", prefilter)
    documents = [document for _name, document in _pages()] * 3
    alone = [classify(d).to_dict() for d in documents]
    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(lambda d: classify(d).to_dict(), documents))
    assert together == alone


def test_a_prefilter_that_cannot_compile_leaves_classification_to_the_anchor_index(monkeypatch):
    """A crawl must go on if Hyperscan refuses the rules (a rule it cannot take, a CPU it does not support): the
    verdict is the same, found the slower way."""
    from retail.scrapers import rule_matching as M

    broken = M._Prefilter([scanner for _rule, scanner in M._COMPILED])
    broken.COMPILE_AFTER_CHARS = 0

    def refuse():
        raise RuntimeError("no Hyperscan here")

    monkeypatch.setattr(broken, "_compile", refuse)
    monkeypatch.setattr(M, "_PREFILTER", broken)
    page = knife_page("We use Yoti to verify your age at checkout.")
    verdict = classify(page)
    assert not broken.ready("x") and verdict.age_check == "strong" and verdict.bladed


# --- page reading: the fast forms give what the plain forms gave (issue 13, speed) ---------------------------------


@pytest.mark.parametrize("raw", [
    "", "  ", "\n\n", "a", " a  b\t\tc \n\n  d\u00a0 e \r\n f\u2028g \x0b\x0c h\n \n",
    "Add\u00a0to  basket\n\n\n  \u00a3 35", "\u3000lead\u2003em space\n\x1c\x1dtrail  \n",
])
def test_normalising_text_collapses_whitespace_per_line_as_the_regex_form_did(raw):
    import re

    from retail.scrapers.page_reading import _FOLD, _normalise

    folded = raw
    for old, new in _FOLD:
        folded = folded.replace(old, new)
    regex_form = re.sub(r" ?\n[ \n]*", "\n", re.sub(r"[^\S\n]{2,}|[^\S \n]", " ", folded)).strip()
    assert _normalise(raw) == regex_form


def test_a_tiles_leading_text_is_the_start_of_all_its_text():
    from lxml import etree

    from retail.scrapers.page_reading import _leading_text

    words = " ".join(f"word{i}" for i in range(400))
    for markup in (f"<div><p>{words}</p></div>", "<div>" + "".join(f"<span> w{i}\n</span>" for i in range(900))
                   + "</div>", "<div>short <b>tile</b></div>", "<div><p>" + "x" * 2000 + " tail</p></div>"):
        el = etree.fromstring(markup, etree.HTMLParser()).find(".//div")
        full = " ".join("".join(el.itertext()).split())
        for limit in (1, 120, 300):
            assert _leading_text(el, limit) == full[:limit]


def test_the_first_platform_marker_in_the_page_names_the_platform():
    from retail.scrapers.page_reading import _first_platform_marker

    assert _first_platform_marker("<p>no shop here</p>") is None
    # "single_add_to_cart_button" holds "add_to_cart_button": the longer one starts first, and wins, as in a regex.
    assert _first_platform_marker('<button class="single_add_to_cart_button">') == "single_add_to_cart_button"
    page = '<a class="add-to-cart-button"></a> ... <form action="/cart/add">'
    assert _first_platform_marker(page) == "add-to-cart-button"
    shop = classify('<html><body><h1>Chef knife</h1><p>£40</p><form action="/cart/add"><button>Add to cart'
                    "</button></form></body></html>")
    assert any(c.phrase == "Shopify buy box" for c in shop.cues)


@pytest.mark.parametrize("link,is_control", [
    ("Buy £35", True), ("ORDER NOW", True), ("Add To Basket", True), ("Our knife guide", False),
    ("Buy this beautiful hand forged chef's knife from our Sheffield workshop", False),
])
def test_a_link_is_read_as_a_buy_control_only_when_its_short_words_buy(link, is_control):
    page = classify(f'<html><body><h1>Santoku knife</h1><div class="product"><a href="/b">{link}</a></div>'
                    "</body></html>")
    assert any(c.rule == "structured" and c.phrase == "buy control" for c in page.cues) is is_control
