"""Letter wording the authority controls (issue 12 part 2).

Each letter kind has one or more passages an administrator may reword in the app: the advice in a test purchase
letter, the body of a training invitation, the basis and the rights in a notice of intended naming, the right of
appeal in a decision. The rest of each letter (letterhead, addressee, reference, the result of the test, the
statement) stays in code, because it is fact, not wording.

A passage is plain text, never a template: blank lines separate paragraphs, a line starting with "## " is a
heading, **text** is bold, and `{name}` inserts one of the passage's listed placeholders. Nothing an administrator
types can run code or add markup (everything is escaped), and what the law requires a letter to say (the offence,
the date by which representations may be made, the basis for the notice, the appeal deadline) is a placeholder
the passage must keep: `check` refuses a passage without it, so it cannot be saved.

An authority's wording is stored as a setting (`letter_wording.<key>`, audited like every setting); without one the
standard wording below is used. A letter that has been sent keeps the text it was sent with (LetterDispatch.content
and NotificationLetter.content), so rewording changes only letters not yet sent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from markupsafe import Markup, escape

from ..extensions import db
from ..models.settings import Setting
from ..settings import save_settings

SETTING_PREFIX = "letter_wording."
MAX_LENGTH = 6000
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)


@dataclass(frozen=True)
class Placeholder:
    name: str
    meaning: str
    sample: str
    required: bool = False  # legal wording: the passage cannot be saved without it


@dataclass(frozen=True)
class Wording:
    key: str
    kind: str  # the letter kind's name (retail.letters.kinds)
    title: str
    where: str  # where the passage sits in the letter, for the administrator
    standard: str
    placeholders: tuple[Placeholder, ...]

    @property
    def setting_key(self) -> str:
        return SETTING_PREFIX + self.key

    @property
    def required(self) -> list[Placeholder]:
        return [p for p in self.placeholders if p.required]

    def sample_values(self) -> dict[str, str]:
        return {p.name: p.sample for p in self.placeholders}


class WordingError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


WORDINGS: dict[str, Wording] = {}


def _define(wording: Wording) -> Wording:
    WORDINGS[wording.key] = wording
    return wording


_AUTHORITY = Placeholder("authority_name", "Your authority's name", "London Borough of Sample Trading Standards")
_WHERE = Placeholder("where", "The shop or online store that was tested", "your shop Corner Hardware, 1 High Street, "
                     "London E1 1AA")

# --- test purchase letters --------------------------------------------------------------------------------------------

_define(Wording(
    key="test-purchase.advice", kind="test-purchase", title="Advice after a sale in a shop",
    where="Test purchase letters where a shop sold a bladed article to a young person, after the result.",
    standard=(
        "**Selling a knife or bladed article to a person under 18 is an offence** under {offence}. We are "
        "considering what further action to take, and may retest your business without notice.\n\n"
        "We strongly advise you to: operate a Challenge 25 policy and ask for photographic ID (a PASS-hologram "
        "card, passport or photocard driving licence); train every member of staff who sells knives and keep "
        "training records; use till prompts and keep a refusals log; and display knives securely."),
    placeholders=(
        Placeholder("offence", "The offence: section 141A of the Criminal Justice Act 1988 (141B for remote sales)",
                    "section 141A of the Criminal Justice Act 1988 (section 141B for remote sales)", required=True),
        _WHERE, _AUTHORITY)))

_define(Wording(
    key="test-purchase.online-advice", kind="test-purchase", title="Advice after an online sale",
    where="Test purchase letters where an online sale or a delivery failed, after where it went wrong.",
    standard=(
        "**Selling a bladed article to a person under 18 is an offence** ({offence}). For a remote sale the "
        "seller must {remote_sale_conditions}. We are considering what further action to take."),
    placeholders=(
        Placeholder("offence", "The offences: Criminal Justice Act 1988 s.141A and s.141B; Offensive Weapons Act "
                    "2019, Part 3", "Criminal Justice Act 1988, s.141A and s.141B; Offensive Weapons Act 2019, "
                    "Part 3", required=True),
        Placeholder("remote_sale_conditions", "What the law requires of a remote sale (s.141B conditions and OWA "
                    "2019 s.38-39)", "operate an age-verification system likely to prevent sales to under-18s, "
                    "mark the parcel as containing a bladed article for delivery only to a person aged 18 or "
                    "over, take all reasonable precautions that it is delivered into the hands of an adult, and "
                    "not deliver to a locker", required=True),
        _WHERE, _AUTHORITY)))

_define(Wording(
    key="test-purchase.closing", kind="test-purchase", title="Closing paragraph",
    where="Every test purchase letter, pass or fail, before the signature.",
    standard=("Guidance on selling knives responsibly, and details of our free retailer training, are available "
              "from us at the address above. Please contact us if you have any questions about this letter."),
    placeholders=(_AUTHORITY, Placeholder("phone", "Your letterhead telephone number", "020 7946 0000"),
                  Placeholder("email", "Your letterhead email address", "trading.standards@example.gov.uk"))))

# --- training invitations ---------------------------------------------------------------------------------------------

_define(Wording(
    key="training-invitation.body", kind="training-invitation", title="What the course is and how to reply",
    where="Training invitation letters, after the date and venue of the session.",
    standard=(
        "The course covers the law on selling knives and bladed articles to under-18s, how to assess, challenge "
        "and check a customer's age, acceptable proof of age, storing and displaying knives securely, and when "
        "to contact the police. Staff who pass receive a certificate valid for {validity_months} months.\n\n"
        "**Please reply by {reply_by}**, accepting or declining online at {contact_url} (sign in and choose "
        "“My business”), or by calling {phone}."),
    placeholders=(
        Placeholder("reply_by", "The date by which the business must reply (a refusal counts after it)",
                    "18 December 2026", required=True),
        Placeholder("validity_months", "How long a certificate lasts, in months", "12"),
        Placeholder("contact_url", "Where the retailer portal is", "https://example.invalid/knife-retail-tracker"),
        Placeholder("phone", "Your letterhead telephone number", "020 7946 0000"),
        Placeholder("business_name", "The business's trading name", "Corner Hardware"),
        _AUTHORITY)))

_define(Wording(
    key="training-reminder.body", kind="training-reminder", title="Why the certificate matters and how to renew it",
    where="Training reminder letters, the whole body.",
    standard=(
        "Our records show that the retailer training certificate held by {person_name} at {shop} expires on "
        "**{expires}**. After that date the shop has no record of trained staff from that certificate.\n\n"
        "Staff who sell knives should be trained, and their training refreshed: it is part of the precautions a "
        "business is expected to take to avoid selling to anyone under 18. Book a refresher session at "
        "{contact_url} (sign in and choose “My business”), or call us on {phone}."),
    placeholders=(
        Placeholder("expires", "The date the certificate expires", "31 January 2027", required=True),
        Placeholder("person_name", "The member of staff who holds the certificate", "Amir Patel"),
        Placeholder("shop", "The shop they work at", "Corner Hardware"),
        Placeholder("contact_url", "Where the retailer portal is", "https://example.invalid/knife-retail-tracker"),
        Placeholder("phone", "Your letterhead telephone number", "020 7946 0000"),
        _AUTHORITY)))

# --- advice visit records ---------------------------------------------------------------------------------------------

_define(Wording(
    key="visit-record.closing", kind="visit-record", title="The law and what advice means",
    where="The record of an advice visit, after the advice given and the next visit.",
    standard=("Selling a knife or bladed article to anyone under 18 is an offence ({offence}). A business that has "
              "been given advice and does not act on it is treated more seriously if a sale is made later."),
    placeholders=(
        Placeholder("offence", "The offence: section 141A of the Criminal Justice Act 1988",
                    "Criminal Justice Act 1988, s.141A", required=True),
        Placeholder("business_name", "The business's trading name", "Corner Hardware"), _AUTHORITY)))

# --- naming -----------------------------------------------------------------------------------------------------------

_define(Wording(
    key="naming-notice.basis", kind="naming-notice", title="Why we intend to name the business",
    where="The notice of intended naming, before the shops and the statement.",
    standard=(
        "Our records show that {basis}. Under the Mayor of London's knife crime strategy we intend to publish the "
        "following statement on the public register of named businesses, with your trading name and these shop "
        "addresses:"),
    placeholders=(
        Placeholder("basis", "The grounds, from the naming rules: the sales and the refused training",
                    "your business sold knives to people under 18 on at least 2 occasions within 12 months and, "
                    "after the first of those sales, refused the training offered to it at least once",
                    required=True),
        Placeholder("business_name", "The business's trading name", "Corner Hardware"), _AUTHORITY)))

_define(Wording(
    key="naming-notice.rights", kind="naming-notice", title="The business's rights",
    where="The notice of intended naming, after the statement.",
    standard=(
        "## Your right to make representations\n\n"
        "You may tell us why the statement should not be published, or is inaccurate, by **{representations_due}**. "
        "Sign in to the retailer portal and open \"Notice of intended naming\", or write to us at the address "
        "above. A senior officer who was not involved in this proposal will consider what you say before any "
        "decision. Nothing will be published before that date, nor while any caution or prosecution decision is "
        "pending. If we then decide to publish, we will write to you with our reasons and you will have "
        "{appeal_days} days to appeal to a senior officer involved neither in the proposal nor in that decision; "
        "nothing is published before that time has passed or while an appeal is being decided.\n\n"
        "## Your right to reply\n\n"
        "If the statement is published, you may give a short reply which will be published next to it (we check "
        "replies only for offensive or unlawful content). An entry stays on the register for {publish_period}. "
        "It can be removed earlier, on request, after a passed test purchase and completed training."),
    placeholders=(
        Placeholder("representations_due", "The last day for representations (or how many days from the notice)",
                    "5 Jan 2027", required=True),
        Placeholder("appeal_days", "Days the business has to appeal a decision to publish", "21", required=True),
        Placeholder("publish_period", "How long an entry stays published", "12 months", required=True),
        Placeholder("business_name", "The business's trading name", "Corner Hardware"), _AUTHORITY)))

_define(Wording(
    key="naming-decision.appeal", kind="naming-decision", title="The right to appeal a decision to publish",
    where="The decision letter when we decide to publish, before any appeal.",
    standard=(
        "You may appeal against this decision until **{appeal_due}**: sign in to the retailer portal, or write to "
        "us at the address above giving your reasons. A senior officer involved neither in the proposal nor in "
        "this decision will decide the appeal. Nothing will be published before that date, nor while an appeal is "
        "being decided; if your appeal is allowed, nothing is published."),
    placeholders=(
        Placeholder("appeal_due", "The last day to appeal", "26 Jan 2027", required=True),
        Placeholder("business_name", "The business's trading name", "Corner Hardware"), _AUTHORITY)))


_define(Wording(
    key="naming-appeal.refused", kind="naming-appeal", title="An appeal refused",
    where="The letter telling the business its appeal against a decision to publish was refused.",
    standard=("You appealed on {appeal_lodged_on}. A senior officer involved neither in the proposal nor in the "
              "decision considered your appeal and refused it: {reasons} The statement may now be published."),
    placeholders=(
        Placeholder("reasons", "The reasons the appeal was refused, as the deciding officer wrote them",
                    "The sales were confirmed by the officers' records and no training has been booked.",
                    required=True),
        Placeholder("appeal_lodged_on", "The date the business appealed", "12 Jan 2027"),
        Placeholder("business_name", "The business's trading name", "Corner Hardware"), _AUTHORITY)))

_define(Wording(
    key="naming-appeal.allowed", kind="naming-appeal", title="An appeal allowed",
    where="The letter telling the business its appeal was allowed and nothing will be published.",
    standard=("We wrote to you on {decided_on} with our decision to publish a statement about your business. You "
              "appealed on {appeal_lodged_on}. A senior officer involved neither in the proposal nor in that decision "
              "has considered your appeal and allowed it. Nothing will be published and the case is closed.\n\n"
              "## Reasons\n\n{reasons}"),
    placeholders=(
        Placeholder("reasons", "The reasons the appeal was allowed, as the deciding officer wrote them",
                    "The shop's second sale was to a person later found to be 18.", required=True),
        Placeholder("decided_on", "The date of the decision to publish", "2 Jan 2027"),
        Placeholder("appeal_lodged_on", "The date the business appealed", "12 Jan 2027"),
        Placeholder("business_name", "The business's trading name", "Corner Hardware"), _AUTHORITY)))


# --- checking and rendering -------------------------------------------------------------------------------------------

def check(wording: Wording, text: str) -> list[str]:
    """Why `text` cannot be saved as `wording`'s passage (empty when it can)."""
    text = (text or "").strip()
    if not text:
        return ["Enter the wording, or restore the standard wording."]
    problems = []
    if len(text) > MAX_LENGTH:
        problems.append(f"The wording is {len(text):,} characters long; the most is {MAX_LENGTH:,}.")
    known = {p.name for p in wording.placeholders}
    used = _PLACEHOLDER.findall(text)
    unknown = sorted({name for name in used if name not in known})
    for name in unknown:
        problems.append(f"{{{name}}} is not a placeholder of this letter. Use one of: "
                        + ", ".join(f"{{{p.name}}}" for p in wording.placeholders) + ".")
    stray = _PLACEHOLDER.sub("", text)
    if "{" in stray or "}" in stray:
        problems.append("A { or } is not part of a placeholder: placeholders are a name in lower case inside "
                        "braces, such as {" + wording.placeholders[0].name + "}.")
    for placeholder in wording.required:
        if placeholder.name not in used:
            problems.append(f"The letter must keep {{{placeholder.name}}} ({placeholder.meaning.lower()}): it is "
                            "wording the law or our procedure requires, and cannot be removed.")
    if text.count("**") % 2:
        problems.append("Bold text needs ** at both ends.")
    return problems


