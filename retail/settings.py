"""Each authority's settings (letterhead, contact details, volunteer ages), stored in the database with defaults in
code. A value saved with no authority is the deployment-wide fallback; the authority's own value wins."""
import sqlalchemy as sa

from .extensions import db
from .models.authority import Authority
from .models.settings import Setting

DEFAULTS = {
    "authority_name": "London Borough Trading Standards",
    "letterhead_address": "Trading Standards Service, Town Hall, London",
    "letterhead_phone": "020 7946 0000",
    "letterhead_email": "trading.standards@example.gov.uk",
    "contact_url": "https://example.invalid/knife-retail-tracker",
    "letter_signatory": "Trading Standards Officer",
    # The code of practice: volunteers typically aged 13-16, at least 18 months under the legal age.
    "volunteer_min_age": "13",
    "volunteer_max_age": "16",
}
# The widest range an authority may set (domain brief 2.2: ages 12-17 are seen in practice, but a volunteer must be
# at least 18 months under 18, so 16 is the oldest whole year that always meets the gap).
VOLUNTEER_AGE_BOUNDS = (12, 16)


def _current_authority_id(authority_id: int | None) -> int | None:
    if authority_id is not None:
        return authority_id
    from .scoping import current_authority_id

    return current_authority_id()


def all_settings(authority_id: int | None = None) -> dict[str, str]:
    authority_id = _current_authority_id(authority_id)
    values = dict(DEFAULTS)
    if authority_id is not None:
        name = db.session.scalar(sa.select(Authority.name).where(Authority.id == authority_id))
        if name:
            values["authority_name"] = name
    rows = db.session.execute(sa.select(Setting.authority_id, Setting.key, Setting.value).where(
        sa.or_(Setting.authority_id.is_(None), Setting.authority_id == authority_id)
        if authority_id is not None else Setting.authority_id.is_(None))).all()
    for _owner, key, value in sorted(rows, key=lambda r: r[0] is not None):  # the authority's own value last
        if value is not None:
            values[key] = value
    return values


def get_setting(key: str, authority_id: int | None = None) -> str:
    return all_settings(authority_id).get(key, "")


def volunteer_age_range(authority_id: int | None = None) -> tuple[int, int]:
    values = all_settings(authority_id)
    low, high = VOLUNTEER_AGE_BOUNDS
    try:
        return max(low, int(values["volunteer_min_age"])), min(high, int(values["volunteer_max_age"]))
    except ValueError:
        return int(DEFAULTS["volunteer_min_age"]), int(DEFAULTS["volunteer_max_age"])


def deployment_settings() -> dict[str, str]:
    """The deployment-wide values alone (no authority's own value), for settings that are not the authority's to
    choose: the listing monitor's evidence is shared London-wide, so its retention period is one for everyone."""
    return {key: value for key, value in db.session.execute(
        sa.select(Setting.key, Setting.value).where(Setting.authority_id.is_(None))).all() if value is not None}


def save_settings(values: dict[str, str], authority_id: int | None = None) -> None:
    """Save the authority's own values (None outside a request: the deployment-wide fallback)."""
    _save(values, _current_authority_id(authority_id))


def save_deployment_settings(values: dict[str, str]) -> None:
    """Save deployment-wide values, even inside a signed-in admin's request."""
    _save(values, None)


def _save(values: dict[str, str], authority_id: int | None) -> None:
    existing = {s.key: s for s in db.session.scalars(sa.select(Setting).where(
        Setting.key.in_(list(values)),
        Setting.authority_id == authority_id if authority_id is not None else Setting.authority_id.is_(None)))}
    for key, value in values.items():
        if key in existing:
            if existing[key].value != value:
                existing[key].value = value
        else:
            db.session.add(Setting(key=key, value=value, authority_id=authority_id))
    db.session.flush()
