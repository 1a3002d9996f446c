"""Reads a multipart upload from the request stream into a spool file, counting as it goes.

Nothing is buffered whole: the body is parsed chunk by chunk (python-multipart's streaming
parser), the file part is hashed and written to disk as it arrives, and reading stops at the
first byte past the limit. A `Content-Length` that is already too large is refused unread.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from keyturn.errors import AppError, BadRequest, Invalid

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FIELD = "file"
# Room for the multipart framing and part headers around the file's own bytes.
FRAMING_ALLOWANCE = 64 * 1024


class UploadTooLarge(AppError):
    """The file (or the whole request body) is larger than the upload limit."""

    status, code, title = 413, "files.too_large", "File too large"


class NotMultipart(AppError):
    """The request body is not `multipart/form-data`."""

    status, code, title = 415, "files.not_multipart", "Send multipart/form-data"


class BadMultipart(BadRequest):
    """The multipart body is malformed or ends early."""

    code = "files.bad_multipart"


class MissingFile(Invalid):
    """No `file` part in the body."""

    code = "files.missing_file"


class EmptyFile(Invalid):
    """The `file` part has no bytes."""

    code = "files.empty"


@dataclass
class ReceivedFile:
    path: Path
    filename: str
    size: int
    sha256: str


@dataclass
class _Parts:
    """python-multipart callbacks: collects the first `file` part, skips everything else."""

    max_size: int
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    in_file: bool = False
    seen_file: bool = False
    complete: bool = False
    filename: str = ""
    size: int = 0
    too_large: bool = False
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    pending: list[bytes] = field(default_factory=list)

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self.headers.clear()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers.append((bytes(self.header_field).lower(), bytes(self.header_value)))
        self.header_field.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        disposition = dict(self.headers).get(b"content-disposition", b"")
        _, params = parse_options_header(disposition)
        is_file = params.get(b"name") == FIELD.encode() and b"filename" in params
        self.in_file = is_file and not self.seen_file
        if self.in_file:
            self.seen_file = True
            self.filename = clean_filename(params[b"filename"].decode("utf-8", "replace"))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self.in_file or self.too_large:
            return
        piece = data[start:end]
        self.size += len(piece)
        if self.size > self.max_size:
            self.too_large = True
            return
        self.digest.update(piece)
        self.pending.append(piece)

    def on_part_end(self) -> None:
        if self.in_file:
            self.complete = True
        self.in_file = False


def clean_filename(name: str) -> str:
    """The last path segment, without control characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[-255:] or "file"


def _boundary(content_type: str | None) -> bytes:
    kind, params = parse_options_header(content_type or "")
    if kind != b"multipart/form-data":
        raise NotMultipart("Upload the file as multipart/form-data in a field named `file`.")
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise BadMultipart("The multipart Content-Type has no valid boundary.")
    return boundary


def _check_length(content_length: str | None, limit: int, max_size: int) -> None:
    if content_length is None:
        return
    try:
        declared = int(content_length)
    except ValueError:
        raise BadMultipart("Content-Length is not a number.") from None
    if declared > limit:
        raise UploadTooLarge(f"Files may be at most {max_size} bytes.", max_size=max_size)


async def receive_upload(
    stream: AsyncIterator[bytes],
    *,
    content_type: str | None,
    content_length: str | None,
    max_size: int,
    spool_dir: Path,
) -> ReceivedFile:
    """Spool the `file` part to a temporary file; the caller deletes `path` when done."""
    boundary = _boundary(content_type)
    body_limit = max_size + FRAMING_ALLOWANCE
    _check_length(content_length, body_limit, max_size)
    parts = _Parts(max_size=max_size)
    parser = MultipartParser(boundary, callbacks=parts.callbacks())
    spool_path, spool = await asyncio.to_thread(_open_spool, spool_dir)
    try:
        read = 0
        async for chunk in stream:
            read += len(chunk)
            if read > body_limit:
                raise UploadTooLarge(f"Files may be at most {max_size} bytes.", max_size=max_size)
            try:
                parser.write(chunk)
            except FormParserError:
                raise BadMultipart("The multipart body is malformed.") from None
            if parts.too_large:
                raise UploadTooLarge(f"Files may be at most {max_size} bytes.", max_size=max_size)
            if parts.pending:
                await asyncio.to_thread(spool.write, b"".join(parts.pending))
                parts.pending.clear()
        await asyncio.to_thread(spool.close)
        _check_complete(parts)
    except BaseException:
        _drop_spool(spool_path, spool)
        raise
    return ReceivedFile(
        path=spool_path,
        filename=parts.filename,
        size=parts.size,
        sha256=parts.digest.hexdigest(),
    )


def _check_complete(parts: _Parts) -> None:
    if not parts.seen_file:
        raise MissingFile("Send the file in a multipart field named `file`.")
    if not parts.complete:
        raise BadMultipart("The multipart body ended before the file did.")
    if parts.size == 0:
        raise EmptyFile("The file is empty.")


def _open_spool(spool_dir: Path) -> tuple[Path, IO[bytes]]:
    spool_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="upload-", dir=spool_dir)
    return Path(name), os.fdopen(fd, "wb")


def _drop_spool(path: Path, fh: IO[bytes]) -> None:
    fh.close()
    path.unlink(missing_ok=True)
