"""What was offered or sold, judged against the law: an article whose sale to an under-18 is an offence (CJA 1988
s.141A, brief 1.1), an exempt item (the s.141A(3) exclusions, brief 1.1), or a prohibited weapon that may not be sold
to anyone (s.141, brief 1.4; see `prohibited`).

Each verdict carries the reason in officers' words, so the record, the letter and the score say the same thing.
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from . import prohibited as P

INCH_CM = Decimal("2.54")
# s.141A(3): "a folding pocket-knife if the cutting edge of its blade does not exceed 7.62 centimetres (3 inches)".
POCKET_KNIFE_MAX_CM = Decimal("7.62")
# Schedule para. 1(r): "a sword with a curved blade of 50 centimetres or over in length" (measured straight, hilt
# to point).
CURVED_SWORD_MIN_CM = Decimal("50")
# 2024 order: a blade over 8 inches.
ZOMBIE_MIN_BLADE_CM = 8 * INCH_CM
# The longest blade we accept as typed: a two-handed sword is about 130 cm. More is a slip (mm typed as cm).
MAX_BLADE_CM = Decimal("150")


class Category(StrEnum):
    KITCHEN = "kitchen"
    FOLDING = "folding"  # folding or pocket knife (locking or not: see `locking`)
    MULTI_TOOL = "multi-tool"  # a folding tool with a blade: judged as a folding knife
    FIXED_BLADE = "fixed-blade"  # hunting, outdoor, combat and other fixed-blade knives
    CRAFT = "craft"  # craft and utility knives, scalpels, snap-off blades
    AXE = "axe"
    MACHETE = "machete"
    GARDEN = "garden"  # axe, machete or garden tool (older records recorded them together)
    RAZORS = "razors"  # loose or open razor blades
    CARTRIDGE_RAZOR = "cartridge-razor"  # razor blades in a cartridge
    SWORD = "swords"  # a straight-bladed sword
    CURVED_SWORD = "curved-sword"  # katana, sabre, scimitar...
    OTHER = "other"  # another article with a blade or sharp point made or adapted for causing injury


CATEGORY_LABELS = {
    Category.KITCHEN: "Kitchen or table knife", Category.FOLDING: "Folding or pocket knife",
    Category.MULTI_TOOL: "Multi-tool with a blade", Category.FIXED_BLADE: "Fixed-blade knife (hunting, outdoor)",
    Category.CRAFT: "Craft or utility knife, blades", Category.AXE: "Axe or hatchet", Category.MACHETE: "Machete",
    Category.GARDEN: "Axe, machete or garden tool", Category.RAZORS: "Razor blades (loose or open)",
    Category.CARTRIDGE_RAZOR: "Razor blades in a cartridge", Category.SWORD: "Sword (straight blade)",
    Category.CURVED_SWORD: "Sword with a curved blade (katana, sabre)", Category.OTHER: "Other bladed article",
}
FOLDING_CATEGORIES = (Category.FOLDING, Category.MULTI_TOOL)


def category_label(code: str) -> str:
    if code in P.BY_CODE and not P.BY_CODE[code].by_definition:
        name = P.BY_CODE[code].name
        return name[:1].upper() + name[1:]
    try:
        return CATEGORY_LABELS[Category(code)]
    except ValueError:
        return code.replace("-", " ").capitalize() if code else "Not recorded"


def category_choices() -> list[tuple[str, str]]:
    """Item types offered on the forms: the ordinary ones, then the prohibited weapons recorded by type."""
    ordinary = [(c.value, CATEGORY_LABELS[c]) for c in Category if c != Category.GARDEN]
    return ordinary + [(code, f"Prohibited: {label}") for code, label in P.item_choices()]


# The features of the 2024 zombie-knife definition (besides a blade over 8 in, a plain cutting edge and a sharp point).
class Feature(StrEnum):
    PLAIN_EDGE = "plain-edge"
    SHARP_POINT = "sharp-point"
    SERRATED = "serrated"  # a serrated cutting edge, other than up to 2 in next to the handle
    HOLES = "holes"  # more than one hole in the blade
    SPIKES = "spikes"
    POINTS = "points"  # more than two sharp points in the blade


FEATURE_LABELS = {
    Feature.PLAIN_EDGE: "A plain cutting edge", Feature.SHARP_POINT: "A sharp pointed end",
    Feature.SERRATED: "Serrated edge (beyond 2 in next to the handle)",
    Feature.HOLES: "More than one hole in the blade",
    Feature.SPIKES: "Spikes", Feature.POINTS: "More than two sharp points",
}
ZOMBIE_EXTRAS = (Feature.SERRATED, Feature.HOLES, Feature.SPIKES, Feature.POINTS)


class Kind(StrEnum):
    ARTICLE = "article"  # an article under s.141A: selling it to an under-18 is an offence
    EXEMPT = "exempt"  # excluded from s.141A: selling it is no offence
    PROHIBITED = "prohibited"  # may not be sold to anyone (s.141 / ROWA 1959)
    NOT_RECORDED = "not-recorded"  # too little recorded to judge (older records)


KIND_LABELS = {Kind.ARTICLE: "Bladed article (s.141A)", Kind.EXEMPT: "Exempt item",
               Kind.PROHIBITED: "Prohibited weapon", Kind.NOT_RECORDED: "Item details not recorded"}


@dataclass(frozen=True)
class Item:
    category: str
    blade_length_cm: Decimal | None = None
    folding: bool | None = None
    locking: bool | None = None
    features: frozenset[str] = field(default_factory=frozenset)
    cartridge_exposure_under_2mm: bool | None = None
    # Curved swords: made before 1954 or by traditional hand-forging (the Order's exceptions), as the officer found.
    traditional_or_antique: bool | None = None
    description: str = ""


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    reason: str
    law: str
    weapon: P.ProhibitedWeapon | None = None

    @property
    def label(self) -> str:
        if self.weapon is not None:
            return f"Prohibited weapon: {self.weapon.name}"
        return KIND_LABELS[self.kind]

    @property
    def counts_as_offence_if_sold(self) -> bool:
        """A sale of this item to an under-18 is an offence (prohibited items are one whoever buys them)."""
        return self.kind in (Kind.ARTICLE, Kind.PROHIBITED)


S141A = "CJA 1988 s.141A"


def _cm(value: Decimal) -> str:
    inches = (value / INCH_CM).quantize(Decimal("0.1"))
    return f"{value.normalize():f} cm ({inches} in)"


def _is_zombie(item: Item, on: date) -> bool:
    if item.blade_length_cm is None or item.blade_length_cm <= ZOMBIE_MIN_BLADE_CM:
        return False
    features = set(item.features)
    return ({Feature.PLAIN_EDGE, Feature.SHARP_POINT} <= features and bool(features & set(ZOMBIE_EXTRAS))
            and P.weapon("zombie-knife").in_force_on(on))


def judge(item: Item, on: date) -> Verdict:
    """The item's standing on the day of the attempt."""
    code = item.category or ""
    if code in P.BY_CODE and not P.BY_CODE[code].by_definition:
        weapon = P.BY_CODE[code]
        if weapon.in_force_on(on):
            return Verdict(Kind.PROHIBITED, f"A {weapon.name} may not be sold to anyone.", weapon.law, weapon)
        return Verdict(Kind.ARTICLE, f"A {weapon.name}: the ban was not yet in force on {on:%d %b %Y}, so it is "
                       "judged as a bladed article.", S141A)
    if _is_zombie(item, on):
        weapon = P.weapon("zombie-machete" if code in (Category.MACHETE, Category.GARDEN) else "zombie-knife")
        return Verdict(Kind.PROHIBITED, f"Blade {_cm(item.blade_length_cm)} (over 8 in) with a plain edge, a sharp "
                       "point and " + _zombie_extras(item) + ": a zombie-style knife under the 2024 definition.",
                       weapon.law, weapon)
    try:
        category = Category(code)
    except ValueError:
        return Verdict(Kind.NOT_RECORDED, "The item type was not recorded.", S141A)
    if category in FOLDING_CATEGORIES:
        return _judge_folding(item)
    if category == Category.CARTRIDGE_RAZOR:
        if item.cartridge_exposure_under_2mm is None:
            return Verdict(Kind.NOT_RECORDED, "Razor blades in a cartridge: how much blade is exposed was not "
                           "recorded.", S141A)
        if item.cartridge_exposure_under_2mm:
            return Verdict(Kind.EXEMPT, "Razor blades enclosed in a cartridge with less than 2 mm exposed are "
                           "excluded from s.141A.", S141A + "(3)")
        return Verdict(Kind.ARTICLE, "Razor blades with 2 mm or more exposed are covered by s.141A.", S141A)
    if category == Category.CURVED_SWORD:
        return _judge_curved_sword(item, on)
    return Verdict(Kind.ARTICLE, f"{CATEGORY_LABELS[category]}: an article with a blade covered by s.141A.", S141A)


