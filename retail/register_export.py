"""The register as CSV, one row per shop, in the columns the import reads (register_csv.COLUMNS): streamed from one
statement, so memory stays flat whatever the register's size."""

import sqlalchemy as sa

from . import csvout
from .boroughs import borough_name
from .extensions import db
from .models.register import Business, Premises, RraSignature, RraStatus, premises_sells
from .register_csv import COLUMNS

# The best RRA status a business holds, as a number so SQL can take the maximum (0 = never signed).
_RRA_RANK = {"active": 3, "suspended": 2, "withdrawn": 1}
_RRA_OF_RANK = {0: "never", **{rank: status for status, rank in _RRA_RANK.items()}}


def export_statement():
    """The whole register as plain rows, one per shop (a business without shops gets one row), in one statement:
    the shop's product categories aggregated and the business's best RRA status taken in SQL, so the export neither
    builds ORM objects nor runs a query per batch (issue 15)."""
    sells = (sa.select(sa.func.aggregate_strings(premises_sells.c.category, "|"))
             .where(premises_sells.c.premises_id == Premises.id).scalar_subquery())
    rank = sa.case(*((RraSignature.status == RraStatus(status), value) for status, value in _RRA_RANK.items()), else_=0)
    rra = (sa.select(RraSignature.business_id, sa.func.max(rank).label("rank"))
           .group_by(RraSignature.business_id).subquery())
    return (sa.select(Business.external_ref, Business.legal_name, Business.trading_name, Business.company_number,
                      Business.business_type, Business.contact_name, Business.contact_email, Business.contact_phone,
                      Business.primary_authority, Premises.name, Premises.address_line1, Premises.address_line2,
                      Premises.town, Premises.postcode, Premises.borough, Premises.local_authority, sells,
                      Premises.display, Premises.status, Business.notes, rra.c.rank)
            .outerjoin(Premises, Premises.business_id == Business.id)
            .outerjoin(rra, rra.c.business_id == Business.id)
            .order_by(Business.id, Premises.id))


def _value(enum_or_text) -> str:
    return getattr(enum_or_text, "value", enum_or_text) or ""


def export_rows(batch_rows: int = 2000):
    """Yield CSV text for the whole register, streamed from one statement in batches of `batch_rows` rows (memory
    stays flat whatever the register's size; the first bytes go out at once)."""
    writer = csvout.StreamingWriter()
    writer.writerow(COLUMNS)
    yield writer.take()
    result = db.session.execute(export_statement().execution_options(stream_results=True, yield_per=batch_rows))
    for rows in result.partitions():
        for (ref, legal, trading, company, btype, contact, email, phone, pa, p_name, line1, line2, town, postcode,
             borough, local_authority, sells, display, status, notes, rra_rank) in rows:
            shop = (["", "", "", "", "", "", "", "", "", ""] if status is None else
                    [p_name, line1, line2, town, postcode, borough_name(borough), local_authority,
                     "|".join(sorted(sells.split("|"))) if sells else "", _value(display), _value(status)])
            writer.writerow([ref or "", legal, trading if trading != legal else "", company or "", _value(btype),
                             contact, email, phone, pa] + shop + [notes, _RRA_OF_RANK[rra_rank or 0]])
        yield writer.take()
