"""Uploading: the 10-file quota done atomically, limits enforced while streaming, types by
content, and a failed storage write that leaves nothing behind. Both databases, both backends."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from keyturn.app import create_app
from keyturn.config import Settings
from keyturn.files.storage import Storage, make_storage
from tests.conftest import http_client
from tests.factories import auth, sign_in, upload
from tests.files import samples
from tests.problems import assert_problem

MiB = 1024 * 1024
# Checks that never reach the storage backend run on the local one only (see conftest).
LOCAL_ONLY = pytest.mark.parametrize("storage_kind", ["local"])
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def usage_of(client: httpx.AsyncClient, token: str, name: str = "uploads") -> dict:
    r = await client.get("/api/v1/usage", headers=auth(token))
    assert r.status_code == 200, r.text
    return next(c for c in r.json()["counters"] if c["name"] == name)


async def file_count(client: httpx.AsyncClient, token: str) -> int:
    r = await client.get("/api/v1/files", params={"limit": 100}, headers=auth(token))
    assert r.status_code == 200, r.text
    return len(r.json()["items"])


async def test_upload_returns_the_metadata_with_the_content_hash(
    client: httpx.AsyncClient,
) -> None:
    token = (await sign_in(client))["access_token"]
    r = await upload(client, token, samples.PDF, "../../etc/CV 2026.pdf")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["filename"] == "CV 2026.pdf"
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(samples.PDF)
    assert body["sha256"] == hashlib.sha256(samples.PDF).hexdigest()
    assert {"id", "created_at"} <= body.keys()


@LOCAL_ONLY
@pytest.mark.parametrize(
    ("content", "filename", "declared", "detected"),
    [
        (samples.PDF, "cv.pdf", "application/pdf", "application/pdf"),
        (samples.DOCX, "cv.docx", "application/octet-stream", DOCX_TYPE),
        (samples.TEXT, "cv.txt", "text/plain", "text/plain"),
        (samples.TEXT, "cv", "application/pdf", "text/plain"),
        (samples.PNG, "me.png", "image/png", "image/png"),
        (samples.JPEG, "me.jpeg", "image/jpeg", "image/jpeg"),
    ],
)
async def test_allowed_types_are_recognised_by_their_content(
    client: httpx.AsyncClient, content: bytes, filename: str, declared: str, detected: str
) -> None:
    token = (await sign_in(client))["access_token"]
    r = await upload(client, token, content, filename, declared)
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == detected


@LOCAL_ONLY
@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (samples.ELF, "resume.pdf"),
        (samples.HTML, "resume.pdf"),
        (samples.HTML, "photo.png"),
        (samples.PLAIN_ZIP, "resume.docx"),
        (samples.TEXT, "resume.pdf"),
        (samples.PDF, "resume.png"),
        (b"\x00\x01\x02binary\xff", "data.bin"),
    ],
)
async def test_disguised_or_unsupported_content_is_refused_with_415(
    client: httpx.AsyncClient,
    stored_objects: Callable[[], list[str]],
    content: bytes,
    filename: str,
) -> None:
    token = (await sign_in(client))["access_token"]
    r = await upload(client, token, content, filename, "application/pdf")
    assert_problem(r, 415, "files.unsupported_type")
    assert (await usage_of(client, token))["used"] == 0
    assert await file_count(client, token) == 0
    assert stored_objects() == []


async def test_eleventh_upload_is_refused_with_the_counter_in_the_body(
    client: httpx.AsyncClient, stored_objects: Callable[[], list[str]]
) -> None:
    token = (await sign_in(client))["access_token"]
    for i in range(10):
        r = await upload(client, token, samples.PDF, f"cv-{i}.pdf")
        assert r.status_code == 201, r.text

    refused = await upload(client, token, samples.PDF, "cv-11.pdf")
    body = assert_problem(refused, 429, "usage.quota_exceeded")
    assert body["counter"] == {
        "name": "uploads",
        "used": 10,
        "limit": 10,
        "remaining": 0,
        "resets_at": None,
    }
    assert int(refused.headers["retry-after"]) > 0

    usage = await client.get("/api/v1/usage", headers=auth(token))
    assert {"name": "uploads", "used": 10, "limit": 10, "remaining": 0, "resets_at": None} in (
        usage.json()["counters"]
    )
    assert await file_count(client, token) == 10
    assert len(stored_objects()) == 10


async def test_twenty_parallel_uploads_with_one_unit_left_accept_exactly_one(
    client: httpx.AsyncClient, stored_objects: Callable[[], list[str]]
) -> None:
    token = (await sign_in(client))["access_token"]
    r = await client.post("/api/v1/usage/uploads/consume", json={"amount": 9}, headers=auth(token))
    assert r.status_code == 200 and r.json()["used"] == 9

    answers = await asyncio.gather(
        *(upload(client, token, samples.PDF, f"cv-{i}.pdf") for i in range(20))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [429] * 19, [a.text for a in answers if a.status_code >= 500]
    assert (await usage_of(client, token))["used"] == 10
    assert await file_count(client, token) == 1
    assert len(stored_objects()) == 1


class WriteThenFail:
    """A backend whose write lands (fully) and then reports failure, like a lost ack."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner

    async def put(self, key: str, source: Path) -> None:
        await self.inner.put(key, source)
        raise OSError("disk full at /srv/secret/path")

    async def read(self, key: str) -> AsyncIterator[bytes]:
        return await self.inner.read(key)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)


