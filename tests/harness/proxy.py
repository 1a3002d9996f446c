"""HAProxy from Debian in front of keyturn instances, on 127.0.0.1 (scripts/setup --test
installs it): round robin, health checks, `X-Forwarded-For` added, connection failures
redispatched to another instance."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.harness.postgres import free_port

# Debian puts it in /usr/sbin, which is not on a normal user's PATH.
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"

CONFIG = """global
    maxconn 512
defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch
    option forwardfor
frontend keyturn
    bind 127.0.0.1:{port}
    default_backend instances
backend instances
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
{servers}
"""


class Proxy:
    def __init__(self, directory: Path, backends: list[int]) -> None:
        self.port = free_port()
        self.config = directory / "haproxy.cfg"
        servers = "\n".join(
            f"    server i{n} 127.0.0.1:{p} check inter 200ms fall 1 rise 2"
            for n, p in enumerate(backends)
        )
        directory.mkdir(parents=True, exist_ok=True)
        self.config.write_text(CONFIG.format(port=self.port, servers=servers))
        self.log = directory / "haproxy.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return Path(HAPROXY).exists()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Proxy:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [HAPROXY, "-db", "-f", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"haproxy exited: {self.log.read_text()[-2000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise RuntimeError("haproxy did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
