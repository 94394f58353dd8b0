"""Settings that each authority's admins edit in the app (letterhead, contact URL, volunteer ages, ...)."""
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow
from .base import Audited


class Setting(Audited, db.Model):
    __tablename__ = "setting"
    __table_args__ = (sa.UniqueConstraint("authority_id", "key", name="uq_setting_authority_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL: a deployment-wide value (the fallback for every authority).
    authority_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("authority.id"), index=True)
    key: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    value: Mapped[Optional[str]] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)
