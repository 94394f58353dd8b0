"""Copying submitted values onto a record, the same way in every area."""


def apply_fields(record, data: dict, fields, nullable=frozenset()) -> None:
    """Set each of `fields` that `data` has: strings trimmed, and empty values of `nullable` fields stored as None."""
    for field in fields:
        if field not in data:
            continue
        value = data[field]
        if isinstance(value, str):
            value = value.strip()
        if field in nullable and value in ("", 0, None):
            value = None
        setattr(record, field, value)
