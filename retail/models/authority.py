"""Organisations that share one deployment: the 33 London authorities, partners (the Met, City Hall, London Trading
Standards) and any authority outside London that is added. Every user belongs to one; owned records name one."""
from enum import StrEnum
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import Audited, Timestamps, enum_column


class AuthorityKind(StrEnum):
    LONDON_BOROUGH = "london-borough"  # the 32 boroughs and the City of London
    OTHER_AUTHORITY = "other-authority"  # a Trading Standards service outside London
    POLICE = "police"  # the Met (Operation Sceptre): runs operations across boroughs
    CITY_HALL = "city-hall"  # the Mayor's office: reads London-wide measures
    PARTNERSHIP = "partnership"  # London Trading Standards: coordinates


AUTHORITY_KIND_LABELS = {
    AuthorityKind.LONDON_BOROUGH: "London borough",
    AuthorityKind.OTHER_AUTHORITY: "Authority outside London",
    AuthorityKind.POLICE: "Police",
    AuthorityKind.CITY_HALL: "City Hall",
    AuthorityKind.PARTNERSHIP: "Partnership",
}


class Authority(Audited, Timestamps, db.Model):
    __tablename__ = "authority"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The borough slugs the app already uses (`hackney`, `city-of-london`), plus `met`, `city-hall`, `lts`.
    code: Mapped[str] = mapped_column(sa.String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    kind: Mapped[AuthorityKind] = mapped_column(enum_column(AuthorityKind, name="authority_kind"), nullable=False)
    # For a London borough, the borough it serves (same as code); premises in that borough belong to it.
    borough: Mapped[Optional[str]] = mapped_column(sa.String(32), unique=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)

    @property
    def kind_label(self) -> str:
        return AUTHORITY_KIND_LABELS[self.kind]

    @property
    def runs_test_purchases_across_boroughs(self) -> bool:
        return self.kind == AuthorityKind.POLICE

    def __repr__(self) -> str:
        return f"<Authority {self.code}>"


# Which authorities may read an operation run by another (the Met's operations name the boroughs they work in).
# Never used for volunteers: they are not shared.
operation_authority = sa.Table(
    "operation_authority",
    db.metadata,
    sa.Column("operation_id", sa.ForeignKey("operation.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("authority_id", sa.ForeignKey("authority.id"), primary_key=True),
    sa.Index("ix_operation_authority_authority", "authority_id", "operation_id"),
)


class OperationAuthority(db.Model):
    __table__ = operation_authority
