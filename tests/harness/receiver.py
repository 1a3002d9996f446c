"""A webhook receiver on 127.0.0.1, in a thread, that verifies every request with the
`standardwebhooks` package as a real receiver would, and can be told to fail or to hang."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Received:
    msg_id: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    event: dict[str, Any] | None
    at: float

    @property
    def type(self) -> str | None:
        return self.event["type"] if self.event else None


class Receiver:
    """`mode`: "ok" (204), "down" (503), "redirect" (302 to itself), "hang" (answers only
    after `release()`). `secrets`: the endpoint secrets it verifies with."""

    def __init__(self) -> None:
        self.secrets: list[str] = []
        self.mode = "ok"
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver._record(dict(self.headers.items()), body)
                mode = receiver.mode
                if mode == "hang":
                    receiver._released.wait(60)
                status = {"ok": 204, "down": 503, "redirect": 302, "hang": 200}[mode]
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _record(self, headers: dict[str, str], body: bytes) -> None:
        event = None
        for secret in self.secrets:
            try:
                event = Webhook(secret).verify(body, headers)
                break
            except WebhookVerificationError:
                continue
        lowered = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            self.received.append(
                Received(
                    msg_id=lowered.get("webhook-id", ""),
                    headers=lowered,
                    body=body,
                    verified=event is not None,
                    event=event,
                    at=time.monotonic(),
                )
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def release(self) -> None:
        self._released.set()

    def stop(self) -> None:
        self._released.set()
        self.server.shutdown()
        self.server.server_close()

    def by_type(self) -> dict[str, list[Received]]:
        found: dict[str, list[Received]] = {}
        for r in list(self.received):
            found.setdefault(r.type or "?", []).append(r)
        return found

    def payloads(self, type_: str) -> list[dict[str, Any]]:
        return [json.loads(r.body)["data"] for r in self.received if r.type == type_]