def text_for(wording: Wording, settings: dict) -> str:
    return (settings.get(wording.setting_key) or "").strip() or wording.standard


def is_standard(wording: Wording, settings: dict) -> bool:
    return text_for(wording, settings) == wording.standard


def render_text(text: str, values: dict) -> Markup:
    """Paragraphs of escaped text with the placeholders filled in (their values are escaped too)."""
    def fill(match: re.Match) -> str:
        return str(escape(values[match.group(1)]))

    blocks = []
    for block in re.split(r"\n\s*\n", text.strip().replace("\r\n", "\n")):
        block = block.strip()
        if not block:
            continue
        heading = block.startswith("## ")
        html = str(escape(block[3:] if heading else block))
        html = _BOLD.sub(r"<strong>\1</strong>", html)
        html = _PLACEHOLDER.sub(fill, html).replace("\n", " ")
        blocks.append(f"<h2>{html}</h2>" if heading else f"<p>{html}</p>")
    return Markup("\n".join(blocks))


def render(key: str, settings: dict, **values) -> Markup:
    """The passage `key` as the authority words it, for a letter template. Every placeholder the passage may use
    must be given: a letter never goes out with a placeholder left in it."""
    wording = WORDINGS[key]
    missing = {p.name for p in wording.placeholders} - set(values)
    if missing:
        raise KeyError(f"letter passage {key} needs {sorted(missing)}")
    return render_text(text_for(wording, settings), {k: "" if v is None else str(v) for k, v in values.items()})


def save(wording: Wording, text: str, authority_id: int | None) -> None:
    """Save the authority's wording (refused with the reasons when it breaks a rule)."""
    text = (text or "").replace("\r\n", "\n").strip()
    problems = check(wording, text)
    if problems:
        raise WordingError(problems)
    save_settings({wording.setting_key: text}, authority_id=authority_id)


def restore_standard(wording: Wording, authority_id: int | None) -> bool:
    """Drop the authority's own wording for this passage (the standard wording applies again)."""
    row = db.session.scalar(sa.select(Setting).where(
        Setting.key == wording.setting_key,
        Setting.authority_id == authority_id if authority_id is not None else Setting.authority_id.is_(None)))
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def by_kind() -> dict[str, list[Wording]]:
    grouped: dict[str, list[Wording]] = {}
    for wording in WORDINGS.values():
        grouped.setdefault(wording.kind, []).append(wording)
    return grouped


__all__ = ["WORDINGS", "Placeholder", "Wording", "WordingError", "by_kind", "check", "is_standard", "render",
           "render_text", "restore_standard", "save", "text_for"]
