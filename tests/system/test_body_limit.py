"""Request bodies outside the upload route are capped (64 KiB by default): a larger one is a
413 problem before it is read into memory, whether it declares its length or is chunked.

The attack (issue 10, item 4): 200 MB sent to `send-verification` took the server's memory
from 186 to 808 MB.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from keyturn.config import Settings
from tests.conftest import http_client
from tests.factories import PDF_BYTES, auth, new_phone, sign_in, upload
from tests.harness.server import LiveServer
from tests.problems import assert_problem

KiB = 1024
MiB = 1024 * KiB
SEND = "/api/v1/auth/send-verification"


def padded(phone: str, size: int) -> bytes:
    """A valid send-verification body of exactly `size` bytes (JSON allows the spaces)."""
    body = json.dumps({"phone": phone}).encode()
    return body + b" " * (size - len(body))


async def chunked(data: bytes, piece: int = 16 * KiB) -> AsyncIterator[bytes]:
    for start in range(0, len(data), piece):
        yield data[start : start + piece]


async def outbox_size(client: httpx.AsyncClient, phone: str) -> int:
    r = await client.get("/api/v1/dev/outbox", params={"to": phone}, headers={"X-Market": "us"})
    return len(r.json()["items"])


async def test_a_body_of_exactly_the_cap_is_read(client: httpx.AsyncClient) -> None:
    phone = new_phone()
    r = await client.post(
        SEND,
        content=padded(phone, 64 * KiB),
        headers={"Content-Type": "application/json", "X-Market": "us"},
    )
    assert r.status_code == 200, r.text
    assert await outbox_size(client, phone) == 1


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_body_past_the_cap_is_a_413_problem_and_changes_nothing(
    client: httpx.AsyncClient, framing: str
) -> None:
    phone = new_phone()
    data = padded(phone, 64 * KiB + 1)
    r = await client.post(
        SEND,
        content=data if framing == "content-length" else chunked(data),
        headers={"Content-Type": "application/json", "X-Market": "us"},
    )
    body = assert_problem(r, 413, "request.too_large")
    assert body["max_size"] == 64 * KiB
    assert await outbox_size(client, phone) == 0


async def test_the_cap_is_a_setting(make_settings: Callable[..., Settings]) -> None:
    from keyturn.app import create_app

    app = create_app(make_settings(max_body_size=4 * KiB))
    try:
        async with http_client(app) as client:
            r = await client.post(
                SEND,
                content=padded(new_phone(), 5 * KiB),
                headers={"Content-Type": "application/json", "X-Market": "us"},
            )
            assert assert_problem(r, 413, "request.too_large")["max_size"] == 4 * KiB
    finally:
        await app.state.databases.dispose()


async def test_uploads_keep_their_own_larger_limit(client: httpx.AsyncClient) -> None:
    token = (await sign_in(client))["access_token"]
    big_pdf = PDF_BYTES + b"%" + b"a" * (512 * KiB)
    r = await upload(client, token, big_pdf, "big.pdf")
    assert r.status_code == 201, r.text
    assert r.json()["size"] == len(big_pdf)
    listed = await client.get("/api/v1/files", headers=auth(token))
    assert len(listed.json()["items"]) == 1


@pytest.mark.slow
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_huge_body_does_not_grow_the_live_servers_memory(
    start_live_server: Callable[..., LiveServer], framing: str
) -> None:
    server = start_live_server()
    async with httpx.AsyncClient(
        base_url=server.url, headers={"X-Market": "us"}, timeout=60
    ) as http:
        await sign_in(http)  # warm every code path of the route
        server.reset_peak_memory()
        before = server.memory("VmRSS")
        huge = padded(new_phone(), 200 * MiB)
        r = await http.post(
            SEND,
            content=huge if framing == "content-length" else chunked(huge, MiB),
            headers={"Content-Type": "application/json"},
        )
        grew = server.memory("VmHWM") - before
        print(f"\n{framing}: 200 MiB body -> {r.status_code}; peak RSS grew {grew / MiB:.1f} MiB")
        assert_problem(r, 413, "request.too_large")
        assert grew < 8 * MiB, f"peak memory grew by {grew} bytes"
        assert (await http.get("/health")).status_code == 200