def _zombie_extras(item: Item) -> str:
    names = [FEATURE_LABELS[f].lower() for f in ZOMBIE_EXTRAS if f in item.features]
    return " and ".join(names)


def _judge_folding(item: Item) -> Verdict:
    if item.locking:
        return Verdict(Kind.ARTICLE, "A locking blade is not a folding pocket-knife, whatever its length: covered by "
                       "s.141A.", S141A)
    if item.blade_length_cm is None or item.locking is None:
        missing = " and ".join(n for n, v in (("the cutting edge length", item.blade_length_cm),
                                             ("whether the blade locks", item.locking)) if v is None)
        return Verdict(Kind.NOT_RECORDED, f"Folding knife: {missing} not recorded, so the pocket-knife exclusion "
                       "cannot be judged.", S141A + "(3)")
    if item.blade_length_cm <= POCKET_KNIFE_MAX_CM:
        return Verdict(Kind.EXEMPT, "A folding pocket-knife that does not lock, cutting edge "
                       f"{_cm(item.blade_length_cm)} (3 in or less): excluded from s.141A.", S141A + "(3)")
    return Verdict(Kind.ARTICLE, f"A folding knife with a cutting edge of {_cm(item.blade_length_cm)}, over 3 in: "
                   "covered by s.141A.", S141A)


