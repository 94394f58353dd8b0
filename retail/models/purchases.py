"""Test purchasing: operations, volunteers and their consent, test purchases (in store and online), notification
letters and follow-up actions.

Volunteers are children: their date of birth, consent and photo references live only in `volunteer` and
`volunteer_consent`, which only staff pages read. Every other table refers to a volunteer by id alone.
"""
from datetime import date, datetime, time
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow
from .base import Audited, OwnedByAuthority, Timestamps, Versioned, enum_column
from .purchase_kinds import (  # noqa: F401  (the purchase models' enums and labels, imported from here everywhere)
    ACTION_LABELS, ACTION_STATUS_LABELS, ActionStatus, ActionType, Channel, CHANNEL_LABELS, DELIVERED_TO_LABELS,
    DeliveredTo, DOB_LABELS, DobEntered, FAILING_PARTY_LABELS, FailingParty, IN_STORE_OUTCOMES, KIND_LABELS,
    LEAD_AGENCY_LABELS, LeadAgency, LETTER_CHANNEL_LABELS, LetterChannel, LetterParty, ONLINE_OUTCOMES, OPEN_STAGES,
    Outcome, OUTCOME_LABELS, PurchaseKind, RETAILER_VISIBLE_ACTIONS, STAFF_ACTION_LABELS, StaffAction, Stage,
    STAGE_LABELS,
)


