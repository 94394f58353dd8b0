"""Wording rules for the age-verification classifier: phrase patterns as data, versioned."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..rules import prohibited as prohibited_catalogue

# Bump on any change to a pattern, weight or kind: every verdict records the version it was made with, so an
# officer can tell whether two results for the same page are comparable.
RULES_VERSION = "2026.12.7"

# Rule kinds. Only STRONG/WEAK decide the age-check level; the others feed the page-level judgement.
BLADED = "bladed"  # a bladed product is named
SALE = "sale"  # the page sells something (price, basket, SKU, Product JSON-LD)
STRONG = "strong"  # a real age check (named AV service, photo ID at the door, AVD, refusal when unproven)
WEAK = "weak"  # self-declaration, tick box, bare "must be 18", hedged ID wording
PROHIBITED = "prohibited"  # an item that may not be sold at all (CJA 1988 s.141 and the 2024 order)
NEGATION = "negated"  # wording that denies an age check ("no age verification required")
DECOY = "decoy"  # looks like age or blade wording but is not (warranty, 18cm, signed-for, 3D Secure)
EDITORIAL = "editorial"  # news/guidance vocabulary: a page about knife law rather than a listing
SHOP_VOICE = "shop-voice"  # the shop talking about its own orders (keeps policy pages from looking editorial)

# Kinds a reported cue may carry, beyond the rule kinds above: OUT_OF_SCOPE marks age wording about alcohol,
# vapes, events etc., or on an editorial page, and prohibited names mentioned where nothing is for sale.
OUT_OF_SCOPE = "out-of-scope"
TRAINER_KIND = "trainer"  # a prohibited item's blunt trainer version: reported, not a finding


@dataclass(frozen=True)
class Rule:
    """One phrase pattern; `label` is the normalised name reported for it (e.g. "zombie knife")."""

    id: str
    kind: str
    pattern: str
    weight: float = 1.0
    label: str | None = None


# --- shared fragments -------------------------------------------------------------------------------------------
# Text reaching the rules is whitespace-collapsed (one space inside a block, "\n" between blocks) with curly
# quotes and dashes folded to ASCII, so the patterns can use plain spaces.

S = r"[^.!?;\n]"  # any character inside the current sentence
AGE18 = r"(?:18|eighteen)"
# "18" not glued to a price, code or number before it ("£18", "GB-18", "1.18"). The check sits after the literal,
# so the pattern still starts with "\b18" and the regex engine can scan for it quickly.
AGE18_NOT_CODE = r"(?:18(?<![£$€.,/#-]18)|eighteen)"
# "18" followed by a unit is a size, term or count, never an age ("18 months warranty", "18cm", "18-piece").
NOT_UNIT = (
    r"(?![\d.,]\d|-\d|\s{0,3}-?\s{0,3}(?:months?|mths?|yrs?|years?\b(?!\s{1,3}(?:of\s{1,3}age|old|or|and|\+))|cm\b"
    r"|mm\b|m\b|inch|in\b(?! (?:the|a|an|your|our|order|stock|store|advance|total|person|law)\b)"
    r"|\"|''|pieces?|pcs?\b|pc\b|kg\b|g\b|lbs?\b|oz\b|%|x\b|l\b|ml\b|litres?|days?\b|hours?\b|weeks?\b|reviews?"
    r"|ratings?|items?\b|products?\b|colou?rs\b|styles\b|models\b|stores\b|countries\b|carat|ct\b|k\b|gauge))"
)
ID = (
    r"(?:(?:a |your |the |their |the recipient's |the buyer's |the customer's )?"
    r"(?:valid |acceptable |government[- ]issued |official |original )?"
    r"(?:(?:photo(?:graphic)?|picture) ?)?(?:id|i\.d\.|identification|id documents?|identity documents?)\b"
    r"|proof of (?:age|identity)|(?:a |your )?(?:passport|(?:photocard )?driving licen[cs]e|driver'?s licen[cs]e"
    r"|pass card|pass-accredited card|citizencard))"
)
# The same without the optional leading words, for rules that start with it: a pattern that starts with optional
# words cannot be scanned for quickly. The classifier adds "photo", "valid" etc. back to the reported phrase.
ID_CORE = (
    r"\b(?:id\b|i\.d\.|identification|id documents?|identity documents?|proof of (?:age|identity)|passport"
    r"|(?:photocard )?driving licen[cs]e|driver'?s licen[cs]e|pass card|citizencard)"
)
HANDOVER = (
    r"(?:the )?(?:time of )?(?:delivery|deliveries|collection|collecting|handover|hand-over|receipt"
    r"|pick[- ]?up|the door|your door|doorstep)"
)
CARRIER = (
    r"(?:couriers?|drivers?|delivery (?:drivers?|partners?|agents?|staff)|our drivers?|dpd|dhl|ups|royal mail"
    r"|parcelforce|evri|yodel|fedex|apc|dx|staff|our team|store staff)"
)
MODAL = r"(?:will|shall|must|may|might|could|can|is|are|'ll|would)"

# Strong wording with one of these before it (in its clause) or inside it is only a possibility: downgrade to weak.
HEDGE = (
    r"\b(?:(?:may|might|could)(?! not)|occasionally|sometimes|possibly|perhaps|at (?:the|their|our) (?:courier's "
    r"|driver's )?"
    r"discretion|reserves? the right|if (?:requested|asked)|random(?:ly)?|spot[- ]checks?|where (?:possible|practical)"
    r"|can be asked|can ask|can request)\b"
)
# Negation words in the clause just before a cue turn it into its opposite ("No photo ID is required on delivery").
NEGATION_PREFIX = (
    r"\b(?:no|not|never|without|don't|doesn't|do not|does not|won't|isn't|aren't|cannot|can't|nor|neither)\b"
)
# A prohibited item named next to these words is being excluded or discussed, not offered.
PROHIBITED_EXCLUSION = (
    r"\b(?:do not|don't|does not|doesn't|will not|won't|no longer|never|cannot|can't|not)\s{1,3}(?:sell|stock|supply|"
    r"offer|ship|carry|list)\b|\bban(?:ned|s)?\b|\billegal\b|\bprohibited\b|\boutlawed\b|\bunlawful\b"
    r"|\bsurrender\b|\bamnesty\b"
)

# A prohibited item's "trainer": a blunt practice version with no edge, which is not a bladed article (issue 13).
# Read only right next to the item's name, so "practise your flips" in a live knife's description changes nothing.
TRAINER = (
    r"\b(?:trainers?|training|practi[cs]e|blunt|unsharpened|un-sharpened|non-sharpened|no (?:sharp(?:ened)? )?edge"
    r"|dull(?:ed)? (?:edge|blade)|foam|rubber|dummy)\b"
)
# ...and words that say the blade is live after all: these win over the trainer words.
LIVE_BLADE = (
    r"\blive (?:blade|edge)s?\b|\bsharp(?:ened)? (?:blade|edge)s?\b|\brazor[- ]sharp\b|\bfully sharpened\b"
    r"|\bsharp (?:out of the box|edge)\b"
)

# Which s.141B condition (brief 1.2) a strong age check covers: A, a check at the time of sale; C, delivery only
# into the hands of someone aged 18 or over. The targets list ranks a shop with no check at sale above one whose only
# check is at the door.
CONDITION_C_RULES = frozenset({
    "id-on-delivery", "on-delivery-show-id", "carrier-asks-id", "bring-id-collect", "id-badge", "handover-on-id",
    "not-without-id", "if-no-id-refused", "avd", "carrier-av", "avd-acronym", "challenge-at-door", "door-challenge",
    "not-left-unattended", "wont-leave", "no-safe-place", "only-to-buyer", "in-store-id", "checked-again-on-delivery",
    "named-av-delivery", "carrier-checks-age", "looks-under-25-id", "id-checks-at-handover", "proof-of-age-service",
    "not-released-unless-id", "id-of-recipient-required",
})  # every other strong rule is a check at sale (condition A)

# Words that place an age statement about some other age-restricted product or service.
OTHER_TOPIC = (
    r"\b(?:alcohol\w{0,20}|wines?|beers?|lagers?|ciders?|ales?|spirits|whisk(?:e)?y|gin|vodka|rum|tequila|prosecco|"
    r"champagne|liquor|liqueurs?|drinks?|licensing act|vapes?|vaping|e-?liquids?|e-?cig(?:arette)?s?|nicotine|"
    r"tobacco|cigarettes?|cigars?|shisha|rolling papers|lottery|scratchcards?|gambling|betting|casino|bingo|"
    r"nightclub|club ?night|events?|gigs?|festivals?|tickets?|venue|dj|guest ?list|doors open|entry|admission|"
    r"fireworks?|solvents?|lighter (?:gas|refills?)|aerosol|spray paint|energy drinks?|cbd|adult (?:content|films?)|"
    r"dvds?|blu-?ray|video games?|pegi|bbfc|sunbeds?|tattoos?|piercings?)\b"
)


def _rules(kind: str, weight: float, *items: tuple[str, str] | tuple[str, str, str]) -> list[Rule]:
    """Build rules of one kind; each item is (id, pattern) or (id, pattern, label)."""
    return [Rule(item[0], kind, item[1], weight, item[2] if len(item) > 2 else None) for item in items]


# --- bladed products ----------------------------------------------------------------------------------------------
# Nouns that make a listing a "bladed product" (CJA 1988 s.141A reads "knife" broadly: kitchen, craft, garden).
BLADED_RULES = _rules(
    BLADED, 1.0,
    ("knife", r"\b(?:knife|knives|pen ?knife|penknives|jack ?knife)\b", "knife"),
    # Japanese kitchen knives are usually listed by type alone ("Tojiro DP Gyuto 21cm").
    ("japanese-knife", r"\b(?:gyuto|santoku|nakiri|deba|yanagiba|sujihiki|usuba|kiritsuke|bunka|honesuki)\b",
     "knife"),
    ("dagger", r"\bdaggers?\b", "dagger"),
    ("machete", r"\bmachetes?\b|\bparangs?\b|\bkukris?\b|\bgolok\b|\bbolo\b", "machete"),
    ("axe", r"\b(?:axe|axes|hatchets?|tomahawks?|splitting maul)\b(?! (?:body|deodorant|shower|spray|effect))", "axe"),
    ("cleaver", r"\bcleavers?\b", "cleaver"),
    ("sword", r"\b(?:swords?|katanas?|sabres?|sabers?|cutlass(?:es)?|rapiers?|wakizashi|tanto|scimitars?|claymores?)\b",
     "sword"),
    ("razor", (r"\b(?:straight|cut[- ]?throat|safety|barber'?s?|shavette) razors?\b|\brazor blades?\b"
     r"|\brazors?\b(?! scooter| scooters)"), "razor"),
    ("multi-tool", r"\bmulti[- ]?tools?\b|\bleatherman\b|\bswiss army\b", "multi-tool"),
    ("bayonet", r"\bbayonets?\b", "bayonet"),
    ("scalpel", r"\bscalpels?\b|\bbox cutters?\b|\butility blades?\b|\bsnap[- ]off blades?\b", "craft blade"),
    ("billhook", r"\bbillhooks?\b|\bsickles?\b|\bscythes?\b|\bpruning knife\b", "garden blade"),
) + _rules(
    # "blade" alone is a weaker signal: shops say it of knives, but also of fans, wipers and blenders (decoys below).
    BLADED, 0.5,
    ("blade", r"\bblades?\b|\bbladed (?:products?|items?|articles?|goods|tools?)\b", "blade"),
)

# --- sale context -----------------------------------------------------------------------------------------------
SALE_RULES = _rules(
    SALE, 1.0,
    ("basket", r"\badd(?:ed)? to (?:the )?(?:basket|cart|bag|trolley|order)\b"),
    ("buy-now", r"\bbuy (?:it )?now\b|\bpre-?order now\b|\bbuy online\b"),
) + _rules(
    SALE, 0.5,
    ("stock", r"\b(?:in|out of|low in) stock\b|\bonly \d{1,6} left\b|\bavailable to order\b|\bback in stock\b"),
    ("sku", r"\b(?:sku|mpn|ean|gtin|upc|product code|item code|part (?:no|number)|model (?:no|number)"
     r"|cat(?:alogue)? no)\b"),
    ("quantity", r"\b(?:qty|quantity)\b"),
    # Pence are required: prices have them, fines and turnover figures in news stories ("fined £8,000") do not.
    ("price", r"£ ?\d{1,5}(?:,\d{3}){0,2}[.]\d{2}(?!\d)"),
    ("listing", (r"\bproducts\b(?<=\d products)|\bitems\b(?<=\d items)|\bresults\b(?<=\d results)|\bsort by\b"
     r"|\bfilter by\b|\bshop (?:all|now)\b")),
    ("checkout", r"\b(?:proceed to|secure) checkout\b|\bplace (?:my |your )?order\b|\border summary\b|\bsubtotal\b"),
)

# --- strong age checks --------------------------------------------------------------------------------------------
STRONG_RULES = _rules(
    STRONG, 3.0,
    # Age-verification vendors whose names mean nothing else.
    ("av-vendor", (r"\b(?:yoti|age ?checked|verify ?my ?age|trust ?elevate|veriff|citizen ?card|luciditi|agekey"
     r"|age verify uk|1account)\b")),
    # Identity vendors that also do credit and fraud checks count only when age is mentioned with them.
    ("id-vendor-age", r"\bage\b" + S + r"{0,80}\b(?:experian|onfido|gbg|jumio|ondato|idenfy|equifax|transunion"
     r"|lexisnexis|id ?scan)\b"),
    ("id-vendor-age-after", r"\b(?:experian|onfido|gbg|jumio|ondato|idenfy|equifax|transunion|lexisnexis)\b"
     + S + r"{0,80}\bage\b"),
    ("checkout-av", r"\bage (?:verification|check|checks|verified|is verified)\b" + S
     + r"{0,60}\b(?:at|during|before|in) (?:the )?check-?out\b"),
    ("checkout-av-after", r"\b(?:at|during) (?:the )?check-?out\b" + S
     + r"{0,60}\b(?:verify|check|verified|checked|validate) (?:your |the buyer's |the customer's )?age\b"),
    ("we-verify-age", (r"\bwe (?:will |must |may |might |also |then )?(?:electronically |independently )?"
     r"(?:verify|check|validate|confirm) (?:your|the (?:buyer|customer|purchaser|recipient)'s) (?:age|identity and age)"
     r"\b(?! by asking| by ticking| by confirming| yourself)")),
    ("age-will-be-verified", (r"\b(?:your|the (?:buyer|customer|purchaser|recipient)'s) age (?:will|must|is|shall|may|"
     r"might|has to) (?:be )?(?:electronically |independently )?(?:verified|checked|validated)\b")),
    ("electronic-av", (r"\b(?:electronic|online|digital|automated|third[- ]party|independent) age[- ]"
     r"(?:verification|check|checking)\b")),
    ("av-service", r"\bage[- ]verification (?:service|provider|partner|system|process|software|platform|check)\b"),
    ("face-estimation", r"\b(?:facial )?age estimation\b"),
    ("upload-id", (r"\b(?:upload|provide|send|submit|email) (?:us )?(?:a )?(?:copy|photo|scan|picture|image|selfie)"
     r" (?:of|with) (?:your |a )?(?:valid )?(?:photo ?)?(?:id|passport|driving licen[cs]e)\b")),
    ("id-at-checkout", r"\bid (?:check|verification)s? (?:at|during) (?:the )?check-?out\b"),
    # Photo ID at the door or counter.
    ("id-on-delivery", ID_CORE + r" (?:" + MODAL + r" )?(?:also |always |then )?(?:be )?(?:required|requested|checked|"
     r"needed|shown|produced|presented|asked for|inspected|verified|necessary|mandatory)\b" + S
     + r"{0,40}\b(?:on|upon|at|for|before|when|during) " + HANDOVER),
    ("on-delivery-show-id", r"\b(?:on|upon|at) " + HANDOVER + r"\b,? " + S
     + r"{0,60}\b(?:show|provide|present|produce|be asked for|be asked to show|need|bring)\b" + S + r"{0,30}" + ID),
    ("carrier-asks-id", r"\b" + CARRIER + r"\b" + S + r"{0,30}\b(?:" + MODAL + r" )?(?:also )?(?:ask|request|check|"
     r"require|need|see|verify)s? (?:(?:the )?(?:recipient|customer|buyer|purchaser|person)s? |you |them )?"
     r"(?:for |to see |to show |to produce |to provide )?" + ID),
    ("bring-id-collect", r"\bbring " + ID + S + r"{0,40}\bcollect|\bcollect\w{0,5}\b" + S + r"{0,60}\bbring\b" + S
     + r"{0,10}" + ID + r"|\bwe (?:will )?(?:check|verify|confirm)\w{0,2} (?:that )?the (?:person|customer|buyer)"
     r" (?:collecting|receiving|picking up)\b" + S + r"{0,30}\b(?:is|are) (?:aged )?(?:18 or over|over 18|at least"
     r" 18|an adult)\b"),
    ("id-badge", r"\bid (?:check(?:ed|s)? )?(?:on|upon|at) (?:delivery|collection)\b"),
    ("handover-on-id", r"\bonly (?:be )?(?:hand(?:ed)?|releas(?:e|ed)|give|given|deliver(?:ed)?)\b(?: over)?" + S
     + r"{0,60}\b(?:who (?:can )?(?:show|provide|present|produce)s?|with|on production of|upon production of|"
     r"after (?:seeing|checking))\b" + S + r"{0,20}" + ID),
    ("no-id-no-sale", r"\bno (?:photo )?id,? no (?:delivery|sale|parcel|collection|knife)\b"),
    ("not-without-id", r"\b(?:not|never|cannot|can't|won't) (?:be )?(?:handed|released|delivered|given|left|dispatched)"
     r"(?: over)?\b" + S + r"{0,40}\bwithout " + ID),
    ("if-no-id-refused", r"\b(?:if|where|when|should) (?:(?:no|there is no|you (?:cannot|can't|do not|don't) (?:show|"
     r"provide|produce|have)) " + ID + r"|(?:no ?one|nobody)\b)" + S + r"{0,60}?\b(?:cancel\w{0,20}|refund\w{0,20}"
     r"|return\w{0,20}|held|reject\w{0,20}|declin\w{0,20}|refus\w{0,20}|"
     r"not be (?:delivered|handed|released|left))"),
    # Age-verified delivery services.
    ("avd", r"\bage[- ]?verif(?:ied|ication)(?: on)? (?:deliver(?:y|ies)|collection|courier|shipping)\b"),
    ("carrier-av", (r"\b(?:dpd|dhl|ups|royal mail|parcelforce|evri|yodel|fedex|apc|dx) (?:age (?:verification|verified|"
     r"check|restricted)|id check|adult signature)\b")),
    ("avd-acronym", r"\b(?-i:AVD)\b"),
    ("challenge-at-door", r"\b(?:challenge|think|check) ?2[15]\b" + S
     + r"{0,60}\b(?:deliver(?:y|ies|ed)|collection|courier|driver|doorstep)\b"),
    ("door-challenge", r"\b(?:deliver(?:y|ies)|collection|courier|driver)s?\b" + S
     + r"{0,60}\b(?:challenge|think|check) ?2[15]\b"),
    # Refusal when age is not proven.
    ("refused-unless-proven", r"\b(?:cancel{1,2}ed|held|on hold|refunded|returned|rejected|declined|refused|withheld|"
     r"not be (?:dispatched|delivered|released|handed over|shipped|processed|sent))\b" + S
     + r"{0,30}\b(?:if|unless|until|where|when|should|in the event)\b" + S
     + r"{0,60}\b(?:age|id|identification|identity|proof of age|over 18)\b"),
    ("if-unproven-refused", r"\b(?:if|unless|where|should|when)\b" + S + r"{0,40}\b(?:age|id|identification|"
     r"identity)\b" + S + r"{0,40}\b(?:cannot|can't|could not|couldn't|unable|not|isn't|fails?|failed)\b" + S
     + r"{0,60}\b(?:cancel\w{0,20}|refund\w{0,20}|return\w{0,20}|held|hold|reject\w{0,20}|declin\w{0,20}"
     r"|refus\w{0,20}|not be (?:delivered|"
     r"dispatched|handed|released))"),
    ("unable-to-verify-refused", r"\b(?:unable|not able|fail(?:s|ed)?) to (?:verify|confirm|prove|validate) "
     r"(?:your |the (?:buyer|customer|recipient)'s )?age\b" + S + r"{0,60}\b(?:cancel\w{0,20}|refund\w{0,20}"
     r"|return\w{0,20}|held|"
     r"hold|reject\w{0,20}|declin\w{0,20}|refus\w{0,20})"),
    # Not left unattended: only an in-person handover makes an age check possible.
    ("not-left-unattended", r"\b(?:will|must|can|shall|should|may)(?: not|n't|not) (?:be )?(?:left|delivered|placed)"
     r"\b" + S + r"{0,20}\b(?:safe ?place|neighbou?rs?|unattended|porch|doorstep|outbuilding|letterbox|parcel ?(?:box|"
     r"locker)|locker)"),
    ("wont-leave", r"\b(?:do not|don't|never|will not|won't|cannot|can't) (?:leave|deliver)\b" + S
     + r"{0,30}\b(?:safe ?place|neighbou?rs?|unattended|porch|doorstep|(?:at|on) (?:your|the) (?:front )?door)"),
    ("no-safe-place", r"\bno (?:safe[- ]?place|neighbou?r|leave[- ]safe)(?: deliver(?:y|ies)| option| drops?)?s?\b"),
    ("only-to-buyer", (r"\bonly (?:be )?(?:handed|delivered|released|given) (?:over )?(?:directly |in person )?to "
     r"the (?:named )?(?:recipient|purchaser|buyer|cardholder|card holder|account holder|person who (?:placed|"
     r"ordered))\b")),
    # Issue 13: checks described through the shop's own process, at purchase and again at the door.
    ("id-at-purchase", ID_CORE + r" (?:" + MODAL + r" )?(?:also )?(?:be )?(?:required|requested|checked|needed|asked"
     r" for|verified|mandatory)\b" + S + r"{0,30}\b(?:when you (?:buy|order|purchase|check ?out)|(?:at|on|upon) (?:the "
     r"(?:time |point )?of )?(?:purchase|sale|ordering|checkout|order)|before (?:we|your order|an order|any order"
     r"|dispatch))"),
    ("ask-id-when-buying", r"\b(?:we|you'll|you will|you)\b" + S + r"{0,20}\b(?:ask|request|require|need)s?"
     r" (?:you )?(?:for |to (?:show|provide|upload|send) )?(?:a |your |valid )?(?:photo(?:graphic)? )?(?:id|"
     r"identification|passport|driving licen[cs]e|proof of age)\b" + S + r"{0,30}\b(?:when you (?:buy|order|"
     r"purchase)|at (?:the (?:time|point) of )?(?:purchase|sale|checkout|order)|before (?:we|dispatch|your order))"),
    ("checked-again-on-delivery", r"\b(?:checks?|checked|verif\w{0,10}|asks? for|see)\b" + S + r"{0,25}\bagain"
     r" (?:on|at|upon|when) (?:the )?(?:delivery|collection|handover|the door|you collect)"),
    ("we-verify-all", r"\bwe (?:electronically |independently )?(?:verify|check|confirm|validate) the age of "
     r"(?:every|all|each|our|the) (?:customers?|buyers?|purchasers?|orders?)\b"),
    ("orders-age-verified", r"\b(?:every|all|each) (?:orders?|purchases?|customers?)\b" + S + r"{0,30}\b(?:is|are)"
     r" (?:electronically |independently )?(?:age[- ]verified|age[- ]checked|verified (?:as|to be) (?:over )?18)"),
    ("credit-reference", r"\b(?:credit reference (?:agenc(?:y|ies)|checks?|data)|electoral (?:roll|register))\b" + S
     + r"{0,80}\b(?:age|over 18|18 or over|aged 18)\b|\b(?:age|over 18)\b" + S + r"{0,80}\b(?:credit reference"
     r" (?:agenc(?:y|ies)|checks?|data)|electoral (?:roll|register))\b"),
    ("in-store-id", r"\b(?:in[- ]store|in[- ]person|in[- ]shop|collection|click (?:and|&) collect|counter)"
     r" (?:purchase |sale |collection )?only\b" + S + r"{0,40}(?:" + ID_CORE + r"|\bchallenge 25)"),
    # Issue 13, from the labelled corpus of real wording (tests/scrapers/corpus): checks described in the shop's own
    # words rather than by a service's name.
    ("id-of-recipient-required", ID_CORE + r" of (?:the |a )?(?:recipient|person (?:receiving|accepting|collecting)"
     r"|addressee)\b" + S + r"{0,20}\b(?:" + MODAL + r" )?(?:also )?(?:be )?(?:required|requested|checked|needed|"
     r"asked for|verified)\b"),
    ("ask-id-to-verify-age", r"\b(?:ask|request|require|need)s?\b(?: you)?(?: for| to (?:show|provide|send|upload))?"
     r"(?: a| your| valid)? " + S + r"{0,30}?" + ID + S + r"{0,80}?\b(?:to|and) (?:verify|confirm|prove|check|"
     r"establish) (?:the |your |their )?(?:(?:purchaser|buyer|customer|recipient)'s )?age\b"),
    ("copy-of-id", r"\b(?:copy|photo|photograph|scan|picture|image) of (?:a |your |the )?(?:valid )?(?:current )?"
     r"(?:photo(?:card|graphic)? )?(?:id\b|identity card|id card|identity document|identification(?: document)?"
     r"|passport|driving licen[cs]e|driver'?s licen[cs]e|pass (?:proof[- ]of[- ]age )?card|proof of age)"),
    ("staff-check-id-sent", r"\b(?:check|verif|inspect|review)\w{0,3} (?:the |your )?(?:identification|id|identity)"
     r" documents? (?:you|that you|customers?) (?:send|sent|upload|uploaded|provide|provided|submit|submitted)\b"),
    ("until-age-verified", r"\buntil (?:your |the (?:buyer|customer|purchaser|recipient)'s )?(?:age|id|identity|"
     r"proof of age)(?: and address)? (?:has been|have been|is|are) (?:checked|verified|confirmed|validated"
     r"|approved)\b"),
    ("only-once-age-confirmed", r"\bonly (?:once|when|after|if) (?:your |the (?:buyer|customer|purchaser|recipient"
     r"|person)'s |their )?(?:age|id|identity)(?: check)? (?:is|has been|have been) (?:confirmed|verified|checked"
     r"|completed)\b|\bonly (?:once|after|when) (?:a |an |the )?" + S + r"{0,30}\b(?:proof[- ]of[- ]age|id|age)"
     r" checks? (?:is|has been) (?:completed|carried out|done|passed)\b"),
    ("carrier-checks-age", r"\b(?:couriers?|drivers?|carriers?|delivery (?:service|partner|agent|company)s?|"
     r"services?|royal mail|dpd|dhl|ups|parcelforce|evri|yodel|fedex|apc)\b(?:,? (?:that|which|who))?(?: will| must"
     r"| shall| to)?(?: also)? (?:checks?|verif(?:y|ies)|confirms?) (?:your |the (?:recipient|customer|buyer|"
     r"purchaser|person)'?s?'? |their )age\b"),
    ("looks-under-25-id", r"\b(?:appears?|looks?|seems?) (?:to be )?(?:under|younger than) (?:21|25)\b" + S
     + r"{0,80}" + ID + r"|" + ID_CORE + S + r"{0,60}\bif (?:they|you|the (?:recipient|customer|person)\w{0,12})"
     r" (?:appears?|looks?|seems?) (?:to be )?(?:under|younger than) (?:21|25)\b"),
    ("suspect-under-25-id", r"\b(?:check|see|ask for|request)s? (?:the )?" + ID + S + r"{0,40}\b(?:suspect|think|"
     r"believe|appear)\w{0,3}\b" + S + r"{0,20}\bunder (?:21|25)\b"),
    ("id-checks-at-handover", r"\b(?:proof[- ]of[- ]age|id|identity|age) checks? (?:on|upon|at) (?:the )?(?:point of )?"
     r"(?:delivery|collection|handover|the door)\b"),
    ("proof-of-age-service", r"\bproof of age (?:option|service|delivery)\b|\bage verified (?:royal mail|dpd|dhl|"
     r"ups|parcelforce|evri|yodel|delivery)\b"),
    ("not-released-unless-id", r"\b(?:not|never|won't|cannot|can't) (?:be )?(?:release|hand|deliver|give|supply|"
     r"sell)\w{0,3}\b" + S + r"{0,50}\bunless\b" + S + r"{0,40}\b(?:show|provide|present|produce)\w{0,2}\b" + S
     + r"{0,20}" + ID),
    ("age-estimation-scan", r"\b(?:estimates?|estimated|estimating) (?:your |the (?:buyer|customer|user)'s |their )"
     r"age\b|\bselfie\b" + S + r"{0,80}\bage\b|\bface scan\b|\bfacial (?:scan|analysis|age)\b"),
    ("id-verification-service-age", r"\b(?:id|identity)(?: and age)? verification (?:service|provider|partner|"
     r"system)s?\b" + S + r"{0,40}\bage\b"),
    ("named-av-delivery", r"\b(?:royal mail|dpd|dhl|ups|parcelforce|evri|yodel|fedex|amazon|apc|dx|tuffnells)"
     r"(?:'s)?\b" + S + r"{0,40}\b(?:age[- ]verif\w{0,10}|age[- ]check\w{0,5}|id[- ]check\w{0,5}|proof of age)\b"
     r"|\bage verification (?:at|on|upon) delivery\b"),
)

# --- weak age wording ---------------------------------------------------------------------------------------------
WHO = (
    r"(?:aged?|age of|be|are|is|persons?|people|customers?|anyone|adults?|buyers?|purchasers?|someone|somebody|"
    r"individuals?|those|only|you're|i'm|am|recipients?|consumers?)"
)
WEAK_RULES = _rules(
    WEAK, 1.0,
    ("self-declaration", r"\bby (?:placing|submitting|completing|making|confirming|ordering|purchasing|buying)\b" + S
     + r"{0,60}\b(?:confirm|declare|certify|agree|accept|warrant|state|acknowledge)\w{0,20}\b" + S + r"{0,40}\b" + AGE18
     + NOT_UNIT),
    ("tick-box-confirm", r"\bi (?:hereby )?(?:confirm|declare|certify|verify|agree|am confirming)(?: that)? (?:i am"
     r"|i'm)"
     r" (?:over|aged|at least|above|older than)? ?(?:the age of )?" + AGE18 + NOT_UNIT),
    ("i-am-over-18", r"\bi am (?:over|aged|at least|above|older than) (?:the age of )?" + AGE18 + NOT_UNIT),
    ("tick-box", r"\b(?:tick|check) (?:this|the) box\b" + S + r"{0,60}\b" + AGE18 + NOT_UNIT),
    ("confirm-you-are-18", r"\bconfirm (?:that )?(?:you are|you're|i am|i'm) (?:over|aged|at least|above|older than)"
     r"? ?(?:the age of )?" + AGE18 + NOT_UNIT),
    ("must-be-18", r"\b(?:must|have to|need to|should|required to|has to) be (?:aged |over |at least |above "
     r"|older than )?"
     r"(?:the age of )?" + AGE18 + NOT_UNIT),
    ("over-18s", r"\b(?:over|under)[- ]?18s\b"),
    ("18-plus", r"\b" + AGE18_NOT_CODE + r" ?\+" + NOT_UNIT),
    ("who-over-18", r"\b" + WHO + r" (?:over|above|older than|at least) (?:the age of )?" + AGE18 + NOT_UNIT),
    ("18-or-over", r"\b" + AGE18_NOT_CODE + r" (?:years (?:of age |old )?)?(?:or|and) (?:over|older|above)\b"),
    ("not-under-18", r"\b(?:sell|sold|supply|supplied|sales?|purchases?|deliver\w{0,20}|anyone|anybody|persons?|people"
     r"|customers?|"
     r"children|individuals?|minors?)\b" + S + r"{0,40}\b(?:under|below) (?:the age of )?" + AGE18 + NOT_UNIT),
    ("age-restricted", r"\bage[- ]restricted\b"),
    ("adults-only", r"\badults? only\b"),
    ("proof-of-age", r"\bproof of age\b"),
    ("date-of-birth", r"\bdate of birth\b|\bd\.o\.b\.?(?!\w)"),
    ("challenge-25", r"\b(?:challenge|think|check) ?2[15]\b"),
    ("any-adult", (r"\bany(?:one| adult| person| responsible adult)(?: aged (?:18|over 18)(?: or over)?| over 18)? "
     r"(?:at|from|living at) the (?:delivery )?address\b")),
    ("age-verification", r"\bage[- ]?verif(?:y|ied|ication)\b"),
    # Issue 13, from the labelled corpus: declarations without a number.
    ("legal-age", r"\b(?:of|over|above) (?:the )?legal (?:purchasing |buying )?age\b|\blegally (?:an adult|old enough)"
     r"\b"),
    ("declare-adult", r"\b(?:confirm|certify|declare|warrant|represent|state|agree)s?\b" + S + r"{0,25}\b(?:you are"
     r"|you're|i am|i'm|he or she is|they are|the buyer is|the customer is) (?:an adult|over the age of majority)\b"),
    ("only-to-adults", r"\b(?:sold|sell|sells|supply|supplied|available|deliver(?:ed)?) (?:only )?to adults\b"
     r"|\bonly (?:be )?(?:sold |supplied )?to adults\b"),
    ("legally-over-18", r"\blegally (?:over|aged|at least|above) " + AGE18 + NOT_UNIT),
    ("holder-18", r"\b(?:account|card) ?holders?\b" + S + r"{0,20}\bto be (?:aged |over |at least )?" + AGE18
     + NOT_UNIT),
)

# --- prohibited items ---------------------------------------------------------------------------------------------
# The patterns live in the one catalogue of prohibited weapons that the in-store record and the letters also use.
PROHIBITED_RULES = _rules(PROHIBITED, 1.0, *prohibited_catalogue.listing_patterns())

# --- negations ----------------------------------------------------------------------------------------------------
NEGATION_RULES = _rules(
    NEGATION, 1.0,
    ("no-check-required", (r"\bno (?:age|id|photo id|identification|proof of age)(?: verification| checks?| checking)?"
     r"(?: is| are| will be)? (?:required|needed|necessary|requested|carried out|performed|asked for)\b")),
    ("without-check", (r"\b(?:no|without) (?:any )?(?:age verification|age checks?|id checks?|id required|id needed|"
     r"need for id|need to show id|proof of age)\b")),
    ("we-do-not-check", (r"\b(?:do not|don't|does not|doesn't|will not|won't|never) (?:carry out|perform|"
     r"conduct|do|run|require|ask for|request|check|need|verify)(?: any)? (?:age|ids?|photo id|identification|"
     r"proof of age|your age|for id)\b")),
    ("not-required", (r"\b(?:age verification|age checks?|id|photo id|proof of age) (?:is |are )?not (?:required"
     r"|needed|"
     r"necessary|requested)\b")),
)

# --- decoys: wording that looks like age or blade wording but is neither ----------------------------------------------
DECOY_RULES = _rules(
    DECOY, 0.0,
    ("signature", (r"\bsignature (?:required|on delivery|confirmation|upon delivery|service)\b|\bsigned[- ]for\b"
     r"|\brequires? (?:a )?signature\b|\bspecial delivery\b|\bsign for (?:the|your) (?:parcel|delivery)\b")),
    ("avs-acronym", r"\b(?-i:AVS)\b"),
    ("card-verification", (r"\b3-?d ?secure\b|\baddress verification (?:service|system)\b|\bverif(?:y|ies|"
     r"ied) (?:your |the )?(?:billing|card|cardholder|delivery) (?:address|details)\b|\bcard verification\b"
     r"|\bcvv2?\b|\bverified by visa\b|\bmastercard (?:securecode|identity check)\b|\bfraud (?:checks?|screening|"
     r"prevention)\b|\bcredit check\b")),
    ("warranty-18", r"\b" + AGE18 + r" ?(?:-?months?|mths?|-?years?)(?:'s?)? (?:manufacturer'?s? )?(?:warranty|"
     r"guarantee)\b"),
    ("size-18", r"\b18 ?(?:cm|mm|inch|inches|in(?! (?:the|a|an|your|our|order|stock|store|advance|total|person"
     r"|law|order to)\b)|\"|'')(?!\w)"),
    ("count-18", r"\b18[- ]?(?:piece|pc|pcs|part)\b"),
    ("price-18", r"£ ?18(?:[.]\d\d)?\b"),
    ("code-18", r"\b(?:sku|item|product|vat|model|part|ref|code|no)[.:# ]{1,3}[\w-]{0,20}18[\w-]{0,20}\b"),
    ("local-laws", (r"\b(?:check|consult|obey|comply with|familiari[sz]e yourself with|abide by) (?:your |all |any )?"
     r"(?:local|applicable|relevant) (?:laws?|legislation|regulations|rules)\b|\bit is (?:your|the (?:buyer|"
     r"customer|purchaser)'s) responsibility to\b")),
    ("terms-tick", (r"\bi (?:have read and )?(?:agree|accept|consent)(?: to)? (?:the |your |our )?(?:terms|t ?& ?cs?|"
     r"privacy|conditions|returns)")),
    ("age-rating", r"\b(?:pegi|bbfc|rated|certificate|cert\.?) ?18\b"),
    ("blade-accessory", (r"\bknife (?:sharpeners?|rolls?|bags?|cases?|racks?|magnets?|strips?|stands?|guards?|holders?|"
     r"blocks?|sheaths?|skills|safety|crime|attacks?|amnesty|arches?|angel|bins?|law|laws|sales|surrender|edge)\b"
     r"(?! set| with)|\bknife-edge\b|\bunder the knife\b")),
    ("not-a-blade", (r"\b(?:wiper|fan|blender|mower|lawnmower|saw|jigsaw|skate|turbine|rotor|shoulder|grass|propeller|"
     r"shaver|trimmer|food processor|mixer)[- ]blades?\b|\belectric (?:razors?|shavers?)\b|\b(?:razor|blade) "
     r"(?:scooter|runner)\b|\baxe (?:body|deodorant|shower|spray)\b|\bsword ?fish\b")),
)

# --- editorial vocabulary and shop voice ------------------------------------------------------------------------------
EDITORIAL_RULES = _rules(
    EDITORIAL, 1.0,
    ("byline", r"\b(?:published|posted|updated|written) (?:on|by)\b|\breporter\b|\bcorrespondent\b|\beditor\b"),
    ("news", r"\bnews\b|\barticle\b|\bblog(?:ger|gers|post)?\b|\bpress release\b|\bchief executive\b"),
    ("guidance", r"\bguidance\b|\bexplained\b|\bwhat you need to know\b|\bhow to buy\b|\bfaqs? about\b"),
    ("law", (r"\bthe law\b|\blegislation\b|\b(?:offensive weapons|criminal justice|crime and policing) (?:act|bill)\b"
     r"|\bparliament\b|\bsection 141[ab]?\b")),
    ("authorities", r"\bhome office\b|\btrading standards\b|\bpolice\b|\bmagistrates?\b|\bcourt\b|\bminister\b"
     r"|\b(?:the |city |county |borough |district )council\b"),
    ("reporting", r"\bsaid\b|\baccording to\b|\bspokes(?:person|man|woman)\b|\bshare (?:this|on)\b|\bcomments?\b"),
    # Issue 13: the law and the trade written about in the third person, by government, press and advisers.
    ("government", r"\bgovernment\b|\bhome secretary\b|\bministers?\b|\bmps?\b|\bannounce[sd]?\b"
     r"|\bannouncement\b|\bcampaigners?\b|\bconsultation\b"),
    ("the-trade", r"\b(?:retailers|sellers|suppliers|businesses|shops|stores|the industry|traders)\b" + S
     + r"{0,30}\b(?:must|should|will (?:need|have) to|need to|are (?:required|expected|urged|advised)|have to"
     r"|failed|were|face)\b"),
    ("enforcement", r"\bfined\b|\bfines?\b|\bprosecut\w+|\bsentenc\w+|\bconvicted\b|\btest purchases?\b"
     r"|\boffences?\b"),
)
SHOP_VOICE_RULES = _rules(
    SHOP_VOICE, 1.0,
    ("our-orders", r"\b(?:we|our)\b" + S + r"{0,40}\b(?:deliver\w{0,20}|dispatch\w{0,20}|courier\w{0,20}|orders?"
     r"|ship\w{0,20}|parcels?)\b"),
    ("your-order", r"\byour (?:order|parcel|delivery|basket|purchase|account)s?\b"),
)

ALL_RULES: list[Rule] = (
    BLADED_RULES + SALE_RULES + STRONG_RULES + WEAK_RULES + PROHIBITED_RULES + NEGATION_RULES + DECOY_RULES
    + EDITORIAL_RULES + SHOP_VOICE_RULES
)

# Rules whose wording already carries its own "not"/"no"/"under": a negation word before them is part of the
# commitment ("we do not sell to under-18s"), not a denial of it.
NEGATION_IMMUNE = frozenset({
    "not-under-18", "over-18s", "wont-leave", "not-left-unattended", "no-safe-place", "no-id-no-sale",
    "not-without-id", "if-no-id-refused", "refused-unless-proven", "if-unproven-refused", "unable-to-verify-refused",
})

FLAGS = re.IGNORECASE
