"""A software WebAuthn authenticator: real attestation ("none") and assertion objects, signed
with ES256 keys from `cryptography`, in the JSON a browser's `PublicKeyCredential.toJSON()`
sends. It holds discoverable credentials like a phone or a security key would.

Every knob a test needs to misbehave is an argument: another origin or RP id, user
verification off, a chosen counter, a synced (backup-eligible) credential.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    user_name: str
    sign_count: int = 0
    backup_eligible: bool = False

    @property
    def credential_id_b64(self) -> str:
        return b64url(self.credential_id)

    @property
    def user_handle_b64(self) -> str:
        return b64url(self.user_handle)


@dataclass
class SoftAuthenticator:
    origin: str = "http://localhost:8000"
    aaguid: bytes = bytes(16)
    # Counters start here and go up by one per use (0 and never moving: a synced passkey).
    counter_step: int = 1
    backup_eligible: bool = False
    credentials: list[Credential] = field(default_factory=list)

    # Registration -----------------------------------------------------------------------------

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        user_verified: bool = True,
        challenge: str | None = None,
        reuse: Credential | None = None,
    ) -> dict[str, Any]:
        """Answer `navigator.credentials.create()` options with a new discoverable credential
        (or attest an existing one again: `reuse`)."""
        rp = rp_id or options["rp"].get("id")
        credential = reuse or Credential(
            credential_id=os.urandom(32),
            private_key=ec.generate_private_key(ec.SECP256R1()),
            rp_id=rp,
            user_handle=unb64url(options["user"]["id"]),
            user_name=options["user"]["name"],
            sign_count=0,
            backup_eligible=self.backup_eligible,
        )
        key = credential.private_key
        client_data = self._client_data(
            "webauthn.create", challenge or options["challenge"], origin
        )
        flags = UP | AT | (UV if user_verified else 0) | self._backup_flags(credential)
        attested = (
            self.aaguid
            + struct.pack(">H", len(credential.credential_id))
            + credential.credential_id
            + cbor2.dumps(_cose_key(key))
        )
        auth_data = _rp_hash(rp) + bytes([flags]) + struct.pack(">I", 0) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        if reuse is None:
            self.credentials.append(credential)
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"],
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {"credProps": {"rk": True}},
        }

    # Authentication ---------------------------------------------------------------------------

    def get(
        self,
        options: dict[str, Any],
        *,
        credential: Credential | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        user_verified: bool = True,
        sign_count: int | None = None,
        user_handle: bytes | None = None,
        challenge: str | None = None,
        cross_origin: bool = False,
    ) -> dict[str, Any]:
        """Answer `navigator.credentials.get()` options with an assertion (the newest
        credential for the RP unless one is given)."""
        rp = rp_id or options.get("rpId")
        if credential is None:
            allowed = {c["id"] for c in options.get("allowCredentials") or []}
            candidates = [
                c for c in self.credentials if not allowed or b64url(c.credential_id) in allowed
            ]
            credential = candidates[-1]
        if sign_count is None:
            credential.sign_count += self.counter_step if not credential.backup_eligible else 0
            sign_count = credential.sign_count
        client_data = self._client_data(
            "webauthn.get", challenge or options["challenge"], origin, cross_origin
        )
        flags = UP | (UV if user_verified else 0) | self._backup_flags(credential)
        auth_data = _rp_hash(rp) + bytes([flags]) + struct.pack(">I", sign_count)
        signature = credential.private_key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        handle = credential.user_handle if user_handle is None else user_handle
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(handle),
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        }

    # -------------------------------------------------------------------------------------------

    def _client_data(
        self, kind: str, challenge: str, origin: str | None, cross_origin: bool = False
    ) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin}
        return json.dumps({**data, "crossOrigin": cross_origin}, separators=(",", ":")).encode()

    def _backup_flags(self, credential: Credential) -> int:
        return (BE | BS) if credential.backup_eligible else 0


def _rp_hash(rp_id: str) -> bytes:
    return hashlib.sha256(rp_id.encode()).digest()


def _cose_key(key: ec.EllipticCurvePrivateKey) -> dict[int, Any]:
    numbers = key.public_key().public_numbers()
    return {
        1: 2,  # kty: EC2
        3: -7,  # alg: ES256
        -1: 1,  # crv: P-256
        -2: numbers.x.to_bytes(32, "big"),
        -3: numbers.y.to_bytes(32, "big"),
    }
