"""The reply-by rule and the London dates of sessions: the lowest floor of this package."""
from datetime import date, datetime, time, timedelta

from ..models.training import TrainingSession
from ..timeutil import LONDON, london

DEFAULT_RESPONSE_DAYS = 21
# A reply is needed this many days before the session offered, so the trainer knows the numbers.
REPLY_BEFORE_SESSION_DAYS = 3


def default_reply_by(visited_on: date, session_day: date | None = None) -> date:
    """The reply-by date: three weeks after the visit, but before the session offered (a deadline after the session
    asks the shop to answer an invitation it can no longer take up); never before the visit itself."""
    deadline = visited_on + timedelta(days=DEFAULT_RESPONSE_DAYS)
    if session_day is not None:
        deadline = min(deadline, session_day - timedelta(days=REPLY_BEFORE_SESSION_DAYS))
        if deadline < visited_on:
            deadline = min(visited_on, session_day - timedelta(days=1))
    return deadline


def session_date(session: TrainingSession) -> date:
    return london(session.starts_at).date()


def london_datetime(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON)