class Operation(OwnedByAuthority, Audited, Versioned, Timestamps, db.Model):
    __tablename__ = "operation"
    __audit_collections__ = {"officer_rows": "user_id"}
    __table_args__ = (sa.Index("ix_operation_dates", "starts_on", "ends_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    lead_agency: Mapped[LeadAgency] = mapped_column(enum_column(LeadAgency, name="lead_agency"), nullable=False,
                                                    default=LeadAgency.TRADING_STANDARDS)
    boroughs: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    starts_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    lead_officer_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    risk_assessment_ref: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    authorisation_ref: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    briefing_on: Mapped[Optional[date]] = mapped_column(sa.Date)
    notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    lead_officer = relationship("User", foreign_keys=[lead_officer_id])
    officer_rows = relationship("OperationOfficer", cascade="all, delete-orphan", lazy="selectin")
    consents: Mapped[list["VolunteerConsent"]] = relationship(back_populates="operation",
                                                              order_by="VolunteerConsent.id")
    authority = relationship("Authority")
    # Authorities (besides the owner) that may read this operation and its purchases: the boroughs a Met
    # operation works in.
    shared_with = relationship("Authority", secondary="operation_authority", lazy="selectin",
                               order_by="Authority.name")
    targets: Mapped[list["OperationTarget"]] = relationship(
        order_by="(OperationTarget.points.desc(), OperationTarget.id)", cascade="all, delete-orphan")

    @property
    def officer_ids(self) -> list[int]:
        return sorted(row.user_id for row in self.officer_rows)

    @officer_ids.setter
    def officer_ids(self, ids) -> None:
        wanted = {int(i) for i in ids}
        self.officer_rows = [r for r in self.officer_rows if r.user_id in wanted] + [
            OperationOfficer(user_id=i) for i in sorted(wanted - {r.user_id for r in self.officer_rows})]

    @property
    def lead_agency_label(self) -> str:
        return LEAD_AGENCY_LABELS[self.lead_agency]

    @property
    def period_label(self) -> str:
        if self.starts_on == self.ends_on:
            return self.starts_on.strftime("%d %b %Y")
        return f"{self.starts_on:%d %b %Y} – {self.ends_on:%d %b %Y}"


class OperationTarget(db.Model):
    """A shop on an operation's target list, chosen from the risk-based programme with its points and reasons as
    they stood when it was added (issue 11 part 2). Read through its operation, whose scope it follows."""

    __tablename__ = "operation_target"
    __table_args__ = (sa.UniqueConstraint("operation_id", "premises_id", name="uq_operation_target_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(sa.ForeignKey("operation.id", ondelete="CASCADE"), nullable=False)
    premises_id: Mapped[int] = mapped_column(sa.ForeignKey("premises.id"), nullable=False, index=True)
    points: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    reasons: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    added_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    premises = relationship("Premises")
    added_by = relationship("User")


operation_officer = sa.Table(
    "operation_officer",
    db.metadata,
    sa.Column("operation_id", sa.ForeignKey("operation.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user_account.id"), primary_key=True, index=True),
)


class OperationOfficer(db.Model):
    __table__ = operation_officer


class Volunteer(OwnedByAuthority, Audited, Versioned, Timestamps, db.Model):
    """A child volunteer (or young adult tester for Challenge 25 tests). Restricted: staff pages only."""

    __tablename__ = "volunteer"
    # Code names are the authority's own: two councils may both have a "Blue".
    __table_args__ = (sa.UniqueConstraint("authority_id", "code_name", name="uq_volunteer_authority_code_name"),)
    __audit_personal__ = frozenset({"date_of_birth", "areas_to_avoid", "welfare_notes"})

    id: Mapped[int] = mapped_column(primary_key=True)
    code_name: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    date_of_birth: Mapped[date] = mapped_column(sa.Date, nullable=False)
    areas_to_avoid: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    welfare_notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    consents: Mapped[list["VolunteerConsent"]] = relationship(back_populates="volunteer",
                                                              order_by="VolunteerConsent.id")

    def age_on(self, on: date) -> int:
        dob = self.date_of_birth
        return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


class VolunteerConsent(OwnedByAuthority, Audited, Versioned, Timestamps, db.Model):
    """Written parental consent for one volunteer for one operation (the code of practice asks for it each time)."""

    __tablename__ = "volunteer_consent"
    __table_args__ = (sa.UniqueConstraint("volunteer_id", "operation_id", name="uq_volunteer_consent_pair"),
                      sa.Index("ix_volunteer_consent_operation", "operation_id"))
    # The parent's name, who saw the birth certificate, the photo of the child on the day.
    __audit_personal__ = frozenset({"given_by", "birth_certificate_checked_by", "photo_ref"})

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(sa.ForeignKey("volunteer.id"), nullable=False)
    operation_id: Mapped[int] = mapped_column(sa.ForeignKey("operation.id"), nullable=False)
    given_by: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    relationship_to_volunteer: Mapped[str] = mapped_column(sa.String(60), nullable=False, default="Parent")
    given_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    birth_certificate_checked_by: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    photo_ref: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    withdrawn: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)

    volunteer: Mapped[Volunteer] = relationship(back_populates="consents")
    operation: Mapped[Operation] = relationship(back_populates="consents")


class TestPurchase(OwnedByAuthority, Audited, Versioned, Timestamps, db.Model):
    """One attempt, in store or online. business_id is copied from the premises/store so reports aggregate in SQL."""

    __test__ = False
    __tablename__ = "test_purchase"
    __audit_exclude__ = frozenset({"created_at", "updated_at", "version"})
    __table_args__ = (
        sa.Index("ix_test_purchase_business_date", "business_id", "purchase_date"),
        sa.Index("ix_test_purchase_premises_date", "premises_id", "purchase_date"),
        sa.Index("ix_test_purchase_store_date", "online_store_id", "purchase_date"),
        sa.Index("ix_test_purchase_kind_channel_date", "kind", "channel", "purchase_date", "outcome", "business_id",
                 "premises_id"),
        sa.Index("ix_test_purchase_operation", "operation_id"),
        sa.Index("ix_test_purchase_date", "purchase_date", "id"),
        # Stage first (the home page counts open orders by it), then the business: the full rescore reads concluded
        # attempts one range of business ids at a time, which SQLite would otherwise answer by the stage alone.
        sa.Index("ix_test_purchase_stage_business", "stage", "business_id"),
        sa.CheckConstraint("(premises_id IS NOT NULL) OR (online_store_id IS NOT NULL)", name="has_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PurchaseKind] = mapped_column(enum_column(PurchaseKind, name="purchase_kind"), nullable=False,
                                               default=PurchaseKind.UNDERAGE)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, name="purchase_channel"), nullable=False)
    stage: Mapped[Stage] = mapped_column(enum_column(Stage, name="purchase_stage"), nullable=False,
                                         default=Stage.CONCLUDED)
    business_id: Mapped[int] = mapped_column(sa.ForeignKey("business.id"), nullable=False)
    premises_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("premises.id"))
    online_store_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("online_store.id"))
    operation_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("operation.id"))
    purchase_date: Mapped[date] = mapped_column(sa.Date, nullable=False)  # online: the order date
    time_from: Mapped[Optional[time]] = mapped_column(sa.Time)
    time_to: Mapped[Optional[time]] = mapped_column(sa.Time)
    volunteer_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("volunteer.id"), index=True)
    tester_age: Mapped[Optional[int]] = mapped_column(sa.Integer)  # Challenge 25 tests: 18-24
    officer_inside: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    officer_outside: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    # What was tried
    item_category: Mapped[str] = mapped_column(sa.String(32), nullable=False, default="kitchen")
    item_description: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    item_price: Mapped[Optional[Decimal]] = mapped_column(sa.Numeric(10, 2))
    # The item as the law sees it (retail.rules.items): NULL where it was not recorded (records before the rules).
    item_blade_length_cm: Mapped[Optional[Decimal]] = mapped_column(sa.Numeric(6, 2))
    item_locking: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    item_features: Mapped[Optional[list]] = mapped_column(sa.JSON)
    item_cartridge_exposure_under_2mm: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    item_traditional_or_antique: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    item_verdict: Mapped[Optional[str]] = mapped_column(sa.String(16))  # rules.items.Kind; NULL: not judged
    item_verdict_reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    # The code of practice's safeguards for this attempt (brief 2.2, 2.3): NULL/blank on older records.
    risk_assessment_ref: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    officer_present: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    photo_on_day_ref: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    # In store: what happened at the till
    staff_action: Mapped[Optional[StaffAction]] = mapped_column(enum_column(StaffAction, name="staff_action"))
    id_shown: Mapped[str] = mapped_column(sa.String(60), nullable=False, default="none")
    sale_made: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    staff_description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    signage_seen: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    knives_secure: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    receipt_number: Mapped[str] = mapped_column(sa.String(60), nullable=False, default="")
    item_retained: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    exhibit_ref: Mapped[str] = mapped_column(sa.String(60), nullable=False, default="")
    notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    # Online, stage 1: order and checkout
    listing_url: Mapped[str] = mapped_column(sa.String(1000), nullable=False, default="")
    order_ref: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    account_details: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    dob_entered: Mapped[Optional[DobEntered]] = mapped_column(enum_column(DobEntered, name="dob_entered"))
    checkout_age_statement: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    checkout_dob_asked: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    checkout_tickbox: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    checkout_av_run: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    checkout_av_provider: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    checkout_av_result: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    checkout_id_upload: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    order_cancelled: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    # Online, stage 2: dispatch
    dispatched_on: Mapped[Optional[date]] = mapped_column(sa.Date)
    parcel_marked: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    parcel_marking_text: Mapped[str] = mapped_column(sa.String(500), nullable=False, default="")
    parcel_photo_ref: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    courier: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    courier_service: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    # The courier as a party with its own register entry, letter and record (OWA 2019 s.39/s.42).
    courier_business_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("business.id"), index=True)
    age_verified_service: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    overseas_seller: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    # Online, stage 3: delivery
    delivered_on: Mapped[Optional[date]] = mapped_column(sa.Date)
    delivered_to: Mapped[Optional[DeliveredTo]] = mapped_column(enum_column(DeliveredTo, name="delivered_to"))
    received_by: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    delivery_id_asked: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    delivery_dob_entered: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    left_unattended: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    left_with_neighbour: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    signature_taken: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    residential_premises: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    # The result
    outcome: Mapped[Optional[Outcome]] = mapped_column(enum_column(Outcome, name="purchase_outcome"))
    failed: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)  # outcome is a FAIL_*
    checkout_failed: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    dispatch_failed: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    courier_failed: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    # Online: each party judged by retail.rules.online (Result values), and the s.141B conditions A-D.
    seller_result: Mapped[Optional[str]] = mapped_column(sa.String(16))
    courier_result: Mapped[Optional[str]] = mapped_column(sa.String(16))
    conditions: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    # Where enforcement has got to (rules.enforcement.Stage), kept in step with the follow-up actions.
    enforcement_stage: Mapped[str] = mapped_column(sa.String(32), nullable=False, default="undecided",
                                                   server_default="undecided")
    concluded_on: Mapped[Optional[date]] = mapped_column(sa.Date)
    amendment_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))

    business = relationship("Business", foreign_keys=[business_id])
    courier_business = relationship("Business", foreign_keys=[courier_business_id])
    premises = relationship("Premises")
    online_store = relationship("OnlineStore")
    operation: Mapped[Optional[Operation]] = relationship()
    volunteer: Mapped[Optional[Volunteer]] = relationship()
    letters: Mapped[list["NotificationLetter"]] = relationship(back_populates="test_purchase",
                                                               order_by="NotificationLetter.id")
    actions: Mapped[list["FollowUpAction"]] = relationship(back_populates="test_purchase",
                                                           foreign_keys="FollowUpAction.test_purchase_id",
                                                           order_by="FollowUpAction.id")

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS[self.channel]

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS[self.outcome] if self.outcome else STAGE_LABELS[self.stage]

    @property
    def failing_parties(self) -> list[FailingParty]:
        flags = ((self.checkout_failed, FailingParty.SELLER_CHECKOUT),
                 (self.dispatch_failed, FailingParty.SELLER_DISPATCH),
                 (self.courier_failed, FailingParty.COURIER))
        return [party for flag, party in flags if flag]

    @property
    def target_name(self) -> str:
        if self.premises is not None:
            return self.premises.name
        return self.online_store.display_name if self.online_store is not None else ""

    @property
    def sent_letter(self) -> Optional["NotificationLetter"]:
        sent = [letter for letter in self.letters if letter.sent_on]
        return sent[-1] if sent else None

    def __repr__(self) -> str:
        return f"<TestPurchase {self.id} {self.channel} {self.outcome}>"


