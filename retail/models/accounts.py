"""User accounts and roles, and the sign-in throttle's counters."""
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..access import ROLE_LABELS, STAFF, Role
from ..extensions import db
from ..passwords import hash_password, verify_password
from ..timeutil import UTCDateTime, utcnow
from .base import Audited, Timestamps, enum_column

if TYPE_CHECKING:
    from .register import Business


class User(UserMixin, Audited, Timestamps, db.Model):
    __tablename__ = "user_account"
    __audit_exclude__ = frozenset({"created_at", "updated_at", "password_hash", "session_token", "last_login_at"})
    __table_args__ = (
        # A retailer belongs to exactly one business; staff belong to none.
        sa.CheckConstraint(
            "(role = 'retailer' AND business_id IS NOT NULL) OR (role <> 'retailer' AND business_id IS NULL)",
            name="retailer_has_business",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    role: Mapped[Role] = mapped_column(enum_column(Role, name="role"), nullable=False)
    business_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("business.id"), index=True)
    # The organisation the user works for (a retailer: the authority that manages their account). A role holds
    # inside it only.
    authority_id: Mapped[int] = mapped_column(sa.ForeignKey("authority.id"), nullable=False, index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    # Every session cookie carries this token; a new one (see `end_sessions`) makes every older cookie worthless,
    # so a session can be revoked on the server, not only forgotten by the browser.
    session_token: Mapped[str] = mapped_column(sa.String(64), nullable=False, default=lambda: new_session_token())
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    business: Mapped[Optional["Business"]] = relationship()
    authority = relationship("Authority", lazy="joined")

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return verify_password(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled users cannot log in or keep a session
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def get_id(self) -> str:  # Flask-Login stores this in the session cookie; the user loader checks both parts
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Sign this user out everywhere: every session cookie issued so far stops working."""
        self.session_token = new_session_token()

    def record_login(self) -> None:
        self.last_login_at = utcnow()

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class LoginThrottle(db.Model):
    """Failed sign-ins counted per key ("account:EMAIL", "address:IP", "pair:EMAIL|IP"), in the database so every
    web worker sees the same counts. A row is deleted when the right password clears it or when it goes stale."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(sa.String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    blocked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
