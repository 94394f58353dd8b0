"""The kinds, stages and outcomes of test purchasing, with the labels the pages show (models/purchases.py holds the
tables that use them)."""
from enum import StrEnum


class LeadAgency(StrEnum):
    TRADING_STANDARDS = "trading-standards"
    POLICE = "police"


LEAD_AGENCY_LABELS = {LeadAgency.TRADING_STANDARDS: "Trading Standards", LeadAgency.POLICE: "Police"}


class PurchaseKind(StrEnum):
    UNDERAGE = "underage"  # volunteer under 18: a sale is an offence
    CHALLENGE25 = "challenge25"  # tester aged 18-24: a sale is a policy failure only


KIND_LABELS = {PurchaseKind.UNDERAGE: "Underage test purchase",
               PurchaseKind.CHALLENGE25: "Challenge 25 compliance test"}


class Channel(StrEnum):
    IN_STORE = "in-store"
    ONLINE = "online"


CHANNEL_LABELS = {Channel.IN_STORE: "In store", Channel.ONLINE: "Online"}


class Outcome(StrEnum):
    # In store
    PASS_REFUSED = "PASS_REFUSED"
    PASS_ID_REQUESTED_REFUSED = "PASS_ID_REQUESTED_REFUSED"
    FAIL_SOLD_NO_CHALLENGE = "FAIL_SOLD_NO_CHALLENGE"
    FAIL_SOLD_AFTER_CHALLENGE = "FAIL_SOLD_AFTER_CHALLENGE"
    # Online
    PASS_REFUSED_AT_CHECKOUT = "PASS_REFUSED_AT_CHECKOUT"
    PASS_REFUSED_AT_DELIVERY = "PASS_REFUSED_AT_DELIVERY"
    FAIL_DELIVERED_NO_AGE_CHECK = "FAIL_DELIVERED_NO_AGE_CHECK"
    FAIL_LEFT_UNATTENDED = "FAIL_LEFT_UNATTENDED"
    FAIL_DELIVERED_TO_LOCKER = "FAIL_DELIVERED_TO_LOCKER"
    # The seller failed s.141B (no checkout check, unmarked parcel...) although the courier refused at the door.
    FAIL_SELLER_NO_SAFEGUARDS = "FAIL_SELLER_NO_SAFEGUARDS"
    # The seller met its duties; the courier handed the parcel over: the courier's failure, not the seller's.
    PASS_SELLER_COURIER_FAILED = "PASS_SELLER_COURIER_FAILED"
    # Either
    NO_OFFENCE_EXEMPT_ITEM = "NO_OFFENCE_EXEMPT_ITEM"  # sold, but the item is excluded from s.141A (brief 1.1)
    INCONCLUSIVE = "INCONCLUSIVE"

    @property
    def failed(self) -> bool:
        return self.value.startswith("FAIL_")

    @property
    def passed(self) -> bool:
        return self.value.startswith("PASS_")


IN_STORE_OUTCOMES = (Outcome.PASS_REFUSED, Outcome.PASS_ID_REQUESTED_REFUSED, Outcome.FAIL_SOLD_NO_CHALLENGE,
                     Outcome.FAIL_SOLD_AFTER_CHALLENGE, Outcome.NO_OFFENCE_EXEMPT_ITEM, Outcome.INCONCLUSIVE)
ONLINE_OUTCOMES = (Outcome.PASS_REFUSED_AT_CHECKOUT, Outcome.PASS_REFUSED_AT_DELIVERY,
                   Outcome.FAIL_DELIVERED_NO_AGE_CHECK, Outcome.FAIL_LEFT_UNATTENDED,
                   Outcome.FAIL_DELIVERED_TO_LOCKER, Outcome.FAIL_SELLER_NO_SAFEGUARDS,
                   Outcome.PASS_SELLER_COURIER_FAILED, Outcome.NO_OFFENCE_EXEMPT_ITEM, Outcome.INCONCLUSIVE)

OUTCOME_LABELS = {
    Outcome.PASS_REFUSED: "Refused",
    Outcome.PASS_ID_REQUESTED_REFUSED: "ID requested, then refused",
    Outcome.FAIL_SOLD_NO_CHALLENGE: "Sold without any challenge",
    Outcome.FAIL_SOLD_AFTER_CHALLENGE: "Sold after a challenge",
    Outcome.PASS_REFUSED_AT_CHECKOUT: "Refused at checkout",
    Outcome.PASS_REFUSED_AT_DELIVERY: "Refused at delivery",
    Outcome.FAIL_DELIVERED_NO_AGE_CHECK: "Delivered without an age check",
    Outcome.FAIL_LEFT_UNATTENDED: "Left unattended or with a neighbour",
    Outcome.FAIL_DELIVERED_TO_LOCKER: "Delivered to a locker",
    Outcome.FAIL_SELLER_NO_SAFEGUARDS: "Seller failed its age-check duties (the courier refused at the door)",
    Outcome.PASS_SELLER_COURIER_FAILED: "Seller met its duties; the courier handed the parcel over",
    Outcome.NO_OFFENCE_EXEMPT_ITEM: "Sold, but no offence (exempt item)",
    Outcome.INCONCLUSIVE: "Inconclusive (aborted)",
}