class NotificationLetter(OwnedByAuthority, Audited, Versioned, Timestamps, db.Model):
    """The letter to the business after an attempt (passes and fails). Once sent, its text is frozen in `content`."""

    __tablename__ = "notification_letter"
    __table_args__ = (sa.Index("ix_notification_letter_unsent", "sent_on", "id"),
                      sa.Index("ix_notification_letter_business", "business_id", "sent_on"))
    __audit_exclude__ = frozenset({"created_at", "updated_at", "version", "content", "operation_id"})

    id: Mapped[int] = mapped_column(primary_key=True)
    test_purchase_id: Mapped[int] = mapped_column(sa.ForeignKey("test_purchase.id"), nullable=False, index=True)
    # The test purchase's operation, copied here and kept in step (scoping._carry_operation) so the rule "letters and
    # actions of operations shared with us" reads the operation directly, not every purchase of those operations.
    operation_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("operation.id"), index=True)
    business_id: Mapped[int] = mapped_column(sa.ForeignKey("business.id"), nullable=False)
    template: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    recipient_name: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    recipient_address: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    drafted_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    sent_on: Mapped[Optional[date]] = mapped_column(sa.Date)
    channel: Mapped[Optional[LetterChannel]] = mapped_column(enum_column(LetterChannel, name="letter_channel"))
    sent_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    signed_by_name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    replaces_letter_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("notification_letter.id"))
    party: Mapped[LetterParty] = mapped_column(enum_column(LetterParty, name="letter_party"), nullable=False,
                                               default=LetterParty.SELLER, server_default=LetterParty.SELLER.value)
    content: Mapped[Optional[str]] = mapped_column(sa.Text)  # the letter as sent (HTML from our own template)

    test_purchase: Mapped[TestPurchase] = relationship(back_populates="letters")
    business = relationship("Business")

    @property
    def channel_label(self) -> str:
        return LETTER_CHANNEL_LABELS[self.channel] if self.channel else ""


