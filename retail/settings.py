"""Authority-wide settings stored in the database, with defaults in code."""
import sqlalchemy as sa

from .extensions import db
from .models.settings import Setting

DEFAULTS = {
    "authority_name": "London Borough Trading Standards",
    "letterhead_address": "Trading Standards Service, Town Hall, London",
    "letterhead_phone": "020 7946 0000",
    "letterhead_email": "trading.standards@example.gov.uk",
    "contact_url": "https://example.invalid/knife-retail-tracker",
}


def get_setting(key: str) -> str:
    value = db.session.scalar(sa.select(Setting.value).where(Setting.key == key))
    return value if value is not None else DEFAULTS.get(key, "")


def all_settings() -> dict[str, str]:
    stored = dict(db.session.execute(sa.select(Setting.key, Setting.value)).all())
    return {**DEFAULTS, **{k: v for k, v in stored.items() if v is not None}}


def save_settings(values: dict[str, str]) -> None:
    existing = {s.key: s for s in db.session.scalars(sa.select(Setting).where(Setting.key.in_(list(values))))}
    for key, value in values.items():
        if key in existing:
            if existing[key].value != value:
                existing[key].value = value
        else:
            db.session.add(Setting(key=key, value=value))
    db.session.flush()
