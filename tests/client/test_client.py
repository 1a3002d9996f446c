"""keyturn.client: another service verifies our tokens against the real keyturn app
(reached through an ASGITransport, so every JWKS and introspection request is real HTTP)."""

import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, FastAPI

from keyturn.client import (
    InvalidToken,
    KeyturnUnavailable,
    KeyturnVerifier,
    TokenExpired,
    VerifiedToken,
)
from keyturn.sessions.keys import rotate
from tests.factories import auth, sign_in

JWKS = "/.well-known/jwks.json"
INTROSPECT = "/api/v1/auth/verify-token"


class CountingTransport(httpx.AsyncBaseTransport):
    """keyturn in-process; remembers the path of every request the verifier makes."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.paths: list[str] = []
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)

    def count(self, path: str) -> int:
        return self.paths.count(path)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def transport(app: FastAPI) -> CountingTransport:
    return CountingTransport(app)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def make_verifier(
    transport: CountingTransport, clock: Clock
) -> AsyncIterator[Callable[..., KeyturnVerifier]]:
    made: list[KeyturnVerifier] = []

    def make(**options: Any) -> KeyturnVerifier:
        verifier = KeyturnVerifier(
            "http://keyturn.test", transport=transport, clock=clock, **options
        )
        made.append(verifier)
        return verifier

    yield make
    for verifier in made:
        await verifier.aclose()


@pytest.fixture
def verifier(make_verifier: Callable[..., KeyturnVerifier]) -> KeyturnVerifier:
    return make_verifier()


def forge(app: FastAPI, *, drop: tuple[str, ...] = (), **changes: Any) -> str:
    """A token signed with keyturn's real signing key; `changes` alter its claims."""
    kid, key = app.state.keyring.signing_key()
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "keyturn",
        "aud": "keyturn",
        "sub": "42",
        "sid": "session-42",
        "mkt": "us",
        "role": "customer",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "jti-42",
        **changes,
    }
    for name in drop:
        del claims[name]
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})


async def test_signed_in_users_token_verifies_with_who_and_where(client, verifier) -> None:
    signed = await sign_in(client)

    user = await verifier.verify(signed["access_token"])

    claims = jwt.decode(signed["access_token"], options={"verify_signature": False})
    assert user.user_id == signed["user"]["id"]
    assert user.session_id == claims["sid"]
    assert (user.market, user.role) == ("us", "customer")
    assert user.claims["jti"] == claims["jti"]


async def test_tampered_token_is_refused(client, verifier) -> None:
    token = (await sign_in(client))["access_token"]
    header, payload, signature = token.split(".")
    other = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b'"sub":"', b'"sub":"1')
    ).decode()
    flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")

    for bad in (f"{header}.{other}.{signature}", f"{header}.{payload}.{flipped}"):
        with pytest.raises(InvalidToken):
            await verifier.verify(bad)
    assert (await verifier.verify(token)).session_id  # the original still verifies


@pytest.mark.parametrize(
    ("changes", "drop"),
    [
        ({"aud": "billing"}, ()),
        ({"aud": ["billing", "search"]}, ()),
        ({"iss": "someone-else"}, ()),
        ({"nbf": int(time.time()) + 3600}, ()),
        ({"sub": "not-a-number"}, ()),
        ({}, ("sid",)),
        ({}, ("mkt",)),
        ({}, ("sub",)),
        ({}, ("exp",)),
        ({}, ("role",)),
    ],
    ids=[
        "other-audience",
        "audience-list-without-us",
        "other-issuer",
        "not-yet-valid",
        "sub-not-a-user-id",
        "no-sid",
        "no-mkt",
        "no-sub",
        "no-exp",
        "no-role",
    ],
)
async def test_token_with_wrong_or_missing_claims_is_refused(
    app, verifier, changes: dict[str, Any], drop: tuple[str, ...]
) -> None:
    await verifier.verify(forge(app))  # the same key and claims, unchanged, are accepted

    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(forge(app, drop=drop, **changes))
    assert not isinstance(refused.value, KeyturnUnavailable)


async def test_expired_token_is_refused_as_expired(app, verifier) -> None:
    now = int(time.time())
    with pytest.raises(TokenExpired):
        await verifier.verify(forge(app, iat=now - 1000, nbf=now - 1000, exp=now - 60))


async def test_other_algorithms_are_refused_before_any_key_is_fetched(
    app, verifier, transport
) -> None:
    kid = app.state.keyring.signing_key()[0]
    genuine = forge(app)
    claims = jwt.decode(genuine, options={"verify_signature": False})
    public_key = jwt.utils.base64url_decode(app.state.keyring.jwks()["keys"][0]["x"])
    _, payload, signature = genuine.split(".")
    forged = [
        jwt.encode(claims, public_key, algorithm="HS256", headers={"kid": kid}),
        jwt.encode(claims, None, algorithm="none", headers={"kid": kid}),
        f"{_header({'alg': 'NONE', 'kid': kid})}.{payload}.",
        f"{_header({'alg': 'EdDSA', 'kid': kid, 'crit': ['exp'], 'exp': 1})}.{payload}.{signature}",
    ]

    for token in forged:
        with pytest.raises(InvalidToken):
            await verifier.verify(token)
    assert transport.paths == []


def _header(fields: dict[str, Any]) -> str:
    return jwt.utils.base64url_encode(json.dumps(fields).encode()).decode()