class FollowUpAction(OwnedByAuthority, Audited, Versioned, Timestamps, db.Model):
    __tablename__ = "follow_up_action"
    __table_args__ = (sa.Index("ix_follow_up_action_due", "action_type", "status", "due_on"),
                      sa.Index("ix_follow_up_action_business", "business_id", "action_type", "status"),
                      sa.Index("ix_follow_up_action_premises", "premises_id", "action_type", "status"),
                      sa.Index("ix_follow_up_action_store", "online_store_id", "action_type", "status"))
    __audit_exclude__ = frozenset({"created_at", "updated_at", "version", "operation_id"})

    id: Mapped[int] = mapped_column(primary_key=True)
    test_purchase_id: Mapped[int] = mapped_column(sa.ForeignKey("test_purchase.id"), nullable=False, index=True)
    # The test purchase's operation, copied here and kept in step (scoping._carry_operation) so the rule "letters and
    # actions of operations shared with us" reads the operation directly, not every purchase of those operations.
    operation_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("operation.id"), index=True)
    business_id: Mapped[int] = mapped_column(sa.ForeignKey("business.id"), nullable=False)
    premises_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("premises.id"))
    online_store_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("online_store.id"))
    action_type: Mapped[ActionType] = mapped_column(enum_column(ActionType, name="action_type"), nullable=False)
    status: Mapped[ActionStatus] = mapped_column(enum_column(ActionStatus, name="action_status"), nullable=False,
                                                 default=ActionStatus.PENDING)
    decided_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    decided_by: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    due_on: Mapped[Optional[date]] = mapped_column(sa.Date)  # retests
    completed_on: Mapped[Optional[date]] = mapped_column(sa.Date)
    retest_purchase_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("test_purchase.id"))
    court: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    hearing_on: Mapped[Optional[date]] = mapped_column(sa.Date)
    court_result: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    # The court's decision (rules.enforcement.CourtOutcome); NULL on older prosecutions: "not recorded".
    court_outcome: Mapped[Optional[str]] = mapped_column(sa.String(16))
    # Formal action against a business with a Primary Authority: when the Primary Authority was told first.
    primary_authority_notified_on: Mapped[Optional[date]] = mapped_column(sa.Date)
    fine: Mapped[Optional[Decimal]] = mapped_column(sa.Numeric(12, 2))
    costs: Mapped[Optional[Decimal]] = mapped_column(sa.Numeric(12, 2))
    notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    test_purchase: Mapped[TestPurchase] = relationship(back_populates="actions", foreign_keys=[test_purchase_id])
    retest_purchase: Mapped[Optional[TestPurchase]] = relationship(foreign_keys=[retest_purchase_id])

    @property
    def type_label(self) -> str:
        return ACTION_LABELS[self.action_type]

    @property
    def status_label(self) -> str:
        return ACTION_STATUS_LABELS[self.status]


__all__ = ["Operation", "OperationOfficer", "Volunteer", "VolunteerConsent", "TestPurchase", "NotificationLetter",
           "FollowUpAction"]
