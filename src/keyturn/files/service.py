"""Files: upload (paid for by one `uploads` unit), list, read, download, delete — owner only."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.config import Settings
from keyturn.db import Databases, end_read, utcnow
from keyturn.errors import AppError, Forbidden, NotFound, Unavailable
from keyturn.events import service as events
from keyturn.files import sniff
from keyturn.files.models import StoredFile
from keyturn.files.receive import ReceivedFile, receive_upload
from keyturn.files.schemas import FileList, FileRead
from keyturn.files.storage import Storage
from keyturn.logs import get_logger
from keyturn.usage import service as usage

log = get_logger(__name__)

UPLOADS = "uploads"


class UnsupportedType(AppError):
    """The content is not one of the allowed types, or not what its extension claims."""

    status, code, title = 415, "files.unsupported_type", "Unsupported file type"


class GuestCannotUpload(Forbidden):
    """Guests own a cart and a wishlist, not files; sign in to upload."""

    code = "files.sign_in_required"


class StorageFailed(Unavailable):
    """The storage backend could not store or return the bytes."""

    code = "files.storage_unavailable"


@dataclass
class Download:
    file: FileRead
    chunks: AsyncIterator[bytes]


async def upload_file(
    db: AsyncSession,
    *,
    user_id: int,
    role: str,
    settings: Settings,
    storage: Storage,
    stream: AsyncIterator[bytes],
    content_type: str | None,
    content_length: str | None,
) -> FileRead:
    """Receive, check, store and record one file, consuming one `uploads` unit atomically."""
    if role == "guest":
        raise GuestCannotUpload("Sign in to upload files.")
    await usage.check_available(
        db, user_id=user_id, name=UPLOADS, amount=1, settings=settings.usage
    )
    # End the read transaction before the body streams in: on SQLite it holds the write lock.
    await end_read(db)
    received = await receive_upload(
        stream,
        content_type=content_type,
        content_length=content_length,
        max_size=settings.files.max_size,
        spool_dir=settings.data_dir / "tmp",
    )
    try:
        detected = await asyncio.to_thread(sniff.detect, received.path)
        _check_type(detected, received.filename, settings.files.allowed_types)
        key = await _put(storage, received.path, user_id=user_id)
        try:
            return await _record(
                db,
                user_id=user_id,
                settings=settings,
                received=received,
                content_type=detected,
                storage_key=key,
            )
        except BaseException:
            await discard(storage, key)
            raise
    finally:
        await asyncio.to_thread(received.path.unlink, missing_ok=True)


def _check_type(detected: str, filename: str, allowed: list[str]) -> None:
    if detected not in allowed:
        raise UnsupportedType(
            f"Files of type {detected} are not accepted.", detected_type=detected, allowed=allowed
        )
    promised = sniff.extension_type(filename)
    if promised is not None and promised != detected:
        raise UnsupportedType(
            f"The content is {detected}, not what the file name says ({promised}).",
            detected_type=detected,
            allowed=allowed,
        )


async def _put(storage: Storage, source: Path, *, user_id: int) -> str:
    """Store the bytes under a new key, outside any transaction (storage may be slow)."""
    key = secrets.token_hex(16)
    try:
        await storage.put(key, source)
    except Exception as exc:
        log.error("files.store_failed", error=type(exc).__name__, user_id=user_id)
        await discard(storage, key)
        raise StorageFailed("The file could not be stored; nothing was charged. Retry.") from None
    return key


async def _record(
    db: AsyncSession,
    *,
    user_id: int,
    settings: Settings,
    received: ReceivedFile,
    content_type: str,
    storage_key: str,
) -> FileRead:
    """One transaction: the unit and the row. Stored bytes that never get their row (a
    refusal here, or a crash before the commit) are removed by `sweep_orphans`."""
    await usage.consume(db, user_id=user_id, name=UPLOADS, amount=1, settings=settings.usage)
    row = StoredFile(
        user_id=user_id,
        filename=received.filename,
        content_type=content_type,
        size=received.size,
        sha256=received.sha256,
        storage_key=storage_key,
    )
    db.add(row)
    await db.flush()
    events.emit(
        db,
        "file.uploaded",
        {
            "file_id": row.id,
            "user_id": user_id,
            "content_type": content_type,
            "size": row.size,
            "sha256": row.sha256,
        },
    )
    await db.commit()
    log.info("files.uploaded", file_id=row.id, user_id=user_id, size=row.size)
    return FileRead.model_validate(row)


async def discard(storage: Storage, key: str) -> None:
    """Remove stored bytes, best effort: what fails is an orphan the sweep removes later."""
    try:
        await storage.delete(key)
    except Exception as exc:
        log.error("files.discard_failed", storage_key=key, error=type(exc).__name__)


async def get_file(db: AsyncSession, *, user_id: int, file_id: int) -> StoredFile:
    row = await db.scalar(
        select(StoredFile).where(StoredFile.id == file_id, StoredFile.user_id == user_id)
    )
    if row is None:
        raise NotFound("No such file.")
    return row


async def read_file(db: AsyncSession, *, user_id: int, file_id: int) -> FileRead:
    return FileRead.model_validate(await get_file(db, user_id=user_id, file_id=file_id))


async def list_files(db: AsyncSession, *, user_id: int, limit: int, cursor: str | None) -> FileList:
    """Newest first; `next_cursor` continues after the last item."""
    query = select(StoredFile).where(StoredFile.user_id == user_id)
    if cursor is not None:
        query = query.where(StoredFile.id < int(cursor))
    rows = list(await db.scalars(query.order_by(StoredFile.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return FileList(
        items=[FileRead.model_validate(r) for r in rows],
        next_cursor=str(rows[-1].id) if more else None,
    )


async def download_file(
    db: AsyncSession, *, user_id: int, file_id: int, storage: Storage
) -> Download:
    row = await get_file(db, user_id=user_id, file_id=file_id)
    meta, key = FileRead.model_validate(row), row.storage_key
    # The metadata is read: end the transaction before storage is asked for the bytes.
    await end_read(db)
    try:
        chunks = await storage.read(key)
    except Exception as exc:
        log.error("files.read_failed", file_id=meta.id, error=type(exc).__name__)
        raise StorageFailed("The file's content cannot be read right now.") from None
    return Download(file=meta, chunks=chunks)


async def delete_file(db: AsyncSession, *, user_id: int, file_id: int, storage: Storage) -> None:
    """Remove the row, then the bytes. Deleting does not give the `uploads` unit back."""
    row = await get_file(db, user_id=user_id, file_id=file_id)
    key = row.storage_key
    await db.delete(row)
    events.emit(db, "file.deleted", {"file_id": file_id, "user_id": user_id})
    await db.commit()
    await discard(storage, key)


async def sweep_orphans(
    databases: Databases, storage: Storage, *, markets: list[str], grace: timedelta
) -> int:
    """Remove stored objects older than `grace` that no market's file row refers to: files
    of deleted users and guests, and uploads that crashed between storing and committing."""
    written_before = utcnow() - grace
    candidates = [key for key, written in await storage.keys() if written < written_before]
    orphans = set(candidates)
    for market in markets:
        async with databases.session(market) as db:
            for start in range(0, len(candidates), 500):
                chunk = candidates[start : start + 500]
                orphans -= set(
                    await db.scalars(
                        select(StoredFile.storage_key).where(StoredFile.storage_key.in_(chunk))
                    )
                )
    for key in sorted(orphans):
        await discard(storage, key)
    return len(orphans)
