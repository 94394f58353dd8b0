"""The retailer register: businesses, their shops, online stores and Responsible Retailers Agreement signatures."""
import re
from datetime import date, datetime
from enum import StrEnum
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..boroughs import borough_name
from ..extensions import db
from ..timeutil import UTCDateTime, utcnow
from .base import Audited, Timestamps, Versioned, enum_column


class BusinessType(StrEnum):
    INDEPENDENT = "independent"
    MULTIPLE = "multiple"
    NATIONAL_AGREEMENT = "national-agreement"
    ONLINE_ONLY = "online-only"
    MARKETPLACE_SELLER = "marketplace-seller"
    COURIER = "courier"  # a delivery company: a party to online sales (OWA 2019 s.39/s.42), not a knife seller


BUSINESS_TYPE_LABELS = {
    BusinessType.INDEPENDENT: "Independent",
    BusinessType.MULTIPLE: "Multiple / chain",
    BusinessType.NATIONAL_AGREEMENT: "National voluntary agreement signatory",
    BusinessType.ONLINE_ONLY: "Online only",
    BusinessType.MARKETPLACE_SELLER: "Marketplace seller",
    BusinessType.COURIER: "Courier (delivery company)",
}


class SellsCategory(StrEnum):
    KITCHEN = "kitchen"
    FOLDING = "folding"
    MULTI_TOOL = "multi-tool"
    CRAFT = "craft"
    GARDEN = "garden"
    RAZORS = "razors"
    SWORDS = "swords"
    OTHER = "other"


SELLS_LABELS = {
    SellsCategory.KITCHEN: "Kitchen / domestic knives",
    SellsCategory.FOLDING: "Folding / pocket knives",
    SellsCategory.MULTI_TOOL: "Multi-tools",
    SellsCategory.CRAFT: "Craft knives and blades",
    SellsCategory.GARDEN: "Garden tools, axes, machetes",
    SellsCategory.RAZORS: "Razors",
    SellsCategory.SWORDS: "Swords / martial arts",
    SellsCategory.OTHER: "Other bladed articles",
}


class KnifeDisplay(StrEnum):
    LOCKED_CABINET = "locked-cabinet"
    BEHIND_COUNTER = "behind-counter"
    OPEN_SHELF = "open-shelf"


DISPLAY_LABELS = {
    KnifeDisplay.LOCKED_CABINET: "Locked cabinet",
    KnifeDisplay.BEHIND_COUNTER: "Behind the counter",
    KnifeDisplay.OPEN_SHELF: "Open shelf",
}


class PremisesStatus(StrEnum):
    TRADING = "trading"
    CLOSED = "closed"


class Platform(StrEnum):
    OWN_WEBSITE = "own-website"
    EBAY = "ebay"
    AMAZON = "amazon"
    ETSY = "etsy"
    OTHER_MARKETPLACE = "other-marketplace"


PLATFORM_LABELS = {
    Platform.OWN_WEBSITE: "Own website",
    Platform.EBAY: "eBay",
    Platform.AMAZON: "Amazon",
    Platform.ETSY: "Etsy",
    Platform.OTHER_MARKETPLACE: "Other marketplace",
}


class RraScheme(StrEnum):
    LONDON_RRA = "london-rra"
    BOROUGH_CHARTER = "borough-charter"
    OTHER = "other"


RRA_SCHEME_LABELS = {
    RraScheme.LONDON_RRA: "London Responsible Retailers Agreement",
    RraScheme.BOROUGH_CHARTER: "Borough charter",
    RraScheme.OTHER: "Other scheme",
}


class RraStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"


# The commitments a signatory ticks; keys are stored, labels shown.
RRA_COMMITMENTS = {
    "no-under-18-sales": "No sales of knives or bladed articles to anyone under 18",
    "challenge-25": "Operate Challenge 25 (Assess, Challenge, Check)",
    "secure-display": "Display and store knives securely (locked cabinet or behind the counter)",
    "staff-training": "Train all staff who sell knives, refreshed at least yearly",
    "till-prompts": "Use till prompts for bladed articles",
    "refusals-log": "Keep a refusals log",
    "signage": "Display the agreement sticker and age-restriction signage",
    "report-to-police": "Report suspicious attempts to buy to the police",
    "no-combat-knives": "Do not sell combat, hunting or martial-arts style knives",
    "test-purchasing": "Accept that the council may carry out test purchasing",
}

# Register-level summary of a business's agreement status, used for filtering and display.
RRA_FILTERS = {
    "active": "Signed (active)",
    "suspended": "Suspended",
    "withdrawn": "Withdrawn",
    "never": "Never signed",
}


_STREET_WORDS = {"road": "rd", "street": "st", "avenue": "ave", "lane": "ln", "place": "pl", "parade": "pde",
                 "broadway": "bdwy", "high": "high", "and": "and"}


