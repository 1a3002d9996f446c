"""Field types every request schema and parameter shares, so that what validation accepts
is what the database can store: text without control characters, bounded URLs and cursors.

A NUL byte is a 500 on PostgreSQL (which cannot store it) and nonsense anywhere else;
lone surrogates cannot be encoded at all. See docs/security.md.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field, HttpUrl, StringConstraints

# C0 and C1 controls, DEL, and lone surrogates (never valid UTF-8).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same, but tab, line feed and carriage return are allowed in multi-line text.
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# The widest URL column (`users.profile_image_url`, `products.image_url`).
URL_MAX_LENGTH = 2048


def has_control_characters(value: str) -> bool:
    return _CONTROL.search(value) is not None


def _single_line(value: str) -> str:
    if has_control_characters(value):
        raise ValueError("control characters are not allowed")
    return value


def _multiline(value: str) -> str:
    if _CONTROL_MULTILINE.search(value):
        raise ValueError("control characters other than tab and line breaks are not allowed")
    return value


def _fits_column(url: HttpUrl) -> HttpUrl:
    # Checked on the normalised form: percent-encoding can make it longer than the input.
    if len(str(url)) > URL_MAX_LENGTH:
        raise ValueError(f"URL must be at most {URL_MAX_LENGTH} characters")
    return url


# One line of text: names, emails, phones, codes, tokens, search terms, ids.
Text = Annotated[str, AfterValidator(_single_line)]
# Free text that may span lines: descriptions, notes.
MultilineText = Annotated[str, AfterValidator(_multiline)]
Url = Annotated[HttpUrl, Field(max_length=URL_MAX_LENGTH), AfterValidator(_fits_column)]
# `next_cursor` of a previous page: an id, ASCII digits only (`"²".isdigit()` is True).
Cursor = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,18}$")]


def _as_utc(value: datetime | None) -> datetime | None:
    """A time without a zone is read as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# A moment in a filter (`since`, `until`): ISO 8601, UTC when it names no zone.
Moment = Annotated[datetime | None, AfterValidator(_as_utc)]
