"""The 33 London local authorities (32 boroughs and the City), the spellings people use, and the tile map grid."""
import re
from dataclasses import dataclass

OUTSIDE_LONDON = "outside"


@dataclass(frozen=True)
class Borough:
    code: str  # stable slug stored in the database
    name: str
    abbr: str  # three letters for the tile map
    row: int  # position on the familiar London square-tile grid
    col: int


LONDON_BOROUGHS: tuple[Borough, ...] = (
    Borough("enfield", "Enfield", "ENF", 0, 3),
    Borough("harrow", "Harrow", "HRW", 1, 1),
    Borough("barnet", "Barnet", "BRN", 1, 2),
    Borough("haringey", "Haringey", "HGY", 1, 3),
    Borough("waltham-forest", "Waltham Forest", "WFT", 1, 4),
    Borough("hillingdon", "Hillingdon", "HDN", 2, 0),
    Borough("ealing", "Ealing", "EAL", 2, 1),
    Borough("brent", "Brent", "BRT", 2, 2),
    Borough("camden", "Camden", "CMD", 2, 3),
    Borough("islington", "Islington", "ISL", 2, 4),
    Borough("hackney", "Hackney", "HCK", 2, 5),
    Borough("redbridge", "Redbridge", "RED", 2, 6),
    Borough("havering", "Havering", "HAV", 2, 7),
    Borough("hounslow", "Hounslow", "HNS", 3, 0),
    Borough("hammersmith-fulham", "Hammersmith and Fulham", "HMS", 3, 1),
    Borough("kensington-chelsea", "Kensington and Chelsea", "KNS", 3, 2),
    Borough("westminster", "Westminster", "WST", 3, 3),
    Borough("city-of-london", "City of London", "CTY", 3, 4),
    Borough("tower-hamlets", "Tower Hamlets", "TOW", 3, 5),
    Borough("newham", "Newham", "NWM", 3, 6),
    Borough("barking-dagenham", "Barking and Dagenham", "BAR", 3, 7),
    Borough("richmond", "Richmond upon Thames", "RCH", 4, 1),
    Borough("wandsworth", "Wandsworth", "WNS", 4, 2),
    Borough("lambeth", "Lambeth", "LAM", 4, 3),
    Borough("southwark", "Southwark", "STH", 4, 4),
    Borough("lewisham", "Lewisham", "LSH", 4, 5),
    Borough("greenwich", "Greenwich", "GRN", 4, 6),
    Borough("bexley", "Bexley", "BXL", 4, 7),
    Borough("kingston", "Kingston upon Thames", "KNG", 5, 2),
    Borough("merton", "Merton", "MRT", 5, 3),
    Borough("croydon", "Croydon", "CRD", 5, 4),
    Borough("bromley", "Bromley", "BRM", 5, 5),
    Borough("sutton", "Sutton", "SUT", 6, 3),
)

BY_CODE = {b.code: b for b in LONDON_BOROUGHS}
BOROUGH_CHOICES = [(b.code, b.name) for b in sorted(LONDON_BOROUGHS, key=lambda b: b.name)] + [
    (OUTSIDE_LONDON, "Outside London")
]


# Words councils add around a borough's name: "LB Hackney", "London Borough of Hackney Council", "Royal Borough of
# Kingston upon Thames", "City of London Corporation", "Westminster City Council".
_NOISE = re.compile(r"\b(the|london borough of|royal borough of|borough of|lb of|lbo|lb|rb|council|corporation|"
                    r"upon thames|on thames)\b")


def _key(text: str) -> str:
    text = text.lower().replace("&", " and ")
    text = re.sub(r"\([^)]*\)", " ", text)  # "City of London Corporation (Port Health)"
    text = re.sub(r"\bcorporation of london\b", "city of london", text)
    return re.sub(r"[^a-z]", "", _NOISE.sub(" ", text))


_ALIASES: dict[str, str] = {}
for _b in LONDON_BOROUGHS:
    _ALIASES[_key(_b.name)] = _b.code
    _ALIASES[_key(_b.code.replace("-", " "))] = _b.code
    _ALIASES[_b.abbr.lower()] = _b.code
_ALIASES.update({
    "westminster": "westminster", "cityofwestminster": "westminster", "westminstercity": "westminster",
    "city": "city-of-london", "cityoflondon": "city-of-london", "corporationoflondon": "city-of-london",
    "hammersmith": "hammersmith-fulham", "hammersmithfulham": "hammersmith-fulham",
    "kensington": "kensington-chelsea", "kensingtonchelsea": "kensington-chelsea", "rbkc": "kensington-chelsea",
    "richmond": "richmond", "kingston": "kingston",
    "barking": "barking-dagenham", "barkingdagenham": "barking-dagenham", "lbbd": "barking-dagenham",
    "towerhamlets": "tower-hamlets", "walthamforest": "waltham-forest",
    "outside": OUTSIDE_LONDON, "outsidelondon": OUTSIDE_LONDON,
})


def normalise_borough(text: str | None) -> str | None:
    """Map a spelling ("LB Hackney", "hackney", "Kensington & Chelsea") to a borough code, or None if unknown."""
    if text is None:
        return None
    key = _key(text)
    return _ALIASES.get(key) if key else None


def borough_name(code: str | None) -> str:
    if not code:
        return ""
    if code == OUTSIDE_LONDON:
        return "Outside London"
    b = BY_CODE.get(code)
    return b.name if b else code
