"""The code of practice's rules for child volunteers (brief 2.2 and 2.3), judged on the day of the attempt.

- Age: the authority sets a range within 12-16 (default 13-16, brief 2.2), and on the attempt date the volunteer must
  be at least 18 months under 18, i.e. younger than 16 years 6 months: "Gap of >=18 months below the legal age".
- Safeguards before an attempt is logged: a risk assessment (2.3 step 1), an officer present (2.2 "always accompanied";
  2.3 "an officer enters first"), a photograph on the day (2.2 "photographed on the day as evidence of appearance").
- Areas to avoid: "not used near home or school, or where they could be recognised" (2.2).
"""
import re
from dataclasses import dataclass
from datetime import date, timedelta

from ..timeutil import add_months

LEGAL_AGE = 18
GAP_MONTHS = 18
AGE_BOUNDS = (12, 16)
DEFAULT_AGE_RANGE = (13, 16)




def age_on(date_of_birth: date, on: date) -> int:
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))


def age_in_years_months(date_of_birth: date, on: date) -> str:
    months = (on.year - date_of_birth.year) * 12 + on.month - date_of_birth.month - (on.day < date_of_birth.day)
    return f"{months // 12} years {months % 12} months"


def latest_attempt_date(date_of_birth: date) -> date:
    """The last day the volunteer is still at least 18 months under 18."""
    return add_months(date_of_birth, (LEGAL_AGE * 12) - GAP_MONTHS) - timedelta(days=1)


def age_problem(date_of_birth: date, on: date, age_range: tuple[int, int] = DEFAULT_AGE_RANGE) -> str | None:
    """Why this volunteer may not take part in an attempt on `on`, or None."""
    low, high = age_range
    age = age_on(date_of_birth, on)
    exact = age_in_years_months(date_of_birth, on)
    if age >= LEGAL_AGE:
        return f"The volunteer is {exact} old on {on:%d %b %Y}: an underage test needs someone under 18."
    if on > latest_attempt_date(date_of_birth):
        return (f"The volunteer is {exact} old on {on:%d %b %Y}: the code of practice needs volunteers at least "
                f"18 months under 18 (younger than 16 years 6 months).")
    if age < low or age > high:
        return (f"The volunteer is {exact} old on {on:%d %b %Y}: this authority uses volunteers aged {low} to "
                f"{high}.")
    return None


@dataclass(frozen=True)
class Safeguards:
    risk_assessment_ref: str = ""
    officer_present: bool | None = None
    photo_on_day_ref: str = ""


def missing_safeguards(safeguards: Safeguards) -> list[tuple[str, str]]:
    """(field, message) for each safeguard not recorded. An underage attempt cannot be logged without all three."""
    missing = []
    if not (safeguards.risk_assessment_ref or "").strip():
        missing.append(("risk_assessment_ref", "Give the risk assessment reference for this attempt (code of "
                        "practice: risk assessment and briefing first)."))
    if not safeguards.officer_present:
        missing.append(("officer_present", "An officer must be present with the volunteer: confirm one was."))
    if not (safeguards.photo_on_day_ref or "").strip():
        missing.append(("photo_on_day_ref", "Give the reference of the volunteer's photograph taken on the day."))
    return missing


_POSTCODE_AREA = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?$")  # an outward code: E8, SW1A, N16
_FULL_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})$")


def _entries(areas_to_avoid: str) -> list[str]:
    return [e.strip() for e in re.split(r"[\n,;]+", areas_to_avoid or "") if e.strip()]


def _normal_postcode(text: str) -> tuple[str, str]:
    """(outward, full) for a postcode, upper-case without spaces in the full form."""
    compact = re.sub(r"\s+", "", (text or "").upper())
    match = _FULL_POSTCODE.match(compact)
    return (match.group(1), compact) if match else ("", "")


def area_to_avoid_hit(areas_to_avoid: str, *, postcode: str = "", borough: str = "", borough_name: str = "",
                      address: str = "") -> str | None:
    """The entry of the volunteer's areas to avoid that this shop falls inside, or None.

    Entries are separated by commas, semicolons or new lines. An entry is a postcode district ("E8"), a full
    postcode, a borough (code or name), or a place or street name matched as whole words in the shop's address."""
    outward, full = _normal_postcode(postcode)
    words_in_address = f" {re.sub(r'[^a-z0-9]+', ' ', (address or '').lower())} "
    for entry in _entries(areas_to_avoid):
        upper = re.sub(r"\s+", "", entry.upper())
        if _POSTCODE_AREA.match(upper):
            if outward and outward == upper:
                return entry
            continue
        if _FULL_POSTCODE.match(upper):
            if full and full == upper:
                return entry
            continue
        lowered = entry.lower()
        if lowered in {(borough or "").lower(), (borough_name or "").lower()}:
            return entry
        phrase = re.sub(r"[^a-z0-9]+", " ", lowered).strip()
        if phrase and f" {phrase} " in words_in_address:
            return entry
    return None

