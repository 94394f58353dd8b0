"""The one catalogue of prohibited weapons: the in-store record offers these as item types, letters name them, and
the listing monitor builds its prohibited-item patterns from them.

Selling, hiring, offering or exposing for sale any of these is an offence whatever the buyer's age (CJA 1988 s.141
and the Schedule to the Criminal Justice Act 1988 (Offensive Weapons) Order 1988 as amended; Restriction of
Offensive Weapons Act 1959 s.1 for flick and gravity knives). Brief 1.4 gives the 2024 zombie-knife definition; the
rest of the Schedule is from the Order itself (the brief's §1.4 names only the 2024 and 2025 changes).

Note on the ninja sword: the brief (1.4) marks the ban "announced, status not verified"; issue 8 calls it "the 2025
ninja sword ban". We follow the issue (the order came into force on 1 August 2025): flagging a ninja sword protects
the child, and the officer still sees that the item type was the officer's own reading, not a measured definition.
"""
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class ProhibitedWeapon:
    code: str
    name: str  # the name officers, letters and the monitor use
    law: str  # where the ban comes from, in officers' words
    in_force: date | None = None  # None: in force long before any record this app holds
    # Judged by a definition (blade length, features) rather than by the item type alone.
    by_definition: bool = False
    # Listing monitor patterns: (rule id, regex). Case-insensitive; matched on whitespace-collapsed text.
    listing_patterns: tuple[tuple[str, str], ...] = field(default=())

    def in_force_on(self, day: date) -> bool:
        return self.in_force is None or day >= self.in_force


SCHEDULE = "CJA 1988 s.141 (Offensive Weapons Order 1988, Schedule)"
_BLADE_WORD = r"(?:knife|knives|blades?|machetes?|swords?|daggers?|killer|slayer|hunter)"
_S = r"[^.!?;\n]"  # any character inside the current sentence

ZOMBIE_2024_IN_FORCE = date(2024, 9, 24)
NINJA_SWORD_IN_FORCE = date(2025, 8, 1)

