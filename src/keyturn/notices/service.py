"""Security notices: queue one in the transaction of the change it tells about
(docs/security-notices.md; the link's use case is `notices.wasnt_me`).

    from keyturn.notices import service as notices
    notices.queue(db, user=user, kind="passkey_added", details={"device": "YubiKey"})

`queue` only adds a row; the worker (`notices.sender`) sends it after the commit, through the
configured SMS or email provider, so no request waits on a provider and a rolled-back change
tells nobody anything.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.notices.messages import KINDS, language_of
from keyturn.notices.models import SecurityNotice
from keyturn.users.models import User

# `<market>.<43 url-safe characters>`: the market says which database holds the notice.
TOKEN_PATTERN = re.compile(r"^[a-z]{2,8}\.[A-Za-z0-9_-]{43}$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_market(token: str) -> str | None:
    return token.partition(".")[0] if TOKEN_PATTERN.fullmatch(token) else None


def _recipient(user: User, not_to: str | None) -> tuple[str, str] | None:
    """Where the owner hears from us: a proven email, else a proven phone, else what there
    is; never on the channel `not_to` (`email` or `sms`: the way in that just changed)."""
    for channel, address, proven in (
        ("email", user.email, user.email_verified),
        ("sms", user.phone_number, user.is_verified),
        ("email", user.email, True),
        ("sms", user.phone_number, True),
    ):
        if address and proven and channel != not_to:
            return channel, address
    return None


def queue(
    db: AsyncSession,
    *,
    user: User,
    kind: str,
    details: dict[str, Any] | None = None,
    not_to: str | None = None,
) -> None:
    """Tell the owner of `user` about `kind` (notices.messages.KINDS) once the caller commits.
    `not_to`: a channel that must not carry it (`email` when the email was just added: whoever
    added it would be told, not the owner)."""
    assert kind in KINDS, kind
    if user.role == "guest":
        return
    recipient = _recipient(user, not_to)
    if recipient is None:
        return
    db.add(
        SecurityNotice(
            user_id=user.id,
            kind=kind,
            channel=recipient[0],
            recipient=recipient[1],
            language=language_of(user.language),
            details=details or {},
        )
    )


async def purge(db: AsyncSession, *, before: datetime) -> int:
    """Delete notices created before `before` (their links expired long ago); flushed."""
    result = await db.execute(delete(SecurityNotice).where(SecurityNotice.created_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
