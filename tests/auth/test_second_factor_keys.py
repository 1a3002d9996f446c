"""The key that encrypts authenticator secrets: required in production, generated once in the
data dir in development, rotatable (docs/second-factors.md)."""

from __future__ import annotations

import stat
from collections.abc import Callable

import pytest

from keyturn.app import create_app
from keyturn.config import ConfigError, Settings, load_settings
from tests.conftest import http_client
from tests.factories import enrol_totp, login, new_email, register
from tests.system.test_errors import assert_problem

PRODUCTION = {
    "KEYTURN_ENV": "production",
    "KEYTURN_SECRET_KEY": "s" * 40,
    "KEYTURN_ALLOW_CONSOLE_SMS": "true",
    "KEYTURN_ALLOW_CONSOLE_EMAIL": "true",
    "KEYTURN_ALLOW_GENERATED_KEYS": "true",
    "KEYTURN_ALLOW_SQLITE": "true",
}


def test_production_refuses_to_start_without_an_encryption_key(monkeypatch) -> None:
    for key, value in PRODUCTION.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match="KEYTURN_MFA__ENCRYPTION_KEY missing"):
        load_settings(_env_file=None)
    monkeypatch.setenv("KEYTURN_MFA__ENCRYPTION_KEY", "short")
    with pytest.raises(ConfigError, match="KEYTURN_MFA__ENCRYPTION_KEY"):
        load_settings(_env_file=None)
    monkeypatch.setenv("KEYTURN_MFA__ENCRYPTION_KEY", "k" * 44)
    assert load_settings(_env_file=None).mfa.encryption_key == "k" * 44


async def test_development_generates_one_key_in_the_data_dir_and_keeps_it(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    first = create_app(settings)
    key_file = settings.data_dir / "mfa.key"
    try:
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        async with http_client(first) as client:
            email = new_email()
            account = await register(client, email)
            phone_app, _ = await enrol_totp(client, account["access_token"])
    finally:
        await first.state.databases.dispose()
    restarted = create_app(settings)  # a restart reads the same key: the secret still opens
    try:
        async with http_client(restarted) as client:
            token = (await login(client, email)).json()["mfa_token"]
            signed = await client.post(
                "/api/v1/auth/mfa/verify",
                json={"mfa_token": token, "code": phone_app.code(1)},
                headers={"X-Market": "us"},
            )
            assert signed.status_code == 200, signed.text
    finally:
        await restarted.state.databases.dispose()


async def test_a_rotated_key_still_opens_old_secrets_and_a_lost_key_is_a_clear_503(
    make_settings: Callable[..., Settings],
) -> None:
    old_key, new_key = "o" * 44, "n" * 44
    before = create_app(make_settings(mfa={"encryption_key": old_key}))
    try:
        async with http_client(before) as client:
            email = new_email()
            account = await register(client, email)
            phone_app, _ = await enrol_totp(client, account["access_token"])
    finally:
        await before.state.databases.dispose()

    lost = create_app(make_settings(mfa={"encryption_key": new_key}))
    try:
        async with http_client(lost) as client:
            token = (await login(client, email)).json()["mfa_token"]
            refused = await client.post(
                "/api/v1/auth/mfa/verify",
                json={"mfa_token": token, "code": phone_app.code(1)},
                headers={"X-Market": "us"},
            )
            assert_problem(refused, 503, "mfa.secret_unreadable")
    finally:
        await lost.state.databases.dispose()

    rotated = create_app(
        make_settings(mfa={"encryption_key": new_key, "old_encryption_keys": [old_key]})
    )
    try:
        async with http_client(rotated) as client:
            token = (await login(client, email)).json()["mfa_token"]
            signed = await client.post(
                "/api/v1/auth/mfa/verify",
                json={"mfa_token": token, "code": phone_app.code(1)},
                headers={"X-Market": "us"},
            )
            assert signed.status_code == 200, signed.text
    finally:
        await rotated.state.databases.dispose()