class StaffAction(StrEnum):
    NO_CHALLENGE = "no-challenge"
    ASKED_AGE = "asked-age"
    ASKED_ID = "asked-id"
    REFUSED = "refused"


STAFF_ACTION_LABELS = {StaffAction.NO_CHALLENGE: "No challenge", StaffAction.ASKED_AGE: "Asked age",
                       StaffAction.ASKED_ID: "Asked for ID", StaffAction.REFUSED: "Refused outright"}


class Stage(StrEnum):
    """Where a test purchase has got to. In-store attempts are concluded at once; online ones move through stages."""

    ORDERED = "ordered"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    CONCLUDED = "concluded"


# The stages of an online order still under way, named rather than "not concluded" so a count of them is read from
# ix_test_purchase_stage_business (a "!=" is a full scan of every test purchase on each home page load).
OPEN_STAGES = (Stage.ORDERED, Stage.DISPATCHED, Stage.DELIVERED)


STAGE_LABELS = {Stage.ORDERED: "Ordered (waiting for dispatch)", Stage.DISPATCHED: "Dispatched (waiting for delivery)",
                Stage.DELIVERED: "Delivered (outcome to set)", Stage.CONCLUDED: "Concluded"}


class DobEntered(StrEnum):
    TRUE_DOB = "true"
    FALSE_DOB = "false"
    NOT_ASKED = "not-asked"


DOB_LABELS = {DobEntered.TRUE_DOB: "True date of birth entered", DobEntered.FALSE_DOB: "False date of birth entered",
              DobEntered.NOT_ASKED: "No date of birth asked"}


class DeliveredTo(StrEnum):
    HOME = "home"
    LOCKER = "locker"
    COLLECTION_POINT = "collection-point"
    NOT_DELIVERED = "not-delivered"


DELIVERED_TO_LABELS = {DeliveredTo.HOME: "Home address", DeliveredTo.LOCKER: "Parcel locker",
                       DeliveredTo.COLLECTION_POINT: "Collection point", DeliveredTo.NOT_DELIVERED: "Not delivered"}


class FailingParty(StrEnum):
    SELLER_CHECKOUT = "seller-checkout"
    SELLER_DISPATCH = "seller-dispatch"
    COURIER = "courier"

    @property
    def label(self) -> str:
        return FAILING_PARTY_LABELS[self]


FAILING_PARTY_LABELS = {FailingParty.SELLER_CHECKOUT: "Seller's checkout (s.141B condition A)",
                        FailingParty.SELLER_DISPATCH: "Seller's dispatch (condition B)",
                        FailingParty.COURIER: "Courier (delivery)"}


class LetterParty(StrEnum):
    """Who a notification letter is for: the seller (the business tested) or the courier that delivered."""
    SELLER = "seller"
    COURIER = "courier"


class LetterChannel(StrEnum):
    POST = "post"
    EMAIL = "email"
    HAND_DELIVERED = "hand-delivered"


LETTER_CHANNEL_LABELS = {LetterChannel.POST: "Post", LetterChannel.EMAIL: "Email",
                         LetterChannel.HAND_DELIVERED: "Hand delivered"}


class ActionType(StrEnum):
    NONE = "none"
    ADVICE_LETTER = "advice-letter"
    WARNING_LETTER = "warning-letter"
    RETEST = "retest"
    SIMPLE_CAUTION = "simple-caution"
    PROSECUTION = "prosecution"


ACTION_LABELS = {ActionType.NONE: "No further action", ActionType.ADVICE_LETTER: "Advice letter",
                 ActionType.WARNING_LETTER: "Warning letter", ActionType.RETEST: "Retest scheduled",
                 ActionType.SIMPLE_CAUTION: "Simple caution", ActionType.PROSECUTION: "Prosecution"}
# Actions the business is told about (a retest is never announced: it would defeat the test).
RETAILER_VISIBLE_ACTIONS = (ActionType.ADVICE_LETTER, ActionType.WARNING_LETTER, ActionType.SIMPLE_CAUTION,
                            ActionType.PROSECUTION)


class ActionStatus(StrEnum):
    PENDING = "pending"  # retest not yet done; caution or prosecution decision/hearing pending
    COMPLETED = "completed"
    CANCELLED = "cancelled"


ACTION_STATUS_LABELS = {ActionStatus.PENDING: "Pending", ActionStatus.COMPLETED: "Completed",
                        ActionStatus.CANCELLED: "Cancelled"}
