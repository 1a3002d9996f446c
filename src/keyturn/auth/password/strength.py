"""The password rules: 8 to 128 characters of anything (spaces and emoji welcome, never
truncated), not a common or patterned password, not mostly the person's email or name.

zxcvbn decides what is guessable: a password it scores below 3 is refused when zxcvbn
recognised a pattern in it (dictionary word, keyboard walk, repeat, sequence, date, the
person's own details). A password made only of characters zxcvbn cannot predict passes on
length alone, so a random 8-character password is accepted
(see docs/passwords-and-browser-sessions.md).
"""

from __future__ import annotations

import re
import unicodedata

from zxcvbn import zxcvbn

from keyturn.errors import Invalid

MIN_LENGTH = 8
MAX_LENGTH = 128
STRONG_SCORE = 3


class PasswordTooShort(Invalid):
    """The new password has fewer than 8 characters."""

    code = "password.too_short"


class PasswordTooLong(Invalid):
    """The new password has more than 128 characters."""

    code = "password.too_long"


class WeakPassword(Invalid):
    """The new password is common or follows a guessable pattern."""

    code = "password.weak"


class PersonalPassword(Invalid):
    """The new password is mostly the person's email address or name."""

    code = "password.personal"


def normalize(password: str) -> str:
    """NFC, so the same password typed on different keyboards hashes the same."""
    return unicodedata.normalize("NFC", password)


def check(password: str, *, personal: tuple[str | None, ...] = ()) -> None:
    """Raise the first rule `password` breaks; `personal` holds the email, name, company."""
    length = len(password)
    if length < MIN_LENGTH:
        raise PasswordTooShort(
            f"Use at least {MIN_LENGTH} characters (this one has {length}).",
            min_length=MIN_LENGTH,
        )
    if length > MAX_LENGTH:
        raise PasswordTooLong(
            f"Use at most {MAX_LENGTH} characters (this one has {length}).",
            max_length=MAX_LENGTH,
        )
    words = _personal_words(personal)
    if _mostly_personal(password, words):
        raise PersonalPassword("The password is mostly your email address or name.")
    result = zxcvbn(password, user_inputs=words, max_length=MAX_LENGTH)
    patterned = any(match["pattern"] != "bruteforce" for match in result["sequence"])
    if result["score"] < STRONG_SCORE and patterned:
        feedback = result["feedback"]
        warning = feedback.get("warning") or "This password is easy to guess."
        raise WeakPassword(
            f"{warning.rstrip('.')}. Choose a longer or less predictable password.",
            score=result["score"],
            suggestions=feedback.get("suggestions", []),
        )


def _personal_words(values: tuple[str | None, ...]) -> list[str]:
    words: set[str] = set()
    for value in values:
        if not value:
            continue
        value = value.casefold()
        local = value.split("@", 1)[0]
        words.update({value, local})
        words.update(w for w in re.split(r"[\W_]+", value) if len(w) >= 3)
    return sorted(words)


def _mostly_personal(password: str, words: list[str]) -> bool:
    """True when the person's details make up at least half of the password."""
    whole = re.sub(r"\s+", "", password.casefold())
    rest = whole
    for word in sorted(words, key=len, reverse=True):
        if len(word) >= 3:
            rest = rest.replace(word, "")
    return (len(whole) - len(rest)) * 2 >= len(whole)
