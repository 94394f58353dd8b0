"""Column helpers and mixins shared by every domain's models."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from ..timeutil import UTCDateTime, utcnow


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)


class Versioned:
    """Optimistic locking: a save based on a stale copy is refused instead of silently overwriting.

    Edit forms carry `version`; domain code compares it before applying changes, and SQLAlchemy
    checks it again in the UPDATE so two simultaneous saves cannot both win.
    """

    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.__table__.c.version}


class Audited:
    """Marker: create/update/delete of these rows is written to the audit log (see retail.audit)."""

    __audited__ = True
    # Columns that are noise in an audit history.
    __audit_exclude__ = frozenset({"created_at", "updated_at", "version"})
    # Personal fields (a child's date of birth, a person's name): the audit log records that they changed, and their
    # values go to the erasable `audit_personal` table; the retention job and the migrations read this declaration.
    __audit_personal__ = frozenset()


def enum_column(enum_cls, **kwargs):
    """Store a StrEnum as a short string with a CHECK constraint, portable across SQLite and PostgreSQL."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls) + 8,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        **kwargs,
    )


class OwnedByAuthority:
    """Marker and column: the row belongs to one authority (see retail.scoping, which filters every ORM query on it
    and refuses writes outside the signed-in user's authority)."""

    __owned__ = True

    @declared_attr
    def authority_id(cls) -> Mapped[int]:
        return mapped_column(sa.ForeignKey("authority.id"), nullable=False, index=True, default=_default_owner)


def _default_owner(context) -> int | None:
    # Bulk inserts skip the flush hooks that set the owner: fall back to the signed-in user's authority.
    from ..scoping import default_owner_id

    return default_owner_id(context.connection)
