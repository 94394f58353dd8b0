"""Plain factory functions for test records (through the domain functions, so the rules apply)."""
from datetime import date

from retail import register as reg
from retail.extensions import db


def create_business(legal_name="Test Hardware Ltd", trading_name="Test Hardware", business_type="independent",
                    postcode="E8 4AA", borough="hackney", shop=True, sells=("kitchen", "craft"), **extra):
    data = {"legal_name": legal_name, "trading_name": trading_name, "business_type": business_type, **extra}
    premises = None
    if shop:
        premises = {"name": trading_name or legal_name, "address_line1": "1 High Street", "town": "London",
                    "postcode": postcode, "borough": borough, "sells": list(sells), "display": "behind-counter"}
    business = reg.create_business(data, premises)
    db.session.commit()
    return business


def create_premises(business, name="Second Shop", postcode="N1 1AA", borough="islington", **extra):
    premises = reg.add_premises(business, {"name": name, "address_line1": "2 Upper Street", "postcode": postcode,
                                           "borough": borough, "sells": ["kitchen"], **extra})
    db.session.commit()
    return premises


def create_store(business, url="https://knives.example/", platform="own-website", seller_id=""):
    store = reg.add_online_store(business, {"base_url": url, "platform": platform, "seller_id": seller_id})
    db.session.commit()
    return store


def sign_rra(business, status="active", signed_on=None):
    signature = reg.sign_rra(business, {
        "scheme": "london-rra", "signed_on": signed_on or date(2025, 1, 10), "signatory_name": "Owner",
        "commitments": ["challenge-25"], "premises_ids": [p.id for p in business.premises],
    }, "test")
    db.session.commit()
    if status != "active":
        reg.change_rra_status(signature, status, date(2025, 6, 1), "Test reason", "test")
        db.session.commit()
    return signature


# The code of practice's safeguards an underage attempt needs before it is logged (brief 2.2, 2.3).
SAFEGUARDS = {"risk_assessment_ref": "RA-1", "officer_present": True, "photo_on_day_ref": "PH-DAY-1"}
SAFEGUARDS_FORM = {"risk_assessment_ref": "RA-1", "officer_present": "yes", "photo_on_day_ref": "PH-DAY-1"}