async def test_failed_storage_write_gives_the_unit_back_and_leaves_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    stored_objects: Callable[[], list[str]],
) -> None:
    app.state.file_storage = WriteThenFail(make_storage(settings))
    token = (await sign_in(client))["access_token"]
    await upload(client, token)  # a first upload fails too; the counter row now exists

    r = await upload(client, token)
    body = assert_problem(r, 503, "files.storage_unavailable")
    assert "disk full" not in r.text and "Traceback" not in r.text and "/srv" not in r.text
    assert "nothing was charged" in body["detail"]
    assert (await usage_of(client, token))["used"] == 0
    assert await file_count(client, token) == 0
    assert stored_objects() == []


def multipart_stream(
    size: int, sent: list[int], chunk: int = 64 * 1024
) -> tuple[str, AsyncIterator[bytes]]:
    """A `file` part of `size` bytes, produced lazily; `sent[0]` counts what was pulled."""
    boundary = "keyturn-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    async def body() -> AsyncIterator[bytes]:
        sent[0] += len(head)
        yield head
        remaining = size - 5
        while remaining > 0:
            piece = b"a" * min(chunk, remaining)
            remaining -= len(piece)
            sent[0] += len(piece)
            yield piece
        sent[0] += len(tail)
        yield tail

    return f"multipart/form-data; boundary={boundary}", body()


async def test_twenty_mib_upload_is_refused_after_reading_little_more_than_the_limit(
    client: httpx.AsyncClient, stored_objects: Callable[[], list[str]]
) -> None:
    token = (await sign_in(client))["access_token"]
    sent = [0]
    content_type, body = multipart_stream(20 * MiB, sent)
    r = await client.post(
        "/api/v1/files", content=body, headers={**auth(token), "Content-Type": content_type}
    )
    problem = assert_problem(r, 413, "files.too_large")
    assert problem["max_size"] == 10 * MiB
    # The server stopped pulling the body within one chunk of the limit plus framing.
    assert 10 * MiB < sent[0] <= 10 * MiB + 2 * 64 * 1024
    assert (await usage_of(client, token))["used"] == 0
    assert stored_objects() == []


@LOCAL_ONLY
async def test_declared_oversized_body_is_refused_before_reading_any_of_it(
    client: httpx.AsyncClient,
) -> None:
    token = (await sign_in(client))["access_token"]
    sent = [0]
    content_type, body = multipart_stream(20 * MiB, sent)
    r = await client.post(
        "/api/v1/files",
        content=body,
        headers={
            **auth(token),
            "Content-Type": content_type,
            "Content-Length": str(20 * MiB + 200),
        },
    )
    assert_problem(r, 413, "files.too_large")
    assert sent[0] == 0


@LOCAL_ONLY
async def test_a_file_of_exactly_the_limit_is_accepted_and_one_byte_more_is_not(
    settings: Settings,
) -> None:
    small = settings.model_copy(
        update={"files": settings.files.model_copy(update={"max_size": 1000})}
    )
    app = create_app(small)
    try:
        async with http_client(app) as client:
            token = (await sign_in(client))["access_token"]
            exact = await upload(client, token, b"x" * 1000, "a.txt", "text/plain")
            assert exact.status_code == 201 and exact.json()["size"] == 1000
            over = await upload(client, token, b"x" * 1001, "b.txt", "text/plain")
            assert_problem(over, 413, "files.too_large")
            assert (await usage_of(client, token))["used"] == 1
    finally:
        await app.state.databases.dispose()


BOUNDARY = "b0undary"


def raw(parts: str) -> bytes:
    return parts.replace("\n", "\r\n").encode()


@LOCAL_ONLY
@pytest.mark.parametrize(
    ("content_type", "body", "status", "code"),
    [
        (
            f"multipart/form-data; boundary={BOUNDARY}",
            raw(
                f'--{BOUNDARY}\nContent-Disposition: form-data; name="note"\n\nhello\n'
                f"--{BOUNDARY}--\n"
            ),
            422,
            "files.missing_file",
        ),
        (
            f"multipart/form-data; boundary={BOUNDARY}",
            raw(
                f'--{BOUNDARY}\nContent-Disposition: form-data; name="file"; '
                f'filename="a.pdf"\n\n\n--{BOUNDARY}--\n'
            ),
            422,
            "files.empty",
        ),
        (
            f"multipart/form-data; boundary={BOUNDARY}",
            raw(
                f'--{BOUNDARY}\nContent-Disposition: form-data; name="file"; '
                f'filename="a.pdf"\n\n%PDF-1.4 and then the connection drops'
            ),
            400,
            "files.bad_multipart",
        ),
        (
            f"multipart/form-data; boundary={BOUNDARY}",
            b"not multipart at all",
            400,
            "files.bad_multipart",
        ),
        ("multipart/form-data", b"", 400, "files.bad_multipart"),
        ("application/json", b'{"file": "JVBERi0="}', 415, "files.not_multipart"),
        (None, b"", 415, "files.not_multipart"),
    ],
    ids=["no-file-field", "empty-file", "truncated", "garbage", "no-boundary", "json", "none"],
)
async def test_bad_upload_requests_are_4xx_problems_and_change_nothing(
    client: httpx.AsyncClient,
    stored_objects: Callable[[], list[str]],
    content_type: str | None,
    body: bytes,
    status: int,
    code: str,
) -> None:
    token = (await sign_in(client))["access_token"]
    headers = auth(token)
    if content_type:
        headers["Content-Type"] = content_type
    r = await client.post("/api/v1/files", content=body, headers=headers)
    assert_problem(r, status, code)
    assert (await usage_of(client, token))["used"] == 0
    assert await file_count(client, token) == 0
    assert stored_objects() == []


@LOCAL_ONLY
async def test_upload_needs_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/files", files={"file": ("a.pdf", samples.PDF)})
    assert_problem(r, 401, "auth.unauthorized")
