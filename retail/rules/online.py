"""Online (remote) test purchases judged per party (brief 1.2, 1.3 and 2.4).

The seller: a remote sale to an under-18 is an offence under s.141A, and s.141B allows the due-diligence defence only
if all four conditions hold: A a checkout age check likely to prevent under-18 sales; B the parcel clearly marked as
containing a bladed article, for delivery only into the hands of someone 18 or over; C all reasonable precautions for
delivery into an adult's hands (an age-verified delivery service); D not delivered to a locker. So the seller can fail
even when the courier refused at the door. OWA 2019 s.38 adds the seller's own delivery offence: arranging delivery of
a bladed product to residential premises or a locker without those arrangements.

The courier is a separate party: s.39 (a UK seller's bladed product handed to an under-18 at residential premises or a
locker) or s.42 (an overseas seller's). Its failure is its own record and letter, never the seller's.
"""
from dataclasses import dataclass, field
from enum import StrEnum


class Result(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    DEFENCE_MET = "defence-met"  # a sale, but every s.141B condition held: no offence by the seller
    NOT_RECORDED = "not-recorded"  # a fact the verdict needs is missing
    NOT_APPLICABLE = "not-applicable"  # e.g. no courier: the order never left the seller


RESULT_LABELS = {Result.PASSED: "Passed", Result.FAILED: "Failed",
                 Result.DEFENCE_MET: "No offence: every s.141B condition was met",
                 Result.NOT_RECORDED: "Cannot be judged: facts not recorded", Result.NOT_APPLICABLE: "Not a party"}


class Condition(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


CONDITION_LABELS = {
    Condition.A: "A: an age check at checkout likely to prevent under-18 sales",
    Condition.B: "B: parcel marked as a bladed article, for delivery only to someone 18 or over",
    Condition.C: "C: age-verified delivery arranged (into the hands of someone 18 or over)",
    Condition.D: "D: not delivered to a locker",
}
MET, UNMET, UNKNOWN = "met", "not met", "not recorded"


@dataclass(frozen=True)
class Facts:
    order_cancelled: bool | None = None
    checkout_av_run: bool | None = None  # a third-party age verification ran
    checkout_id_upload: bool | None = None  # ID had to be uploaded and was checked
    dob_entered: str | None = None  # "true", "false", "not-asked"
    dispatched: bool = False
    parcel_marked: bool | None = None  # condition B wording (both parts)
    age_verified_service: bool | None = None  # the seller booked age-verified delivery
    delivered: bool = False  # the delivery stage is recorded
    delivered_to: str | None = None  # "home", "locker", "collection-point", "not-delivered"
    residential: bool | None = None  # the delivery address is residential premises (s.38/s.39)
    delivery_id_asked: bool | None = None
    left_unattended: bool | None = None
    left_with_neighbour: bool | None = None
    overseas_seller: bool | None = None


@dataclass(frozen=True)
class PartyVerdict:
    result: Result
    reasons: tuple[str, ...] = ()
    law: str = ""

    @property
    def label(self) -> str:
        return RESULT_LABELS[self.result]

    @property
    def failed(self) -> bool:
        return self.result == Result.FAILED


@dataclass(frozen=True)
class Judgment:
    seller: PartyVerdict
    courier: PartyVerdict
    conditions: dict = field(default_factory=dict)  # Condition -> MET / UNMET / UNKNOWN

    @property
    def unmet(self) -> list[str]:
        return [c for c, state in self.conditions.items() if state == UNMET]


def _condition_a(f: Facts) -> tuple[str, str]:
    if f.checkout_av_run is None and f.checkout_id_upload is None:
        return UNKNOWN, "Whether the checkout ran an age check was not recorded."
    if not (f.checkout_av_run or f.checkout_id_upload):
        return UNMET, ("No age check at checkout (a date-of-birth box, a tick box or a warning is a declaration, not "
                       "a check).")
    if f.dob_entered == "true":
        return UNMET, "The checkout was given the volunteer's true date of birth and still took the order."
    return MET, "An age check ran at checkout."


def _delivered_to_locker(f: Facts) -> bool:
    return f.delivered_to == "locker"


def conditions(f: Facts) -> dict:
    """Each s.141B condition: (state, reason)."""
    a = _condition_a(f)
    if not f.dispatched:
        b = c = (UNKNOWN, "Not dispatched yet.")
    else:
        b = {True: (MET, "The parcel was marked for an adult's hands only."),
             False: (UNMET, "The parcel was not marked as a bladed article for delivery only to someone 18 or over."),
             None: (UNKNOWN, "Whether the parcel was marked was not recorded.")}[f.parcel_marked]
        c = {True: (MET, "An age-verified delivery service was booked."),
             False: (UNMET, "No age-verified delivery was arranged."),
             None: (UNKNOWN, "Whether age-verified delivery was booked was not recorded.")}[f.age_verified_service]
    if _delivered_to_locker(f):
        d = (UNMET, "It was delivered to a locker.")
    elif f.delivered or f.order_cancelled:
        d = (MET, "Not delivered to a locker.")
    else:
        d = (UNKNOWN, "Not delivered yet.")
    return {Condition.A: a, Condition.B: b, Condition.C: c, Condition.D: d}


def _residential(f: Facts) -> bool | None:
    if f.residential is not None:
        return f.residential
    if f.delivered_to == "home":
        return True
    return None


def judge_seller(f: Facts) -> tuple[PartyVerdict, dict]:
    found = conditions(f)
    states = {c: state for c, (state, _reason) in found.items()}
    if f.order_cancelled:
        return PartyVerdict(Result.PASSED, ("The order was refused at checkout.",), "CJA 1988 s.141B"), states
    unmet = [reason for state, reason in found.values() if state == UNMET]
    law = "CJA 1988 s.141A; defence only under s.141B"
    if unmet:
        reasons = list(unmet)
        if f.age_verified_service is False and (_residential(f) or _delivered_to_locker(f)):
            reasons.append("Delivery to residential premises or a locker without age-verified delivery (OWA 2019 "
                           "s.38).")
            law += "; OWA 2019 s.38"
        if f.overseas_seller:
            reasons.append("The seller is overseas: prosecution is rarely practical, but the record stands.")
        return PartyVerdict(Result.FAILED, tuple(reasons), law), states
    if any(state == UNKNOWN for state in states.values()):
        missing = [reason for state, reason in found.values() if state == UNKNOWN]
        return PartyVerdict(Result.NOT_RECORDED, tuple(missing), law), states
    return PartyVerdict(Result.DEFENCE_MET, ("The checkout check, the parcel marking and the delivery arrangements "
                                             "all met s.141B.",), law), states


def judge_courier(f: Facts) -> PartyVerdict:
    law = "OWA 2019 s.42 (overseas seller)" if f.overseas_seller else "OWA 2019 s.39"
    if f.order_cancelled or not f.dispatched:
        return PartyVerdict(Result.NOT_APPLICABLE, ("The parcel never reached a courier.",), law)
    if not f.delivered or f.delivered_to is None:
        return PartyVerdict(Result.NOT_RECORDED, ("The delivery has not been recorded.",), law)
    if f.delivered_to == "not-delivered":
        return PartyVerdict(Result.PASSED, ("The courier did not hand the parcel over.",), law)
    failures = []
    if f.left_unattended:
        failures.append("The parcel was left unattended.")
    if f.left_with_neighbour:
        failures.append("The parcel was left with a neighbour.")
    if f.delivered_to == "locker":
        failures.append("The parcel was put in a locker, where no one checks age.")
    if f.delivery_id_asked is False:
        failures.append("The courier handed the parcel to the volunteer without asking for proof of age.")
    elif f.delivery_id_asked and not failures:
        failures.append("The courier asked for proof of age and handed the parcel over without it.")
    if not f.overseas_seller and f.delivered_to != "locker" and _residential(f) is False:
        return PartyVerdict(Result.NOT_APPLICABLE, ("Not residential premises: s.39 does not apply.",), law)
    if not failures and f.delivery_id_asked is None:
        return PartyVerdict(Result.NOT_RECORDED, ("Whether the courier asked for proof of age was not recorded.",),
                            law)
    return PartyVerdict(Result.FAILED, tuple(failures), law)


def judge(f: Facts) -> Judgment:
    seller, states = judge_seller(f)
    return Judgment(seller=seller, courier=judge_courier(f), conditions=states)
