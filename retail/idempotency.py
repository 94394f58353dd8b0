"""One record per form, however often it is sent: a lost signal or a double tap must not create two records."""
import secrets

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models.audit import FormSubmission


def new_token() -> str:
    return secrets.token_urlsafe(24)


def previous_submission(token: str | None) -> FormSubmission | None:
    if not token:
        return None
    return db.session.get(FormSubmission, token)


def remember_submission(token: str | None, record_type: str, record_id: int, user_id: int | None) -> None:
    """Store the token in the same transaction as the new record: both commit, or neither does."""
    if token:
        db.session.add(FormSubmission(token=token, record_type=record_type, record_id=record_id, user_id=user_id))


def commit_once(token: str | None) -> FormSubmission | None:
    """Commit; if a simultaneous copy of this form won the race, roll back and return the winner's record."""
    try:
        db.session.commit()
        return None
    except IntegrityError:
        db.session.rollback()
        winner = db.session.scalar(sa.select(FormSubmission).where(FormSubmission.token == token)) if token else None
        if winner is None:
            raise
        return winner


def create_once(token: str | None, record_type: str, create, user_id: int | None) -> tuple[int, bool]:
    """Run `create()` (which adds and flushes a record) and commit, once per form token.

    Returns (record id, created). A repeat of an already-saved form returns the first record's id and False.
    Domain errors raised by `create` propagate after a rollback, leaving nothing half-saved.
    """
    earlier = previous_submission(token)
    if earlier is not None:
        return earlier.record_id, False
    try:
        record = create()
        remember_submission(token, record_type, record.id, user_id)
    except Exception:
        db.session.rollback()
        raise
    winner = commit_once(token)
    if winner is not None:
        return winner.record_id, False
    return record.id, True