def _judge_curved_sword(item: Item, on: date) -> Verdict:
    weapon = P.weapon("curved-sword")
    if item.blade_length_cm is None:
        return Verdict(Kind.NOT_RECORDED, "Curved sword: the blade length was not recorded, so whether it is a "
                       "prohibited weapon (50 cm or more) cannot be judged.", weapon.law)
    if item.blade_length_cm < CURVED_SWORD_MIN_CM:
        return Verdict(Kind.ARTICLE, f"A curved sword with a {_cm(item.blade_length_cm)} blade, under 50 cm: not "
                       "prohibited, but covered by s.141A.", S141A)
    if item.traditional_or_antique:
        return Verdict(Kind.ARTICLE, f"A curved sword with a {_cm(item.blade_length_cm)} blade, recorded as made "
                       "before 1954 or forged by hand by traditional methods: the Order's exception; covered by "
                       "s.141A.", S141A)
    return Verdict(Kind.PROHIBITED, f"A curved sword with a {_cm(item.blade_length_cm)} blade (50 cm or more) "
                   "may not be sold unless made before 1954 or forged by hand by traditional methods.",
                   weapon.law, weapon)


def check_measurements(item: Item) -> list[tuple[str, str]]:
    """(field, message) for measurements that cannot be right, or that the verdict needs and are missing."""
    errors = []
    length = item.blade_length_cm
    if length is not None:
        if length <= 0:
            errors.append(("blade_length_cm", "A blade length must be more than 0 cm."))
        elif length > MAX_BLADE_CM:
            errors.append(("blade_length_cm", f"{length.normalize():f} cm is longer than any sword: check the unit "
                           "(centimetres, not millimetres)."))
    code = item.category
    if code in FOLDING_CATEGORIES:
        if length is None:
            errors.append(("blade_length_cm", "Measure the cutting edge: a non-locking folding knife of 7.62 cm (3 in) "
                           "or less is exempt."))
        if item.locking is None:
            errors.append(("locking", "Say whether the blade locks."))
    elif code == Category.CARTRIDGE_RAZOR and item.cartridge_exposure_under_2mm is None:
        errors.append(("cartridge_exposure_under_2mm", "Say whether less than 2 mm of blade is exposed."))
    elif code == Category.CURVED_SWORD and length is None:
        errors.append(("blade_length_cm", "Measure the blade: a curved sword of 50 cm or more is prohibited."))
    return errors
