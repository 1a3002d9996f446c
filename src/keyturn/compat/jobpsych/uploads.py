"""The upload quota and files of the JobPsych API: keyturn's `uploads` counter underneath.

The analysis service's "check the count, then increment" pair stays, but the increment is
now the atomic consume (`usage.consume`: it refuses past the limit, so parallel uploads can
no longer run past it) and the check is only advisory. Both calls name a user by email, so
they answer only that user's own bearer token or a configured service address (the seed
answered anyone, which told strangers who has an account and let them spend its quota).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.compat.jobpsych import schemas as out
from keyturn.compat.jobpsych.errors import NotAService, UserNotFound
from keyturn.compat.jobpsych.service import UPLOADS, limit_reached, uploads
from keyturn.config import Settings
from keyturn.contacts import InvalidEmail, normalize_email
from keyturn.errors import Unauthorized
from keyturn.files import service as files
from keyturn.files.storage import Storage
from keyturn.sessions import live
from keyturn.sessions.tokens import AccessClaims
from keyturn.usage import service as usage
from keyturn.users import service as users
from keyturn.users.models import User


async def _visible_user(
    db: AsyncSession,
    *,
    settings: Settings,
    market: str,
    email: str,
    claims: AccessClaims | None,
    ip: str | None,
) -> User:
    """The user named by `email`, if the caller is that user or a configured service."""
    owner = None
    if claims is not None and claims.market == market:
        try:
            owner = await live.authenticate(db, claims)
        except Unauthorized:
            owner = None
    if owner is None and (ip is None or ip not in settings.jobpsych.service_ips):
        raise NotAService(
            "Send the user's bearer token, or call from an address listed in "
            "KEYTURN_JOBPSYCH__SERVICE_IPS."
        )
    try:
        user = await users.find_by_email(db, normalize_email(email))
    except InvalidEmail:
        user = None
    if user is None or (owner is not None and owner.user_id != user.id):
        raise UserNotFound("User not found", filesUploaded=0)
    return user


async def upload_count(
    db: AsyncSession,
    *,
    settings: Settings,
    market: str,
    email: str,
    claims: AccessClaims | None,
    ip: str | None,
) -> out.UploadCount:
    """Advisory: the count may change before the increment, which is the real check."""
    user = await _visible_user(
        db, settings=settings, market=market, email=email, claims=claims, ip=ip
    )
    counter = await uploads(db, settings, user.id)
    return out.UploadCount(
        message="Upload statistics retrieved successfully",
        email=user.email or email,
        filesUploaded=counter.used,
        limit=counter.limit,
        remaining=counter.remaining,
    )


async def increment_upload(
    db: AsyncSession,
    *,
    settings: Settings,
    market: str,
    email: str,
    claims: AccessClaims | None,
    ip: str | None,
) -> out.UploadCount:
    """Consume one `uploads` unit atomically; past the limit it is a 429 and nothing moves."""
    user = await _visible_user(
        db, settings=settings, market=market, email=email, claims=claims, ip=ip
    )
    try:
        counter = await usage.consume_counter(
            db, user_id=user.id, name=UPLOADS, amount=1, settings=settings.usage
        )
    except usage.QuotaExceeded as err:
        raise limit_reached(err) from None
    return out.UploadCount(
        message="Upload count incremented successfully",
        email=user.email or email,
        filesUploaded=counter.used,
        limit=counter.limit,
        remaining=counter.remaining,
    )


async def upload_stats(db: AsyncSession, *, settings: Settings, user_id: int) -> out.UploadStatsOut:
    user = await users.get_user(db, user_id)
    counter = await uploads(db, settings, user_id)
    return out.UploadStatsOut(
        stats=out.UploadStats(
            email=user.email,
            name=user.full_name,
            totalUploads=counter.used,
            limit=counter.limit,
            remaining=counter.remaining,
            percentage=min(100.0, 100 * counter.used / counter.limit) if counter.limit else 100.0,
            canUpload=counter.remaining > 0,
        )
    )


async def upload_file(
    db: AsyncSession,
    *,
    settings: Settings,
    storage: Storage,
    user_id: int,
    role: str,
    stream: AsyncIterator[bytes],
    content_type: str | None,
    content_length: str | None,
) -> out.FileOut:
    """Store the file and consume its `uploads` unit in one transaction (files.service)."""
    try:
        stored = await files.upload_file(
            db,
            user_id=user_id,
            role=role,
            settings=settings,
            storage=storage,
            stream=stream,
            content_type=content_type,
            content_length=content_length,
        )
    except usage.QuotaExceeded as err:
        raise limit_reached(err) from None
    counter = await uploads(db, settings, user_id)
    return out.FileOut(
        message="File processed successfully",
        data=out.FileInfo(
            fileId=stored.id,
            filename=stored.filename,
            size=stored.size,
            mimeType=stored.content_type,
            sha256=stored.sha256,
            filesUploaded=counter.used,
            remaining=counter.remaining,
        ),
    )


async def file_stats(db: AsyncSession, *, settings: Settings, user_id: int) -> out.FileStatsOut:
    recent = await files.list_files(db, user_id=user_id, limit=10, cursor=None)
    counter = await uploads(db, settings, user_id)
    return out.FileStatsOut(
        message="Upload statistics retrieved successfully",
        data=out.FileStats(
            totalFiles=counter.used,
            limit=counter.limit,
            remaining=counter.remaining,
            recentFiles=[
                out.RecentFile(id=f.id, filename=f.filename, uploadedAt=f.created_at, size=f.size)
                for f in recent.items
            ],
        ),
    )
