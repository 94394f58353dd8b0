"""The test purchases CSV export: pseudonymised (no volunteer, no tester, no officer names)."""

import sqlalchemy as sa

from .. import csvout
from ..extensions import db
from ..models.purchases import FollowUpAction, NotificationLetter, Operation, TestPurchase
from ..models.register import Business, OnlineStore, Premises
from .queries import PurchaseFilters, purchases_query

EXPORT_COLUMNS = [
    "test_purchase_id", "kind", "channel", "stage", "purchase_date", "operation", "business_id", "business",
    "business_type", "premises", "postcode", "borough", "online_store", "listing_url", "item_category", "item_price",
    "staff_action", "sale_made", "signage_seen", "knives_secure", "checkout_dob_asked", "checkout_av_run",
    "checkout_av_provider", "order_cancelled", "parcel_marked", "courier", "age_verified_service", "delivered_to",
    "delivery_id_asked", "left_unattended", "outcome", "failed", "failing_parties", "letter_sent_on",
    "letter_channel", "follow_up_actions",
]


def _yn(value) -> str:
    return "" if value is None else ("yes" if value else "no")


def export_rows(filters: PurchaseFilters | None = None):
    """Yield CSV text for test purchases: pseudonymised (no volunteer, no tester, no officer names)."""
    writer = csvout.StreamingWriter()
    writer.writerow(EXPORT_COLUMNS)
    yield writer.take()
    query = purchases_query(filters or PurchaseFilters()).with_only_columns(TestPurchase.id)
    ids = db.session.scalars(query).all()
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        rows = db.session.execute(
            sa.select(TestPurchase, Business.trading_name, Business.business_type, Premises.name, Premises.postcode,
                      Premises.borough, OnlineStore.domain, Operation.name)
            .join(Business, TestPurchase.business_id == Business.id)
            .outerjoin(Premises, TestPurchase.premises_id == Premises.id)
            .outerjoin(OnlineStore, TestPurchase.online_store_id == OnlineStore.id)
            .outerjoin(Operation, TestPurchase.operation_id == Operation.id)
            .where(TestPurchase.id.in_(chunk))).all()
        order = {tp_id: i for i, tp_id in enumerate(chunk)}
        rows.sort(key=lambda r: order[r[0].id])
        letters = {sent.test_purchase_id: sent for sent in db.session.scalars(
            sa.select(NotificationLetter).where(NotificationLetter.test_purchase_id.in_(chunk),
                                                NotificationLetter.sent_on.is_not(None))
            .order_by(NotificationLetter.id))}
        acts: dict[int, list[str]] = {}
        for a in db.session.scalars(sa.select(FollowUpAction).where(FollowUpAction.test_purchase_id.in_(chunk))
                                    .order_by(FollowUpAction.id)):
            acts.setdefault(a.test_purchase_id, []).append(f"{a.action_type.value}:{a.status.value}")
        for tp, trading, btype, p_name, postcode, borough, domain, op_name in rows:
            letter = letters.get(tp.id)
            writer.writerow([
                tp.id, tp.kind.value, tp.channel.value, tp.stage.value, tp.purchase_date.isoformat(), op_name or "",
                tp.business_id, trading, btype.value if hasattr(btype, "value") else btype, p_name or "",
                postcode or "", borough or "", domain or "", tp.listing_url, tp.item_category,
                "" if tp.item_price is None else f"{tp.item_price:.2f}",
                tp.staff_action.value if tp.staff_action else "", _yn(tp.sale_made), _yn(tp.signage_seen),
                _yn(tp.knives_secure), _yn(tp.checkout_dob_asked), _yn(tp.checkout_av_run), tp.checkout_av_provider,
                _yn(tp.order_cancelled), _yn(tp.parcel_marked), tp.courier, _yn(tp.age_verified_service),
                tp.delivered_to.value if tp.delivered_to else "", _yn(tp.delivery_id_asked), _yn(tp.left_unattended),
                tp.outcome.value if tp.outcome else "", _yn(tp.failed),
                "|".join(p.value for p in tp.failing_parties), letter.sent_on.isoformat() if letter else "",
                letter.channel.value if letter and letter.channel else "", "|".join(acts.get(tp.id, [])),
            ])
        yield writer.take()
