"""What the test purchases add elsewhere: the home panel, the business timeline, and the register sections."""
import sqlalchemy as sa
from flask import url_for

from ... import purchases as P
from ...extensions import db
from ...home import panel
from ...models.purchases import (ACTION_LABELS, ACTION_STATUS_LABELS, CHANNEL_LABELS, OPEN_STAGES, OUTCOME_LABELS,
                                 RETAILER_VISIBLE_ACTIONS, STAGE_LABELS, ActionType, FollowUpAction,
                                 NotificationLetter, TestPurchase)
from ...models.register import OnlineStore, Premises
from ...purchases.letters import period_told
from ...register import BUSINESS_SECTIONS, PREMISES_SECTIONS, STORE_SECTIONS
from ...timeline import TimelineEvent, timeline_provider


# --- home panel, timeline, record sections ---------------------------------------------------------------------

@panel
def retests_panel(user) -> dict | None:
    if not user.is_staff:
        return None
    data = P.retests_due(limit=8)
    unsent = db.session.scalar(sa.select(sa.func.count()).select_from(NotificationLetter)
                               .where(NotificationLetter.sent_on.is_(None)))
    in_progress = db.session.scalar(sa.select(sa.func.count()).select_from(TestPurchase)
                                    .where(TestPurchase.stage.in_(OPEN_STAGES)))
    return {"title": "Retests due", "template": "purchases/_panel_retests.html", "data": data, "unsent": unsent,
            "in_progress": in_progress}


TONES = {True: "danger", False: "success"}


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


TIMELINE_LIMIT = 200  # the business page shows the newest 200 events in all


@timeline_provider
def purchase_events(business, viewer) -> list[TimelineEvent]:
    """Test purchases, letters and follow-up actions. Retailers see only attempts they have been told about (the
    letter was sent), dated by month, and never a retest (announcing it would defeat it)."""
    staff = viewer is None or getattr(viewer, "is_staff", True)
    T = TestPurchase
    letters = db.session.execute(
        sa.select(NotificationLetter.id, NotificationLetter.test_purchase_id, NotificationLetter.sent_on,
                  NotificationLetter.channel)
        .where(NotificationLetter.business_id == business.id, NotificationLetter.sent_on.is_not(None))
        .order_by(NotificationLetter.sent_on.desc()).limit(TIMELINE_LIMIT)).all()
    notified = {row.test_purchase_id for row in letters}
    query = (sa.select(T.id, T.kind, T.channel, T.outcome, T.stage, T.failed, T.purchase_date, Premises.name,
                       OnlineStore.name.label("store_name"), OnlineStore.domain)
             .outerjoin(Premises, T.premises_id == Premises.id)
             .outerjoin(OnlineStore, T.online_store_id == OnlineStore.id)
             .where(T.business_id == business.id)
             .order_by(T.purchase_date.desc(), T.id.desc()).limit(TIMELINE_LIMIT))
    if not staff:
        query = query.where(T.id.in_(notified or {0}))
    events = []
    for row in db.session.execute(query):
        title = f"{'Challenge 25 test' if row.kind.value == 'challenge25' else 'Test purchase'} " \
                f"({CHANNEL_LABELS[row.channel].lower()}): " \
                f"{OUTCOME_LABELS[row.outcome] if row.outcome else STAGE_LABELS[row.stage]}"
        tone = "secondary" if row.outcome is None or row.outcome.value == "INCONCLUSIVE" else TONES[row.failed]
        # Retailers are told the month, never the day (it would point to the volunteer); operations are not theirs
        # to see, so the month stands for the operation's dates their letter gives.
        when_label = "" if staff else _sentence_case(period_told(row.purchase_date))
        when = row.purchase_date if staff else row.purchase_date.replace(day=1)
        events.append(TimelineEvent(when=when, kind="test-purchase", title=title,
                                    detail=row.name or row.store_name or row.domain or "",
                                    url=url_for("purchases.view", purchase_id=row.id) if staff else None, tone=tone,
                                    when_label=when_label))
    for row in letters:
        events.append(TimelineEvent(
            when=row.sent_on, kind="letter", title="Notification letter sent",
            detail=f"By {row.channel.value.replace('-', ' ')}" if row.channel else "",
            url=url_for("purchases.letter_view", letter_id=row.id) if staff
            else url_for("purchases.my_letter", letter_id=row.id), tone="info"))
    A = FollowUpAction
    query = (sa.select(A.test_purchase_id, A.action_type, A.status, A.decided_on, A.due_on, A.court_result, A.fine)
             .where(A.business_id == business.id, A.action_type != ActionType.NONE)
             .order_by(A.decided_on.desc()).limit(TIMELINE_LIMIT))
    if not staff:
        query = query.where(A.action_type.in_(RETAILER_VISIBLE_ACTIONS), A.status != "cancelled",
                            A.test_purchase_id.in_(notified or {0}))
    for row in db.session.execute(query):
        detail = ACTION_STATUS_LABELS[row.status]
        if row.action_type == ActionType.RETEST and row.due_on:
            detail = f"{detail}; due by {row.due_on:%d %b %Y}"
        if row.action_type == ActionType.PROSECUTION and row.court_result:
            detail = row.court_result + (f"; fine £{row.fine:,.2f}" if row.fine is not None else "")
        events.append(TimelineEvent(
            when=row.decided_on, kind="action", title=ACTION_LABELS[row.action_type], detail=detail,
            url=url_for("purchases.view", purchase_id=row.test_purchase_id) if staff else None,
            tone="warning" if row.action_type in (ActionType.SIMPLE_CAUTION, ActionType.PROSECUTION)
            else "secondary"))
    return events


def _section(title, purchases, new_url, new_label, viewer):
    if viewer is not None and not viewer.is_staff:
        return None
    return {"title": title, "template": "purchases/_section.html", "purchases": purchases, "new_url": new_url,
            "new_label": new_label}


def business_section(business, viewer):
    purchases = P.business_purchases(business.id, limit=30)
    return _section("Test purchases", purchases, None, None, viewer)


def premises_section(premises, viewer):
    purchases = db.session.scalars(P.with_names(
        sa.select(TestPurchase).where(TestPurchase.premises_id == premises.id)
        .order_by(TestPurchase.purchase_date.desc()).limit(30))).all()
    return _section("Test purchases at this shop", purchases, url_for("purchases.new_in_store", premises=premises.id),
                    "Log a test purchase here", viewer)


def store_section(store, viewer):
    purchases = db.session.scalars(P.with_names(
        sa.select(TestPurchase).where(TestPurchase.online_store_id == store.id)
        .order_by(TestPurchase.purchase_date.desc()).limit(30))).all()
    return _section("Online test purchases", purchases, url_for("purchases.new_online", store=store.id),
                    "Start an online test purchase", viewer)


BUSINESS_SECTIONS.append(business_section)
PREMISES_SECTIONS.append(premises_section)
STORE_SECTIONS.append(store_section)
