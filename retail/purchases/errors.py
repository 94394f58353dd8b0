"""The two ways a test purchase entry is refused: a broken rule (with the field to show it next to), a late edit."""
from ..validation import InvalidValue


class PurchaseError(InvalidValue):
    """A rule the officer's entry breaks; `field` names the form field to show it next to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class PurchaseErrors(PurchaseError):
    """Several broken rules found in one pass, so the officer fixes them all in one round trip (on a phone with a
    weak signal, one error per submit is one submit too many). Behaves as the first error where one is expected."""

    def __init__(self, errors: list[PurchaseError]):
        super().__init__(str(errors[0]), errors[0].field)
        self.errors = errors


class ErrorCollector:
    """Run independent checks and keep every PurchaseError they raise; `done()` raises them together."""

    def __init__(self):
        self.errors: list[PurchaseError] = []

    def check(self, func, *args) -> bool:
        try:
            func(*args)
        except PurchaseErrors as exc:
            self.errors.extend(exc.errors)
            return False
        except PurchaseError as exc:
            self.errors.append(exc)
            return False
        return True

    def failed(self, *fields: str) -> bool:
        return any(e.field in fields for e in self.errors)

    def done(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise PurchaseErrors(self.errors)


class LetterAlreadySent(Exception):
    """A plain edit after the letter went out: it must be an amendment with a reason instead."""
