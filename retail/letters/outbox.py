"""The outbox: emails are written as rows by whoever notices the event, and delivered by the scheduler process
(`deliver_due`), never inside a web request. A mail server that is down loses nothing: a failed attempt is retried
with back-off, and after MAX_ATTEMPTS the message is marked failed, where officers see it (/outbox) and can retry.

A claim (claimed_by, claimed_until) taken by a conditional UPDATE means two scheduler processes never send one
message twice; the row is marked sent in the same transaction that follows the server's acceptance.
"""
from __future__ import annotations

import io
import logging
import smtplib
import uuid
from datetime import date, datetime, timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models.letters import OutboxMessage, OutboxStatus
from ..models.register import Business
from ..settings import all_settings
from ..timeutil import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
CLAIM_SECONDS = 300
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8... minutes after each failed attempt, at most six hours."""
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def queue(event_key: str, to: str, subject: str, body: str, *, authority_id: int, business_id: int | None = None,
          user_id: int | None = None, attachment: bytes | None = None, attachment_name: str = "") -> bool:
    """Queue one email for an event. An event already queued is not queued again (returns False)."""
    exists = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.event_key == event_key)
                               .execution_options(unscoped=True))
    if exists is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(OutboxMessage(event_key=event_key, to_address=to, subject=subject, body_text=body,
                                         attachment=attachment, attachment_name=attachment_name,
                                         authority_id=authority_id, business_id=business_id, user_id=user_id))
    except IntegrityError:  # another process queued the same event at the same moment
        return False
    return True


def queue_letter_email(item, on: date) -> bool:
    """The letter's PDF to the business, if it has an email address. Says only what the letter is and where to read
    it: nothing about how the test was done, and never anything about a volunteer."""
    from . import item_pdf

    business = db.session.get(Business, item.business_id)
    if business is None or not business.contact_email:
        return False
    settings = all_settings(item.authority_id)
    body = (f"Dear {business.contact_name or business.display_name},\n\n"
            f"Please find attached our letter: {item.title}, dated {on.day} {on:%B %Y}.\n"
            f"You can also read every letter we have sent you in the retailer portal: {settings['contact_url']}\n\n"
            f"{settings['authority_name']}\n{settings['letterhead_address']}\n{settings['letterhead_phone']}\n")
    reference = item.kind.reference(item.record)
    return queue(f"letter:{item.token}", business.contact_email, f"{item.kind.subject} ({reference})", body,
                 authority_id=item.authority_id, business_id=business.id, attachment=item_pdf(item),
                 attachment_name=f"{reference}.pdf")


# --- backends -------------------------------------------------------------------------------------------------------

class SmtpBackend:
    def __init__(self, config):
        self.config = config

    def send(self, message: OutboxMessage) -> None:
        email = EmailMessage()
        email["From"] = self.config["RETAIL_MAIL_FROM"]
        email["To"] = message.to_address
        email["Subject"] = message.subject
        email["Message-ID"] = f"<outbox-{message.id}-{message.event_key.replace(':', '-')}@retail.invalid>"
        email.set_content(message.body_text)
        if message.attachment:
            email.add_attachment(message.attachment, maintype="application", subtype="pdf",
                                 filename=message.attachment_name or "letter.pdf")
        with smtplib.SMTP(self.config["RETAIL_SMTP_HOST"], self.config["RETAIL_SMTP_PORT"], timeout=30) as smtp:
            if self.config.get("RETAIL_SMTP_STARTTLS"):
                smtp.starttls()
            if self.config.get("RETAIL_SMTP_USERNAME"):
                smtp.login(self.config["RETAIL_SMTP_USERNAME"], self.config["RETAIL_SMTP_PASSWORD"])
            smtp.send_message(email)


class NotifyBackend:
    """GOV.UK Notify through its official client. The template takes ((subject)), ((body)) and ((link_to_file))."""

    def __init__(self, config):
        from notifications_python_client.notifications import NotificationsAPIClient

        if not config.get("RETAIL_NOTIFY_API_KEY") or not config.get("RETAIL_NOTIFY_TEMPLATE_ID"):
            raise RuntimeError("Set RETAIL_NOTIFY_API_KEY and RETAIL_NOTIFY_TEMPLATE_ID to send through GOV.UK Notify.")
        self.client = NotificationsAPIClient(config["RETAIL_NOTIFY_API_KEY"])
        self.template_id = config["RETAIL_NOTIFY_TEMPLATE_ID"]

    def send(self, message: OutboxMessage) -> None:
        from notifications_python_client import prepare_upload

        personalisation = {"subject": message.subject, "body": message.body_text, "link_to_file": ""}
        if message.attachment:
            personalisation["link_to_file"] = prepare_upload(io.BytesIO(message.attachment),
                                                             filename=message.attachment_name or "letter.pdf")
        self.client.send_email_notification(message.to_address, self.template_id, personalisation=personalisation,
                                            reference=message.event_key)


def make_backend(config=None):
    config = config or current_app.config
    name = config.get("RETAIL_MAIL_BACKEND", "none")
    if name == "smtp":
        return SmtpBackend(config)
    if name == "notify":
        return NotifyBackend(config)
    return None


# --- delivery (the scheduler) ---------------------------------------------------------------------------------------

def _claim(owner: str, now: datetime, limit: int) -> list[int]:
    ids = db.session.scalars(sa.select(OutboxMessage.id).where(
        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now,
        sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)).all()
    claimed = []
    for message_id in ids:
        result = db.session.execute(sa.update(OutboxMessage.__table__).where(
            OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING.value,
            sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
            .values(claimed_by=owner, claimed_until=now + timedelta(seconds=CLAIM_SECONDS)))
        if result.rowcount == 1:
            claimed.append(message_id)
    db.session.commit()
    return claimed


def deliver_due(backend=None, now: datetime | None = None, limit: int = 50, owner: str | None = None) -> dict:
    """Send what is due. Returns counts: sent, retrying, failed. Call with no backend configured and nothing is
    sent (the demo: messages wait on /outbox)."""
    backend = backend if backend is not None else make_backend()
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    if backend is None:
        return counts
    now = now or utcnow()
    owner = owner or f"outbox-{uuid.uuid4().hex[:12]}"
    for message_id in _claim(owner, now, limit):
        message = db.session.get(OutboxMessage, message_id)
        try:
            backend.send(message)
        except Exception as exc:  # any failure of the server or the network: retry later, keep the reason
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            message.claimed_by, message.claimed_until = "", None
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
                counts["failed"] += 1
            else:
                message.next_attempt_at = now + backoff(message.attempts)
                counts["retrying"] += 1
            log.warning("outbox message %s not sent (attempt %s): %s", message.id, message.attempts, exc)
        else:
            message.attempts += 1
            message.status = OutboxStatus.SENT
            message.sent_at = utcnow()
            message.last_error = ""
            message.claimed_by, message.claimed_until = "", None
            counts["sent"] += 1
        db.session.commit()
    return counts


def deliver_outbox() -> None:
    """The scheduler's every-minute job: send what is due through the configured backend (none: nothing)."""
    counts = deliver_due()
    if any(counts.values()):
        log.info("outbox: %(sent)s sent, %(retrying)s to retry, %(failed)s failed", counts)


def retry(message: OutboxMessage) -> None:
    """An officer sends a failed message again: back to waiting, due now."""
    if message.status != OutboxStatus.FAILED:
        raise ValueError("Only a failed message can be sent again.")
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()


def recent(limit: int = 100) -> list[OutboxMessage]:
    """Failed first, then waiting, then sent, newest first (the /outbox page)."""
    order = sa.case((OutboxMessage.status == OutboxStatus.FAILED, 0), (OutboxMessage.status == OutboxStatus.PENDING, 1),
                    else_=2)
    return db.session.scalars(sa.select(OutboxMessage).order_by(order, OutboxMessage.id.desc()).limit(limit)).all()
