"""What other services see: introspection, jwt-info, JWKS, key rotation."""

from datetime import timedelta

import jwt

from keyturn.app import create_app
from keyturn.sessions.keys import rotate
from tests.conftest import http_client
from tests.factories import auth, sign_in


async def test_verify_token_reports_live_and_revoked_sessions(client) -> None:
    signed = await sign_in(client)
    live = (
        await client.post("/api/v1/auth/verify-token", json={"token": signed["access_token"]})
    ).json()
    assert live["active"] is True
    assert live["sub"] == str(signed["user"]["id"]) and live["sid"] == signed["session_id"]
    assert live["mkt"] == "us" and live["role"] == "customer"

    await client.post("/api/v1/auth/logout", headers=auth(signed["access_token"]))
    dead = (
        await client.post("/api/v1/auth/verify-token", json={"token": signed["access_token"]})
    ).json()
    assert dead == {
        "active": False,
        "sub": None,
        "sid": None,
        "mkt": None,
        "role": None,
        "iat": None,
        "exp": None,
        "jti": None,
        "iss": None,
        "aud": None,
        "auth_time": None,
        "amr": None,
    }
    garbage = await client.post("/api/v1/auth/verify-token", json={"token": "x.y.z"})
    assert garbage.status_code == 200 and garbage.json()["active"] is False


async def test_jwks_verifies_our_tokens(client) -> None:
    signed = await sign_in(client)
    jwks = (await client.get("/.well-known/jwks.json")).json()
    kid = jwt.get_unverified_header(signed["access_token"])["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    assert set(key) == {"kty", "crv", "alg", "use", "kid", "x"}  # public parts only
    public = jwt.PyJWK(key).key
    claims = jwt.decode(signed["access_token"], public, algorithms=["EdDSA"], audience="keyturn")
    assert claims["sid"] == signed["session_id"]


async def test_jwt_info_shows_fingerprints_never_key_material(app, client, settings) -> None:
    info = (await client.get("/api/v1/auth/jwt-info")).json()
    assert info["algorithms"] == ["EdDSA"] and info["issuer"] == "keyturn"
    assert info["keys"][0]["fingerprint"].startswith("sha256:")
    keyring_file = (settings.data_dir / "signing-keys.json").read_text()
    import json

    for key in json.loads(keyring_file)["keys"]:
        pem_body = "".join(key["private_key"].splitlines()[1:-1])
        for i in range(0, len(pem_body) - 8, 8):
            assert pem_body[i : i + 8] not in str(info)


async def test_hs256_jwt_info_leaks_no_character_of_the_secret(make_settings) -> None:
    secret = "s3cr3t-" + "Q" * 40
    app = create_app(make_settings(tokens={"algorithm": "HS256", "hs256_secret": secret}))
    async with http_client(app) as client:
        signed = await sign_in(client)
        assert (
            await client.get("/api/v1/profile", headers=auth(signed["access_token"]))
        ).status_code == 200
        text = (await client.get("/api/v1/auth/jwt-info")).text
        assert "s3cr3t" not in text and "QQQQ" not in text
        assert (await client.get("/.well-known/jwks.json")).json() == {"keys": []}
    await app.state.databases.dispose()


async def test_rotated_keys_keep_old_tokens_valid_and_sign_new_ones(make_settings) -> None:
    settings = make_settings()
    app = create_app(settings)
    async with http_client(app) as client:
        before = await sign_in(client)
        old_kid = jwt.get_unverified_header(before["access_token"])["kid"]
        new_key = rotate(settings, overlap=timedelta(0))
        app.state.keyring._checked = 0  # the next request re-reads the file at once
        after = await sign_in(client)
        assert jwt.get_unverified_header(after["access_token"])["kid"] == new_key.kid != old_kid
        for token in (before, after):
            assert (
                await client.get("/api/v1/profile", headers=auth(token["access_token"]))
            ).status_code == 200
        kids = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
        assert kids == {old_kid, new_key.kid}
    await app.state.databases.dispose()


async def test_a_key_with_overlap_is_published_before_it_signs(make_settings) -> None:
    settings = make_settings()
    app = create_app(settings)
    async with http_client(app) as client:
        upcoming = rotate(settings, overlap=timedelta(minutes=5))
        app.state.keyring._checked = 0
        signed = await sign_in(client)
        assert jwt.get_unverified_header(signed["access_token"])["kid"] != upcoming.kid
        kids = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
        assert upcoming.kid in kids
    await app.state.databases.dispose()