async def test_made_up_key_ids_cost_keyturn_one_jwks_request_per_30_seconds(
    app, verifier, transport, clock
) -> None:
    await verifier.verify(forge(app))
    stranger = Ed25519PrivateKey.generate()
    claims = jwt.decode(forge(app), options={"verify_signature": False})

    for n in range(5):
        token = jwt.encode(claims, stranger, algorithm="EdDSA", headers={"kid": f"made-up-{n}"})
        with pytest.raises(InvalidToken):
            await verifier.verify(token)
    assert transport.count(JWKS) == 2  # the first fetch, then one refetch for the first stranger

    clock.now += 31
    with pytest.raises(InvalidToken):
        await verifier.verify(token)
    assert transport.count(JWKS) == 3


async def test_token_from_a_rotated_key_verifies_after_one_jwks_refetch(
    app, client, verifier, transport
) -> None:
    before = (await sign_in(client))["access_token"]
    await verifier.verify(before)
    assert transport.count(JWKS) == 1

    new_key = rotate(app.state.settings, overlap=timedelta(0))
    app.state.keyring._checked = 0  # keyturn re-reads its keyring now instead of within 10 s
    after = (await sign_in(client))["access_token"]
    assert jwt.get_unverified_header(after)["kid"] == new_key.kid

    assert (await verifier.verify(after)).user_id
    assert (await verifier.verify(before)).user_id  # the old key verifies until it retires
    assert transport.count(JWKS) == 2


async def test_logged_out_token_passes_jwks_only_but_not_introspection(
    client, make_verifier, transport
) -> None:
    jwks_only = make_verifier()
    introspecting = make_verifier(introspect=True)
    token = (await sign_in(client))["access_token"]
    assert (await introspecting.verify(token)).role == "customer"

    logout = await client.post("/api/v1/auth/logout", headers=auth(token))
    assert logout.status_code == 200, logout.text

    assert (await jwks_only.verify(token)).user_id  # accepted until it expires (≤ 15 min)
    with pytest.raises(InvalidToken) as refused:
        await introspecting.verify(token)
    assert not isinstance(refused.value, KeyturnUnavailable)
    assert transport.count(INTROSPECT) == 2


async def test_jwks_is_fetched_once_per_ttl_not_per_call(
    client, make_verifier, transport, clock
) -> None:
    verifier = make_verifier(jwks_ttl=300)
    token = (await sign_in(client))["access_token"]

    for _ in range(50):
        await verifier.verify(token)
    assert transport.count(JWKS) == 1

    clock.now += 299
    await verifier.verify(token)
    assert transport.count(JWKS) == 1
    clock.now += 2
    await verifier.verify(token)
    assert transport.count(JWKS) == 2
    assert transport.count(INTROSPECT) == 0


async def test_known_keys_keep_working_while_keyturn_is_briefly_down(
    client, make_verifier, transport, clock
) -> None:
    verifier = make_verifier(jwks_ttl=300, jwks_max_stale=600)
    token = (await sign_in(client))["access_token"]
    await verifier.verify(token)

    transport.down = True
    stranger = jwt.encode(
        jwt.decode(token, options={"verify_signature": False}),
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": "maybe-a-new-key"},
    )
    with pytest.raises(KeyturnUnavailable):  # an unknown kid cannot be looked up: 503, not 401
        await verifier.verify(stranger)

    clock.now += 400  # past the TTL: the refetch fails, the cached keys still verify
    assert (await verifier.verify(token)).user_id
    attempts = transport.count(JWKS)
    await verifier.verify(token)
    assert transport.count(JWKS) == attempts  # no retry within the 5 s back-off

    clock.now += 600  # past TTL + max stale: fail closed
    with pytest.raises(KeyturnUnavailable):
        await verifier.verify(token)

    transport.down = False
    clock.now += 6
    assert (await verifier.verify(token)).user_id


async def test_introspection_fails_closed_when_keyturn_is_unreachable(
    client, make_verifier, transport
) -> None:
    verifier = make_verifier(introspect=True)
    token = (await sign_in(client))["access_token"]
    await verifier.verify(token)

    transport.down = True
    with pytest.raises(KeyturnUnavailable):
        await verifier.verify(token)


def protected_app(verifier: KeyturnVerifier) -> FastAPI:
    downstream = FastAPI()
    require_user = verifier.dependency()

    @downstream.get("/me")
    async def me(user: Annotated[VerifiedToken, Depends(require_user)]) -> dict[str, Any]:
        return {"user_id": user.user_id, "market": user.market}

    return downstream


async def test_dependency_answers_401_with_a_bearer_challenge(
    client, app, make_verifier, transport
) -> None:
    signed = await sign_in(client)
    introspecting = make_verifier(introspect=True)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=protected_app(make_verifier())), base_url="http://svc"
    ) as svc:
        ok = await svc.get("/me", headers=auth(signed["access_token"]))
        missing = await svc.get("/me")
        basic = await svc.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        bad = await svc.get("/me", headers=auth(signed["access_token"] + "x"))

    assert ok.status_code == 200
    assert ok.json() == {"user_id": signed["user"]["id"], "market": "us"}
    for refused in (missing, basic):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == 'Bearer realm="keyturn"'
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"].startswith(
        'Bearer realm="keyturn", error="invalid_token"'
    )

    transport.down = True
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=protected_app(introspecting)), base_url="http://svc"
    ) as svc:
        unavailable = await svc.get("/me", headers=auth(signed["access_token"]))
    assert unavailable.status_code == 503
    assert "retry-after" in unavailable.headers


async def test_the_verified_token_says_how_and_when_the_person_signed_in(
    app, client, verifier
) -> None:
    signed = await sign_in(client)

    user = await verifier.verify(signed["access_token"])

    assert user.amr == ("sms",)
    assert user.auth_time is not None and abs(user.auth_time - time.time()) < 5
    assert user.authenticated_within(600)
    assert not user.authenticated_within(600, now=time.time() + 601)
    older = await verifier.verify(forge(app))  # a token from before keyturn sent them
    assert older.amr == () and older.auth_time is None
    assert not older.authenticated_within(600)
