"""Lists for the pages: cases by stage, stage counts, a retailer's own cases and what they cite, what waits for whom."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from .. import scoring
from ..extensions import db
from ..models.compliance import OPEN_STATUSES, RETAILER_STATUSES, CaseStatus, NamingCase, ReplyStatus
from ..timeutil import today_london
from .publication import can_publish
from .rules import DECIDERS, PROPOSERS, appeal_deciders_excluded, editor_ids, involved_user_ids, window_open


def cases_by_stage() -> dict[CaseStatus, list[NamingCase]]:
    cases = db.session.scalars(sa.select(NamingCase).options(selectinload(NamingCase.business))
                               .order_by(NamingCase.updated_at.desc())).all()
    grouped = {status: [] for status in CaseStatus}
    for case in cases:
        grouped[case.status].append(case)
    return grouped


def stage_counts() -> dict[str, int]:
    """Naming cases by stage (for the measures dashboard)."""
    counts = {status.value: 0 for status in CaseStatus}
    counts.update({getattr(s, "value", s): n for s, n in db.session.execute(
        sa.select(NamingCase.status, sa.func.count()).group_by(NamingCase.status))})
    return counts


def retailer_cases(business_id: int) -> list[NamingCase]:
    return db.session.scalars(sa.select(NamingCase).where(NamingCase.business_id == business_id,
                                                          NamingCase.status.in_(RETAILER_STATUSES))
                              .order_by(NamingCase.id.desc())).all()


def retailer_case(case_id: int, user) -> NamingCase | None:
    """The case if it belongs to the retailer's own business and its notice has been sent; otherwise None (404)."""
    case = db.session.get(NamingCase, case_id)
    if case is None or user.business_id is None or case.business_id != user.business_id:
        return None
    if case.status not in RETAILER_STATUSES:
        return None
    return case


def cited_records(case: NamingCase) -> list[dict]:
    """Every record the case cites, for the retailer (issue 9 part 3: they cannot answer what they cannot see):
    the sale with the letter they were sent about it, the training refusal with its invitation."""
    from flask import url_for

    from ..models.purchases import NotificationLetter

    sale_ids = [int(e["record"].split(":")[1]) for e in case.evidence if e["record"].startswith("test_purchase:")]
    letters = {}
    if sale_ids:
        for purchase_id, letter_id in db.session.execute(
                sa.select(NotificationLetter.test_purchase_id, NotificationLetter.id)
                .where(NotificationLetter.test_purchase_id.in_(sale_ids),
                       NotificationLetter.business_id == case.business_id,
                       NotificationLetter.sent_on.is_not(None)).order_by(NotificationLetter.id)):
            letters.setdefault(purchase_id, letter_id)
    out = []
    for e in case.evidence:
        kind, _, raw_id = e["record"].partition(":")
        url = None
        if kind == "test_purchase" and int(raw_id) in letters:
            url = url_for("purchases.my_letter", letter_id=letters[int(raw_id)])
        elif kind == "invitation":
            url = url_for("portal.invitation", invitation_id=int(raw_id))
        out.append({"kind": e["kind"], "date": date.fromisoformat(e["date"]), "description": e["description"],
                    "url": url})
    return out


def waiting_for(user, today: date | None = None) -> dict[str, list[NamingCase]]:
    """Cases waiting for this person's step (for the home page)."""
    today = today or today_london()
    cases = db.session.scalars(sa.select(NamingCase).options(selectinload(NamingCase.business))
                               .where(NamingCase.status.in_(OPEN_STATUSES))
                               .order_by(NamingCase.id)).all()
    out = {"approve": [], "notice": [], "decide": [], "appeal": [], "publish": [], "reply": [], "draft": []}
    decided = {c.business_id for c in cases if c.status == CaseStatus.DECIDED_PUBLISH}
    pending = scoring.enforcement_pending_ids(sorted(decided)) if decided and user.role in DECIDERS else set()
    for case in cases:
        if user.role in DECIDERS:
            if case.status == CaseStatus.PROPOSED and user.id not in editor_ids(case):
                out["approve"].append(case)
            elif case.status in (CaseStatus.NOTICE_SENT, CaseStatus.REPRESENTATIONS) and not window_open(case, today) \
                    and user.id not in involved_user_ids(case):
                out["decide"].append(case)
            elif case.status == CaseStatus.DECIDED_PUBLISH and user.id not in editor_ids(case) \
                    and can_publish(case, today, pending)[0]:
                out["publish"].append(case)
            elif case.status == CaseStatus.APPEALED and user.id not in appeal_deciders_excluded(case):
                out["appeal"].append(case)
            if case.reply_status == ReplyStatus.PENDING:
                out["reply"].append(case)
        if user.role in PROPOSERS:
            if case.status == CaseStatus.APPROVED:
                out["notice"].append(case)
            elif case.status == CaseStatus.CANDIDATE and case.opened_by_id == user.id:
                out["draft"].append(case)
    return out
