"""The upload limit against the real `keyturn serve` process over TCP: an oversized body is
refused without the server's memory growing by its size."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import auth, sign_in, upload
from tests.harness.server import LiveServer

MiB = 1024 * 1024


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path / "live").start()
    yield server
    server.stop()


@pytest.mark.slow
async def test_twenty_mib_upload_is_refused_without_the_server_holding_it(
    live: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
        token = (await sign_in(client))["access_token"]
        assert (await upload(client, token)).status_code == 201  # warm every code path
        live.reset_peak_memory()
        before = live.memory("VmRSS")

        async def body() -> AsyncIterator[bytes]:
            yield b'--bb\r\nContent-Disposition: form-data; name="file"; filename="x.pdf"\r\n\r\n'
            for _ in range(20 * 16):
                yield b"%PDF-" + b"a" * (64 * 1024 - 5)
            yield b"\r\n--bb--\r\n"

        r = await client.post(
            "/api/v1/files",
            content=body(),
            headers={**auth(token), "Content-Type": "multipart/form-data; boundary=bb"},
        )
        assert r.status_code == 413 and r.json()["code"] == "files.too_large"
        grew = live.memory("VmHWM") - before
        assert grew < 8 * MiB, f"peak memory grew by {grew} bytes"

        usage = (await client.get("/api/v1/usage", headers=auth(token))).json()
        assert usage["counters"][0]["used"] == 1
    assert not list((live.data_dir / "tmp").glob("*"))
