"""The password rule (long enough, and not a common or easily guessed password) and the hash checks.

Common passwords come from zxcvbn, which ships the 30,000 most common passwords from leaked lists with English
words, names and keyboard patterns, and scores how guessable a password is from them. We refuse anything it scores
below 3 ("safely unguessable: moderate protection from an offline attack"), as well as passwords built from the
user's own email or name.
"""
import secrets
from functools import lru_cache

from werkzeug.security import check_password_hash, generate_password_hash

from .validation import InvalidValue

MIN_LENGTH = 10
MIN_SCORE = 3
HASH_METHOD = "scrypt"
ZXCVBN_MAX = 72


class WeakPassword(InvalidValue):
    """A password refused by the rule; the message says why, to be shown next to the password field."""


def password_problem(password: str, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why `password` may not be used, or None. `user_inputs`: the user's email, name… (not to be built from)."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    # zxcvbn refuses more than 72 characters (its cost grows with length); past that a password is not guessable
    # from a list anyway, so the first 72 are what it judges.
    from zxcvbn import zxcvbn  # here, not at the top: its word lists hold ~14 MB in every process that loads the app

    words = [part for value in user_inputs if value for part in _parts(value)]
    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=[w[:ZXCVBN_MAX] for w in words])
    if result["score"] >= MIN_SCORE:
        return None
    warning = result["feedback"].get("warning") or "This password is too easy to guess."
    if any(m.get("dictionary_name") == "user_inputs" for m in result["sequence"]):
        warning = "Do not build the password from your email or name."
    return f"{warning.rstrip('.')}. Choose a longer, less common password (a few unrelated words work well)."


def check_password_rule(password: str, user_inputs: tuple[str, ...] = ()) -> None:
    problem = password_problem(password, user_inputs)
    if problem:
        raise WeakPassword(problem)


def _parts(value: str) -> list[str]:
    value = value.strip().lower()
    local = value.split("@")[0]
    return [value, local, *local.replace(".", " ").replace("-", " ").replace("_", " ").split()]


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def verify_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(24))


def verify_against_nothing(password: str) -> bool:
    """Spend the time a real check takes, for an email with no account, so the answer's timing tells nothing."""
    verify_password(_dummy_hash(), password)
    return False
