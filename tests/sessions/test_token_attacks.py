"""Forged, altered and misused access tokens all get 401 (or 403 across markets)."""

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.factories import auth, sign_in


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def sign_with_our_key(app, claims: dict[str, Any], **header: Any) -> str:
    kid, key = app.state.keyring.signing_key()
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid, **header})


async def status_with(client: httpx.AsyncClient, token: str, market: str = "us") -> int:
    r = await client.get("/api/v1/profile", headers=auth(token, market))
    if r.status_code == 401:
        assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    return r.status_code


@pytest.fixture
async def signed(client) -> dict[str, Any]:
    return await sign_in(client)


async def test_genuine_token_works(client, signed) -> None:
    assert await status_with(client, signed["access_token"]) == 200


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_alg_none_in_any_casing_is_rejected(client, signed, alg: str) -> None:
    token = signed["access_token"]
    header = jwt.get_unverified_header(token) | {"alg": alg}
    assert await status_with(client, unsigned(header, claims_of(token)) + ".") == 401


async def test_hs256_signed_with_our_public_key_is_rejected(app, client, signed) -> None:
    token = signed["access_token"]
    kid = jwt.get_unverified_header(token)["kid"]
    public = app.state.keyring.verification_key(kid)
    for secret in (
        public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    ):
        body = unsigned({"alg": "HS256", "typ": "JWT", "kid": kid}, claims_of(token))
        mac = hmac.new(secret, body.encode(), hashlib.sha256).digest()
        assert await status_with(client, f"{body}.{b64(mac)}") == 401


async def test_tampered_payload_is_rejected(client, signed) -> None:
    other = await sign_in(client)
    header_b64, _, signature = signed["access_token"].split(".")
    forged_claims = claims_of(signed["access_token"]) | {
        "sub": str(other["user"]["id"]),
        "role": "admin",
    }
    forged = f"{header_b64}.{b64(json.dumps(forged_claims).encode())}.{signature}"
    assert await status_with(client, forged) == 401


async def test_token_signed_by_a_stranger_key_is_rejected(client, signed) -> None:
    token = signed["access_token"]
    kid = jwt.get_unverified_header(token)["kid"]
    forged = jwt.encode(
        claims_of(token), Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid}
    )
    assert await status_with(client, forged) == 401


@pytest.mark.parametrize(
    "change",
    [
        {"exp": int(time.time()) - 60},
        {"nbf": int(time.time()) + 3600},
        {"iss": "someone-else"},
        {"aud": "another-service"},
    ],
    ids=["expired", "future-nbf", "wrong-iss", "wrong-aud"],
)
async def test_bad_time_or_audience_claims_are_rejected(app, client, signed, change) -> None:
    token = sign_with_our_key(app, claims_of(signed["access_token"]) | change)
    assert await status_with(client, token) == 401


@pytest.mark.parametrize("missing", ["sid", "sub", "mkt", "exp", "jti"])
async def test_tokens_missing_a_required_claim_are_rejected(app, client, signed, missing) -> None:
    claims = claims_of(signed["access_token"])
    del claims[missing]
    assert await status_with(client, sign_with_our_key(app, claims)) == 401


@pytest.mark.parametrize("kid", ["unknown-kid", "../../signing-keys.json", "' OR 1=1 --", ""])
async def test_unknown_or_injected_kid_is_rejected(app, client, signed, kid) -> None:
    _, key = app.state.keyring.signing_key()
    token = jwt.encode(
        claims_of(signed["access_token"]), key, algorithm="EdDSA", headers={"kid": kid}
    )
    assert await status_with(client, token) == 401


async def test_embedded_jwk_header_is_ignored(client, signed) -> None:
    attacker = Ed25519PrivateKey.generate()
    raw = attacker.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}
    token = jwt.encode(
        claims_of(signed["access_token"]),
        attacker,
        algorithm="EdDSA",
        headers={"kid": "attacker", "jwk": jwk},
    )
    assert await status_with(client, token) == 401


async def test_token_of_one_market_is_forbidden_in_another(client) -> None:
    kg = await sign_in(client, market="kg")
    r = await client.get("/api/v1/profile", headers=auth(kg["access_token"], "us"))
    assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    # Without X-Market the token's own market is used.
    assert (
        await client.get("/api/v1/profile", headers=auth(kg["access_token"]))
    ).status_code == 200


async def test_refresh_token_is_not_a_bearer_token(client, signed) -> None:
    assert await status_with(client, signed["refresh_token"]) == 401


@pytest.mark.parametrize("header", ["Bearer", "Basic dXNlcjpwYXNz", "Bearer a.b", "Token abc"])
async def test_malformed_authorization_headers_are_401(client, header) -> None:
    r = await client.get("/api/v1/profile", headers={"Authorization": header})
    assert r.status_code == 401
