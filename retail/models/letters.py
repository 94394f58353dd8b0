"""Letters as sent (any kind, with the channel) and the outbox of messages the scheduler delivers.

`LetterDispatch` is the one register of every letter sent, whatever its kind, so the portal lists them all with the
date and channel. `OutboxMessage` is an email waiting to go, sent, or failed: the web request only writes a row; the
scheduler process delivers it, retrying with back-off, so a mail server that is down loses nothing.
"""
from datetime import date, datetime
from enum import StrEnum
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow
from .base import OwnedByAuthority, Timestamps, enum_column


class LetterPreference(StrEnum):
    """How a retailer wants its letters: on paper, by email (PDF attached), or both."""
    POST = "post"
    EMAIL = "email"
    BOTH = "both"


PREFERENCE_LABELS = {LetterPreference.POST: "Post", LetterPreference.EMAIL: "Email",
                     LetterPreference.BOTH: "Post and email"}


class LetterDispatch(OwnedByAuthority, Timestamps, db.Model):
    """One letter of any kind (see retail.letters.kinds) recorded as sent: when, how and by whom."""

    __tablename__ = "letter_dispatch"
    __table_args__ = (sa.UniqueConstraint("kind", "record_id", name="uq_letter_dispatch_kind_record"),
                      sa.Index("ix_letter_dispatch_business", "business_id", "sent_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    record_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    business_id: Mapped[int] = mapped_column(sa.ForeignKey("business.id"), nullable=False)
    sent_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    channel: Mapped[LetterPreference] = mapped_column(enum_column(LetterPreference, name="letter_dispatch_channel"),
                                                      nullable=False)
    sent_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    # The letter's HTML as sent: rewording a letter kind (retail.letters.wording) never changes a sent letter.
    # NULL for letters sent before it was kept; those are rendered afresh.
    content: Mapped[Optional[str]] = mapped_column(sa.Text)

    @property
    def channel_label(self) -> str:
        return PREFERENCE_LABELS[self.channel]


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry: an officer sees it on /outbox and can send it again


OUTBOX_STATUS_LABELS = {OutboxStatus.PENDING: "Waiting to send", OutboxStatus.SENT: "Sent",
                        OutboxStatus.FAILED: "Failed"}


class OutboxMessage(OwnedByAuthority, Timestamps, db.Model):
    """An email to send. `event_key` is unique: one event (a letter sent, a day's digest) queues one message,
    however often the code that noticed it runs."""

    __tablename__ = "outbox_message"
    __table_args__ = (sa.UniqueConstraint("event_key", name="uq_outbox_message_event_key"),
                      sa.Index("ix_outbox_message_due", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    to_address: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    subject: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    body_text: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    attachment_name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    attachment: Mapped[Optional[bytes]] = mapped_column(sa.LargeBinary)
    business_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("business.id"), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user_account.id"))
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus, name="outbox_status"), nullable=False,
                                                 default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    # A sender's claim: set while one scheduler process is sending, so two processes never send one message twice.
    claimed_by: Mapped[str] = mapped_column(sa.String(80), nullable=False, default="")
    claimed_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    @property
    def status_label(self) -> str:
        return OUTBOX_STATUS_LABELS[self.status]


__all__ = ["LetterDispatch", "LetterPreference", "OutboxMessage", "OutboxStatus", "PREFERENCE_LABELS"]
