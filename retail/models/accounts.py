"""User accounts and roles."""
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..access import ROLE_LABELS, STAFF, Role
from ..extensions import db
from ..timeutil import UTCDateTime, utcnow
from .base import Audited, Timestamps, enum_column

if TYPE_CHECKING:
    from .register import Business


class User(UserMixin, Audited, Timestamps, db.Model):
    __tablename__ = "user_account"
    __audit_exclude__ = frozenset({"created_at", "updated_at", "password_hash", "failed_logins",
                                   "locked_until", "last_login_at"})
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
    failed_logins: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    locked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    business: Mapped[Optional["Business"]] = relationship()
    authority = relationship("Authority", lazy="joined")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled users cannot log in or keep a session
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def is_locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    def record_failed_login(self, max_failures: int, lock_minutes: int) -> None:
        self.failed_logins += 1
        if self.failed_logins >= max_failures:
            self.locked_until = utcnow() + timedelta(minutes=lock_minutes)
            self.failed_logins = 0

    def record_login(self) -> None:
        self.failed_logins = 0
        self.locked_until = None
        self.last_login_at = utcnow()

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