CATALOGUE: tuple[ProhibitedWeapon, ...] = (
    ProhibitedWeapon(
        "zombie-knife", "zombie knife", "CJA 1988 s.141, 2024 order (zombie-style knives and machetes)",
        ZOMBIE_2024_IN_FORCE, by_definition=True, listing_patterns=(
            ("zombie", r"\bzombie\b" + _S + r"{0,40}?\b" + _BLADE_WORD + r"\b"
             r"|\b" + _BLADE_WORD + r"\b" + _S + r"{0,40}?\bzombie\b"
             r"|\bzombie[- ](?:knife|knives|killer|slayer|hunter|machete|blade|sword)s?\b"),)),
    ProhibitedWeapon(
        "zombie-machete", "zombie-style machete", "CJA 1988 s.141, 2024 order (zombie-style knives and machetes)",
        ZOMBIE_2024_IN_FORCE, by_definition=True, listing_patterns=(
            # Ordinary garden machetes are legal; only the 2024-order features (serration, spikes, holes) ban one.
            ("zombie-machete", r"\bmachetes?\b" + _S + r"{0,50}\b(?:serrated|serrations|spiked?|spikes|holes|"
             r"cut-?outs|hooked points?|multiple points)\b|\b(?:serrated|spiked|spikes)\b" + _S
             + r"{0,50}\bmachetes?\b"),
        )),
    ProhibitedWeapon(
        "curved-sword", "curved sword (blade 50 cm or more)", SCHEDULE + ", para. 1(r)", date(2008, 4, 6),
        by_definition=True),
    ProhibitedWeapon(
        "ninja-sword", "ninja sword", "CJA 1988 s.141, 2025 order (ninja swords)", NINJA_SWORD_IN_FORCE,
        listing_patterns=(("ninja-sword",
                           r"\bninja (?:swords?|blades?|katanas?)\b|\bninjato\b|\bshinobi[- ]?gatana\b"),)),
    ProhibitedWeapon(
        "flick-knife", "flick knife", "Restriction of Offensive Weapons Act 1959 s.1", listing_patterns=(
            ("flick-knife", r"\b(?:flick|switch|automatic|auto|out[- ]the[- ]front|otf|push[- ]button|spring[- ]loaded)"
             r"[- ]?(?:knife|knives|blades?)\b|\bswitchblades?\b|\bflick ?knives\b"),)),
    ProhibitedWeapon(
        "gravity-knife", "gravity knife", "Restriction of Offensive Weapons Act 1959 s.1", listing_patterns=(
            ("gravity-knife", r"\bgravity (?:knife|knives|blades?)\b"),)),
    ProhibitedWeapon(
        "butterfly-knife", "butterfly knife", SCHEDULE + ", para. 1(i) (balisong)", listing_patterns=(
            ("butterfly-knife", r"\bbutterfly (?:knife|knives|blades?|combs?)\b|\bbalisongs?\b"),)),
    ProhibitedWeapon(
        "knuckleduster", "knuckle-duster", SCHEDULE + ", para. 1(a)", listing_patterns=(
            ("knuckle-duster", r"\bknuckle[- ]?dusters?\b|\bbrass knuckles?(?: dusters?)?\b"),)),
    ProhibitedWeapon(
        "knuckle-knife", "knuckle knife", SCHEDULE + ", para. 1(a) (a blade with a knuckle-duster grip)",
        listing_patterns=(("knuckle-knife", r"\bknuckle (?:knife|knives|blades?|daggers?)\b|\btrench knife\b"
                           r"|\bknuckle[- ]?guard (?:knife|dagger)\b"),)),
    ProhibitedWeapon(
        "push-dagger", "push dagger", SCHEDULE + ", para. 1(e)", listing_patterns=(
            ("push-dagger", r"\bpush[- ]?(?:daggers?|knife|knives)\b|\bpunch daggers?\b|\bkatars?\b"),)),
    ProhibitedWeapon(
        "belt-buckle-knife", "belt-buckle knife", SCHEDULE + ", para. 1(d)", listing_patterns=(
            ("belt-buckle-knife", r"\bbelt[- ]?buckle (?:knife|knives|blades?|daggers?)\b"),)),
    ProhibitedWeapon(
        "sword-stick", "sword-stick", SCHEDULE + ", para. 1(b)", listing_patterns=(
            ("sword-stick", r"\bsword[- ]?sticks?\b|\bcane swords?\b|\bsword canes?\b|\bwalking stick swords?\b"),)),
    ProhibitedWeapon(
        "disguised-knife", "disguised knife", SCHEDULE + ", para. 1(o)", listing_patterns=(
            ("disguised-knife",
             r"\b(?:lipstick|comb|hidden|concealed|disguised|hairbrush) (?:knife|knives|blades?|daggers?)\b"),)),
    ProhibitedWeapon(
        "stealth-knife", "stealth knife (non-metallic)", SCHEDULE + ", para. 1(p)", listing_patterns=(
            ("stealth-knife", r"\bstealth (?:knife|knives|daggers?)\b|\b(?:ceramic|carbon fib(?:re|er)|plastic|"
             r"polymer) (?:covert|concealed|undetectable) (?:knife|knives|daggers?)\b"),)),
    ProhibitedWeapon(
        "throwing-star", "throwing star", SCHEDULE + ", para. 1(h) (shuriken)", listing_patterns=(
            ("throwing-star", r"\b(?:throwing|death|ninja) stars?\b|\bshuriken\b"),)),
    ProhibitedWeapon(
        "cyclone-knife", "cyclone knife", SCHEDULE + " (cyclone or spiral knife)", date(2016, 8, 1), listing_patterns=(
            ("cyclone-knife", r"\b(?:cyclone|spiral) (?:knife|knives|blades?)\b"),)),
    ProhibitedWeapon(
        "handclaw", "handclaw or footclaw", SCHEDULE + ", para. 1(c) and (g)", listing_patterns=(
            ("handclaw", r"\b(?:hand|foot|tiger|bagh) ?claws?\b|\bbagh nakh\b"),)),
    ProhibitedWeapon("hollow-kubotan", "hollow kubotan (with spikes)", SCHEDULE + ", para. 1(f)"),
    ProhibitedWeapon("kusari-gama", "kusari gama, kyoketsu shoge or manrikigusari", SCHEDULE + ", para. 1(l)-(n)"),
    ProhibitedWeapon("telescopic-truncheon", "telescopic or friction-lock truncheon", SCHEDULE + ", para. 1(j), (q)"),
    ProhibitedWeapon("blowpipe", "blowpipe", SCHEDULE + ", para. 1(k)"),
)
BY_CODE = {weapon.code: weapon for weapon in CATALOGUE}


def weapon(code: str) -> ProhibitedWeapon:
    return BY_CODE[code]


def item_choices() -> list[tuple[str, str]]:
    """Prohibited item types an officer can record, in catalogue order (the definition-judged ones are recorded as
    the ordinary item type with its measurements: a machete, a sword)."""
    return [(w.code, w.name[:1].upper() + w.name[1:]) for w in CATALOGUE if not w.by_definition]


def listing_patterns() -> list[tuple[str, str, str]]:
    """(rule id, regex, label) for the listing monitor."""
    return [(rule_id, pattern, w.name) for w in CATALOGUE for rule_id, pattern in w.listing_patterns]
