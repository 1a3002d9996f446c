"""A real SMTP server (aiosmtpd) on a free local port, optionally with STARTTLS or implicit
TLS (self-signed certificate for 127.0.0.1) and AUTH, that keeps what it receives."""

from __future__ import annotations

import asyncio
import datetime
import email
import ipaddress
import ssl
import time
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.harness.postgres import free_port


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class SmtpServer:
    """`security`: none | starttls | tls. With `login`, AUTH is required (after TLS)."""

    def __init__(
        self, directory: Path, security: str = "none", login: tuple[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.security = security
        self.login = login
        self.inbox = _Inbox()
        self.ca_file: Path | None = None
        kwargs: dict[str, Any] = {}
        if security != "none":
            self.ca_file, key_file = self_signed_cert(directory)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.ca_file, key_file)
            if security == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                # aiosmtpd only counts STARTTLS as TLS; the implicit-TLS socket is encrypted.
                kwargs.update(ssl_context=context, auth_require_tls=False)
        if login:
            kwargs.update(authenticator=self._authenticate, auth_required=True)
        self.controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, server_hostname="127.0.0.1", **kwargs
        )

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.login is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.login
        )
        return AuthResult(success=ok)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def settings(self) -> dict[str, Any]:
        """`email` settings that send through this server."""
        values: dict[str, Any] = {
            "provider": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_security": self.security,
            "smtp_timeout": 5,
            "smtp_ca_file": self.ca_file,
        }
        if self.login:
            values.update(smtp_username=self.login[0], smtp_password=self.login[1])
        return values

    async def wait_for(self, count: int = 1, timeout: float = 5) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.inbox.messages) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.inbox.messages
