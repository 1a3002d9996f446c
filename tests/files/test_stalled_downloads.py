"""A download nobody reads must not take its market down: the real server, several clients
that ask for a large file and read nothing, and the rest of the market still answers.

The attack (issue 10, item 1): the request kept its database transaction while the body
streamed, so on SQLite (one connection, `BEGIN IMMEDIATE`) one stalled download made every
other request wait, and on PostgreSQL a few dozen exhausted the pool.
"""

from __future__ import annotations

import asyncio
import select
import socket
import time
from collections.abc import Callable

import httpx
import pytest

from tests.factories import auth, sign_in, upload
from tests.harness.server import LiveServer

pytestmark = pytest.mark.slow

# Larger than what the kernel buffers on both ends, so the server's send blocks.
BIG = 9 * 1024 * 1024
# On PostgreSQL more stalls than the pool has connections (10 + 20 overflow).
STALLED = {"sqlite": 3, "postgres": 36}


def stalled_download(server: LiveServer, file_id: int, token: str) -> socket.socket:
    """Ask for the file over a socket with a tiny receive buffer, and read nothing."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(
        f"GET /api/v1/files/{file_id}/content HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\n\r\n".encode()
    )
    return sock


async def timed(http: httpx.AsyncClient, path: str, **kwargs: object) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        r = await http.get(path, **kwargs)  # type: ignore[arg-type]
    except httpx.TimeoutException:
        return 0, time.perf_counter() - started
    return r.status_code, time.perf_counter() - started


async def test_stalled_downloads_leave_the_market_answering(
    start_live_server: Callable[..., LiveServer], backend: str
) -> None:
    server = start_live_server()
    async with httpx.AsyncClient(
        base_url=server.url, headers={"X-Market": "us"}, timeout=3
    ) as http:
        owner = (await sign_in(http))["access_token"]
        big = await upload(
            http, owner, b"stalled download\n" * (BIG // 17), "big.txt", "text/plain"
        )
        assert big.status_code == 201, big.text
        file_id = big.json()["id"]
        other = (await sign_in(http))["access_token"]

        sockets = [stalled_download(server, file_id, owner) for _ in range(STALLED[backend])]
        try:
            # Every stalled response has started (its headers are waiting, unread).
            deadline = time.monotonic() + 5
            waiting = list(sockets)
            while waiting and time.monotonic() < deadline:
                readable, _, _ = select.select(waiting, [], [], 0.2)
                waiting = [s for s in waiting if s not in readable]
            await asyncio.sleep(0.5)

            answers = {
                "products": await timed(http, "/api/v1/products"),
                "ready": await timed(http, "/ready"),
                "files": await timed(http, "/api/v1/files", headers=auth(other)),
                "cart": await timed(http, "/api/v1/cart", headers=auth(other)),
            }
            print(f"\n{backend}: {len(sockets)} stalled downloads; answers {answers}")
            assert not waiting, f"{len(waiting)} downloads never started"
            assert {name: status for name, (status, _) in answers.items()} == {
                "products": 200,
                "ready": 200,
                "files": 200,
                "cart": 200,
            }

            # A stalled download is only slow, not broken: read one to its end.
            first = sockets[0]
            first.settimeout(10)
            received = b""
            while chunk := first.recv(1 << 20):
                received += chunk
                if b"\r\n\r\n" in received:
                    _, body = received.split(b"\r\n\r\n", 1)
                    if len(body) >= len(b"stalled download\n") * (BIG // 17):
                        break
            assert received.startswith(b"HTTP/1.1 200")
        finally:
            for sock in sockets:
                sock.close()
