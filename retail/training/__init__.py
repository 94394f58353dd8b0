"""Rules for accredited trader training: courses, sessions, invitations, attendance, certificates and refusals.
The modules, lowest first:

- `dates`: the reply-by rule (default_reply_by) and the London dates of sessions
- `courses`: courses and sessions, the places taken and left, the sessions still to come
- `invitations`: invitations and the shop's response (accept, decline = a refusal, no response by the deadline)
- `attendance`: booking people on a session, results and certificates; a no-show records a refusal
- `queries`: the queries for reminders, pages and the score (expiring certificates, no responses, letters to print,
  training_status, refusal_counts) and the invitation letter
- `hooks`: the extension points (home panel, timeline, business and premises sections), registered on import

This package re-exports their public names, so `from retail import training as tr; tr.create_course(...)` works.

For other areas (the compliance score, the portal):
- `TrainingRefusal` (table `training_refusal`): one row per refusal, columns business_id, premises_id, refused_on,
  kind ('declined' | 'no-show'), invitation_id, attendance_id; indexed (business_id, refused_on) and
  (premises_id, refused_on). A "no response by the deadline" is NOT a refusal and has no row here.
- `training_status(business_id)` -> {premises_id: {"certified_staff", "current", "expires", "next_expiry"}}.
- `refusal_counts(business_ids, since=None)` -> {business_id: n}.
- `expire_overdue_invitations(today)`: pending invitations past their deadline become "no response".
"""
from ..timeutil import add_months, london, utcnow
from .attendance import add_attendee, certificate_number, compute_pass, record_result
from .courses import (COURSE_FIELDS, SESSION_FIELDS, create_course, create_session, places_left, seats_taken,
                      update_course, update_session, upcoming_sessions)
from .dates import (DEFAULT_RESPONSE_DAYS, REPLY_BEFORE_SESSION_DAYS, default_reply_by, london_datetime,
                    session_date)
from .hooks import SECTION_ROWS, TIMELINE_LIMIT, training_events, training_panel
from .invitations import (INVITATION_FIELDS, accept_invitation, create_invitation, decline_invitation,
                          expire_overdue_invitations, record_letter_sent, update_invitation)
from .queries import (NO_RESPONSE_FOLLOW_UP_DAYS, REMINDER_DAYS, business_invitations, business_refusals, count,
                      expiring_certificates_query, invitation_letter, letters_to_print_query, no_response_query,
                      refusal_counts, training_status)


__all__ = [
    "COURSE_FIELDS", "DEFAULT_RESPONSE_DAYS", "INVITATION_FIELDS", "NO_RESPONSE_FOLLOW_UP_DAYS", "REMINDER_DAYS",
    "REPLY_BEFORE_SESSION_DAYS", "SECTION_ROWS", "SESSION_FIELDS", "TIMELINE_LIMIT", "accept_invitation",
    "add_attendee", "add_months", "business_invitations", "business_refusals", "certificate_number", "compute_pass",
    "count", "create_course", "create_invitation", "create_session", "decline_invitation", "default_reply_by",
    "expire_overdue_invitations", "expiring_certificates_query", "invitation_letter", "letters_to_print_query",
    "london", "london_datetime", "no_response_query", "places_left", "record_letter_sent", "record_result",
    "refusal_counts", "seats_taken", "session_date", "training_events", "training_panel", "training_status",
    "update_course", "update_invitation", "update_session", "upcoming_sessions", "utcnow",
]
