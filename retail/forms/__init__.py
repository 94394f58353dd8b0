"""WTForms forms, one module per area."""
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import ValidationError

from ..idempotency import new_token
from ..validation import InvalidValue, normalise_postcode, normalise_url


class SubmitOnceForm(FlaskForm):
    """A create form whose one-time token stops a double tap from creating two records."""

    submission_token = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.submission_token.data:
            self.submission_token.data = new_token()


class VersionedForm(FlaskForm):
    """An edit form that carries the record's version, so a save based on a stale copy is refused."""

    version = HiddenField()


class UKPostcode:
    """Validates and normalises a UK postcode in place (sw1a1aa -> SW1A 1AA)."""

    def __init__(self, optional: bool = False):
        self.optional = optional

    def __call__(self, form, field):
        if self.optional and not (field.data or "").strip():
            field.data = ""
            return
        try:
            field.data = normalise_postcode(field.data)
        except InvalidValue as exc:
            raise ValidationError(str(exc)) from exc


class WebAddress:
    def __call__(self, form, field):
        try:
            field.data = normalise_url(field.data)
        except InvalidValue as exc:
            raise ValidationError(str(exc)) from exc
