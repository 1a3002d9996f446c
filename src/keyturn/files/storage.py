"""Where uploaded bytes live: a local directory (default) or any S3-compatible bucket.

Both sit behind `Storage`. `create_app` builds the one the app uses and keeps it in
`app.state.file_storage`.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Annotated, Any, Protocol

from fastapi import Depends, Request

from keyturn.config import FileSettings, Settings

CHUNK = 64 * 1024
_KEY = re.compile(r"^[0-9a-f]{32}$")


class Storage(Protocol):
    async def put(self, key: str, source: Path) -> None:
        """Store the file at `source` under `key`; on failure leave nothing behind."""

    async def read(self, key: str) -> AsyncIterator[bytes]:
        """Open `key` now (FileNotFoundError if missing) and return its bytes in chunks."""

    async def delete(self, key: str) -> None:
        """Remove `key`; a missing key is not an error."""

    async def keys(self) -> list[tuple[str, datetime]]:
        """Every stored key with the time it was written (for the orphan sweep)."""

    async def ready(self) -> bool:
        """Can files be stored right now? (`/ready`; cheap, never raises.)"""


def _checked(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError("storage keys are 32 lowercase hex characters")
    return key


async def _chunks(fh: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(fh.read, CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(fh.close)


class LocalStorage:
    """Files under `root/ab/abcdef...`; written to a `.part` file and renamed when complete."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        key = _checked(key)
        return self.root / key[:2] / key

    async def put(self, key: str, source: Path) -> None:
        await asyncio.to_thread(self._put, self.path(key), source)

    @staticmethod
    def _put(target: Path, source: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        try:
            with source.open("rb") as src, partial.open("wb") as dst:
                while chunk := src.read(CHUNK):
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    async def read(self, key: str) -> AsyncIterator[bytes]:
        fh = await asyncio.to_thread(self.path(key).open, "rb")
        return _chunks(fh)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)

    async def keys(self) -> list[tuple[str, datetime]]:
        return await asyncio.to_thread(self._keys)

    def _keys(self) -> list[tuple[str, datetime]]:
        return [
            (path.name, datetime.fromtimestamp(path.stat().st_mtime, UTC))
            for path in self.root.glob("??/*")
            if _KEY.match(path.name)
        ]

    async def ready(self) -> bool:
        return await asyncio.to_thread(self._writable)

    def _writable(self) -> bool:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError:
            return False
        return os.access(self.root, os.W_OK | os.X_OK)


class S3Storage:
    """Objects `files/<key>` in one bucket, through boto3 in worker threads.

    A single PUT is all-or-nothing in S3, so a failed upload leaves no partial object."""

    def __init__(self, settings: Settings) -> None:
        files = settings.files
        assert files.s3_bucket is not None
        self.bucket = files.s3_bucket
        self.client: Any = _s3_client(files, connect=5, read=30, attempts=3)
        # `/ready` asks with its own client: a short timeout and no retries, so a probe never
        # keeps a worker thread (needed by uploads and password hashing) for long.
        self.probe: Any = _s3_client(files, connect=2, read=2, attempts=1)

    @staticmethod
    def object_key(key: str) -> str:
        return f"files/{_checked(key)}"

    async def put(self, key: str, source: Path) -> None:
        await asyncio.to_thread(self._put, self.object_key(key), source)

    def _put(self, object_key: str, source: Path) -> None:
        with source.open("rb") as body:
            self.client.put_object(
                Bucket=self.bucket,
                Key=object_key,
                Body=body,
                ContentLength=source.stat().st_size,
                ContentType="application/octet-stream",
            )

    async def read(self, key: str) -> AsyncIterator[bytes]:
        try:
            answer = await asyncio.to_thread(
                self.client.get_object, Bucket=self.bucket, Key=self.object_key(key)
            )
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(key) from None
        return _chunks(answer["Body"])

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(
            self.client.delete_object, Bucket=self.bucket, Key=self.object_key(key)
        )

    async def keys(self) -> list[tuple[str, datetime]]:
        return await asyncio.to_thread(self._keys)

    def _keys(self) -> list[tuple[str, datetime]]:
        found = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix="files/"
        )
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"].removeprefix("files/")
                if _KEY.match(key):
                    found.append((key, item["LastModified"]))
        return found

    async def ready(self) -> bool:
        try:
            await asyncio.to_thread(self.probe.head_bucket, Bucket=self.bucket)
        except Exception:
            return False
        return True


def _s3_client(files: FileSettings, *, connect: float, read: float, attempts: int) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=files.s3_endpoint_url,
        aws_access_key_id=files.s3_access_key,
        aws_secret_access_key=files.s3_secret_key,
        region_name=files.s3_region,
        config=Config(
            s3={"addressing_style": "path"},
            connect_timeout=connect,
            read_timeout=read,
            retries={"max_attempts": attempts, "mode": "standard"},
        ),
    )


def make_storage(settings: Settings) -> Storage:
    if settings.files.backend == "s3":
        return S3Storage(settings)
    return LocalStorage(settings.files.local_dir or settings.data_dir / "files")


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.file_storage
    return storage


StorageDep = Annotated[Storage, Depends(get_storage)]
