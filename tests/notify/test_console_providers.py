"""The console SMS and email providers are for development: production refuses them unless
each is allowed explicitly, and outside development they keep nothing.

The attack (issue 10, item 7): production started with console email, which kept live
password-reset tokens in plain text in `dev_messages`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from keyturn.app import create_app
from keyturn.config import ConfigError, Settings, load_settings
from keyturn.notify.models import DevMessage
from tests.conftest import http_client
from tests.factories import new_email, new_phone, register

# Everything production needs, so that only the email provider is in question.
PRODUCTION = {
    "KEYTURN_ENV": "production",
    "KEYTURN_SECRET_KEY": "s" * 40,
    "KEYTURN_MFA__ENCRYPTION_KEY": "m" * 40,
    "KEYTURN_ALLOW_CONSOLE_SMS": "true",
    "KEYTURN_ALLOW_GENERATED_KEYS": "true",
    "KEYTURN_ALLOW_SQLITE": "true",
}


def test_production_refuses_console_email_unless_allowed(monkeypatch) -> None:
    for key, value in PRODUCTION.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match="console email"):
        load_settings(_env_file=None)
    monkeypatch.setenv("KEYTURN_ALLOW_CONSOLE_EMAIL", "true")
    assert load_settings(_env_file=None).email.provider == "console"
    monkeypatch.delenv("KEYTURN_ALLOW_CONSOLE_EMAIL")
    monkeypatch.setenv("KEYTURN_EMAIL__PROVIDER", "smtp")
    assert load_settings(_env_file=None).email.provider == "smtp"


async def test_outside_development_console_providers_keep_nothing(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        env="production",
        secret_key="s" * 40,
        mfa={"encryption_key": "m" * 40},
        allow_console_sms=True,
        allow_console_email=True,
        allow_generated_keys=True,
        allow_sqlite=True,
    )
    app = create_app(settings)
    try:
        async with http_client(app) as client:
            us = {"X-Market": "us"}
            email = new_email()
            await register(client, email)
            forgot = await client.post(
                "/api/v1/auth/password/forgot", json={"email": email}, headers=us
            )
            assert forgot.status_code == 202
            phone = new_phone()
            sent = await client.post(
                "/api/v1/auth/send-verification", json={"phone": phone}, headers=us
            )
            assert sent.status_code == 200
            outbox = await client.get("/api/v1/dev/outbox", params={"to": email}, headers=us)
            assert outbox.status_code == 404
        async with app.state.databases.session("us") as db:
            assert await db.scalar(select(func.count()).select_from(DevMessage)) == 0
    finally:
        await app.state.databases.dispose()