def address_key(text: str | None) -> str:
    """An address line compared as people write it: "12 High Street" = "12, High St." = "12 high st"."""
    words = re.findall(r"[a-z0-9]+", (text or "").lower().replace("&", " and "))
    return " ".join(_STREET_WORDS.get(w, w) for w in words)


def name_key(text: str | None) -> str:
    """Lower-cased, space-folded form used for indexed prefix search and duplicate checks."""
    return " ".join((text or "").lower().split())


class Business(Audited, Versioned, Timestamps, db.Model):
    __tablename__ = "business"
    __audit_exclude__ = frozenset({"created_at", "updated_at", "version", "legal_name_key", "trading_name_key"})
    __table_args__ = (
        sa.Index("ix_business_legal_key", "legal_name_key"),
        sa.Index("ix_business_trading_key", "trading_name_key"),
        sa.Index("ix_business_type", "business_type"),
        # A council reference is the council's own: unique within the authority that gave it.
        sa.UniqueConstraint("ref_authority_id", "external_ref", name="uq_business_ref_authority_external_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    legal_name_key: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    trading_name: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    trading_name_key: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    other_trading_names: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    company_number: Mapped[Optional[str]] = mapped_column(sa.String(16))
    business_type: Mapped[BusinessType] = mapped_column(enum_column(BusinessType, name="business_type"),
                                                        nullable=False, default=BusinessType.INDEPENDENT)
    head_office_address: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    head_office_postcode: Mapped[Optional[str]] = mapped_column(sa.String(10))
    contact_name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    contact_email: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(40), nullable=False, default="")
    # How the business wants its letters (post, email with the PDF, or both): retail.models.letters.LetterPreference
    letter_preference: Mapped[str] = mapped_column(sa.String(8), nullable=False, default="post",
                                                   server_default="post")
    primary_authority: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")  # as recorded
    # The Primary Authority partner from the authority register (formal action is notified to it first).
    primary_authority_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("authority.id"))
    external_ref: Mapped[Optional[str]] = mapped_column(sa.String(64))
    ref_authority_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("authority.id"))
    notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    premises: Mapped[list["Premises"]] = relationship(back_populates="business", order_by="Premises.name")
    online_stores: Mapped[list["OnlineStore"]] = relationship(back_populates="business", order_by="OnlineStore.id")
    rra_signatures: Mapped[list["RraSignature"]] = relationship(
        back_populates="business", order_by="RraSignature.signed_on.desc()")
    primary_authority_partner = relationship("Authority", foreign_keys=[primary_authority_id])

    @property
    def display_name(self) -> str:
        return self.trading_name or self.legal_name

    @property
    def type_label(self) -> str:
        return BUSINESS_TYPE_LABELS[self.business_type]

    def __repr__(self) -> str:
        return f"<Business {self.id} {self.display_name!r}>"


