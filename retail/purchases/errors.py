"""The two ways a test purchase entry is refused: a broken rule (with the field to show it next to), a late edit."""
from ..validation import InvalidValue


class PurchaseError(InvalidValue):
    """A rule the officer's entry breaks; `field` names the form field to show it next to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class LetterAlreadySent(Exception):
    """A plain edit after the letter went out: it must be an amendment with a reason instead."""