premises_sells = sa.Table(
    "premises_sells",
    db.metadata,
    sa.Column("premises_id", sa.ForeignKey("premises.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("category", sa.String(16), primary_key=True),
    sa.Index("ix_premises_sells_category", "category", "premises_id"),
)


class Premises(Audited, Versioned, Timestamps, db.Model):
    __tablename__ = "premises"
    __audit_collections__ = {"sells_rows": "category"}
    __audit_exclude__ = frozenset({"created_at", "updated_at", "version", "name_key", "postcode_key"})
    __table_args__ = (
        sa.Index("ix_premises_postcode_key", "postcode_key"),
        sa.Index("ix_premises_borough", "borough", "business_id"),
        sa.Index("ix_premises_name_key", "name_key"),
        # Every staff home page counts the trading shops: an index-only count, not a read of every shop (issue 15).
        sa.Index("ix_premises_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(sa.ForeignKey("business.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    name_key: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    address_line1: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    address_line2: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    town: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="London")
    postcode: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    # Postcode without the space, for prefix search ("E84" finds "E8 4AB").
    postcode_key: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    borough: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    # The authority of the borough (set from `borough`): only its users may change the shop. None outside London
    # unless an authority for that area is registered.
    authority_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("authority.id"), index=True)
    local_authority: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    display: Mapped[Optional[KnifeDisplay]] = mapped_column(enum_column(KnifeDisplay, name="knife_display"))
    status: Mapped[PremisesStatus] = mapped_column(enum_column(PremisesStatus, name="premises_status"),
                                                   nullable=False, default=PremisesStatus.TRADING)
    sells_rows = relationship("PremisesSells", cascade="all, delete-orphan", lazy="selectin")

    business: Mapped[Business] = relationship(back_populates="premises")

    @property
    def sells(self) -> list[str]:
        return sorted(row.category for row in self.sells_rows)

    @sells.setter
    def sells(self, categories) -> None:
        wanted = {SellsCategory(c).value for c in categories}
        self.sells_rows = [row for row in self.sells_rows if row.category in wanted] + [
            PremisesSells(category=c) for c in sorted(wanted - {row.category for row in self.sells_rows})
        ]

    @property
    def borough_name(self) -> str:
        if self.borough == "outside" and self.local_authority:
            return f"Outside London ({self.local_authority})"
        return borough_name(self.borough)

    @property
    def one_line_address(self) -> str:
        parts = [self.address_line1, self.address_line2, self.town, self.postcode]
        return ", ".join(p for p in parts if p)

    def __repr__(self) -> str:
        return f"<Premises {self.id} {self.name!r} {self.postcode}>"


class PremisesSells(db.Model):
    __table__ = premises_sells


class OnlineStore(Audited, Versioned, Timestamps, db.Model):
    __tablename__ = "online_store"
    __table_args__ = (sa.Index("ix_online_store_domain", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(sa.ForeignKey("business.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    base_url: Mapped[str] = mapped_column(sa.String(500), nullable=False, unique=True)
    domain: Mapped[str] = mapped_column(sa.String(253), nullable=False)
    platform: Mapped[Platform] = mapped_column(enum_column(Platform, name="platform"), nullable=False,
                                               default=Platform.OWN_WEBSITE)
    seller_id: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")

    business: Mapped[Business] = relationship(back_populates="online_stores")

    @property
    def platform_label(self) -> str:
        return PLATFORM_LABELS[self.platform]

    @property
    def display_name(self) -> str:
        return self.name or self.domain


rra_signature_premises = sa.Table(
    "rra_signature_premises",
    db.metadata,
    sa.Column("signature_id", sa.ForeignKey("rra_signature.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("premises_id", sa.ForeignKey("premises.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class RraSignature(Audited, Versioned, Timestamps, db.Model):
    __tablename__ = "rra_signature"
    __table_args__ = (sa.Index("ix_rra_signature_business_status", "business_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(sa.ForeignKey("business.id"), nullable=False)
    scheme: Mapped[RraScheme] = mapped_column(enum_column(RraScheme, name="rra_scheme"), nullable=False,
                                              default=RraScheme.LONDON_RRA)
    scheme_other: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    signed_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    signatory_name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    signatory_role: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    ts_officer: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    police_officer: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    commitments: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    signage_given: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    status: Mapped[RraStatus] = mapped_column(enum_column(RraStatus, name="rra_status"), nullable=False,
                                              default=RraStatus.ACTIVE)
    status_changed_on: Mapped[Optional[date]] = mapped_column(sa.Date)
    status_reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    review_due: Mapped[Optional[date]] = mapped_column(sa.Date)

    business: Mapped[Business] = relationship(back_populates="rra_signatures")
    premises: Mapped[list[Premises]] = relationship(secondary=rra_signature_premises, order_by="Premises.name")
    events: Mapped[list["RraStatusEvent"]] = relationship(
        back_populates="signature", order_by="RraStatusEvent.id", cascade="all, delete-orphan")

    @property
    def scheme_label(self) -> str:
        if self.scheme == RraScheme.OTHER and self.scheme_other:
            return self.scheme_other
        return RRA_SCHEME_LABELS[self.scheme]


class RraStatusEvent(db.Model):
    """Each status change of a signature (signed, suspended, reinstated, withdrawn): the agreement's history."""

    __tablename__ = "rra_status_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_id: Mapped[int] = mapped_column(sa.ForeignKey("rra_signature.id", ondelete="CASCADE"),
                                              nullable=False, index=True)
    status: Mapped[RraStatus] = mapped_column(enum_column(RraStatus, name="rra_event_status"), nullable=False)
    on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    by: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    signature: Mapped[RraSignature] = relationship(back_populates="events")


class ImportBatch(db.Model):
    """An uploaded register CSV waiting for the officer to confirm the preview (all or nothing)."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False)
    filename: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    imported_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    summary: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    # A large file is imported in the background by the scheduler (issue 14): queued -> running -> done / failed,
    # with the rows written so far, so the page shows progress and a restart carries on where it stopped.
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="")
    rows_total: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    rows_done: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    progress_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    error: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    user = relationship("User")


class RegisterTotal(db.Model):
    """A count every staff home page shows (businesses, trading shops), kept by database triggers on the tables it
    counts (retail/register_totals.py) so the page reads one small row instead of counting 250,000 (issue 15)."""

    __tablename__ = "register_total"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)


@sa.event.listens_for(db.metadata, "after_create")
def _install_register_totals(target, connection, **kw) -> None:
    """A schema built from the models (the tests') gets the triggers the migration installs."""
    from ..register_totals import install

    install(connection)
