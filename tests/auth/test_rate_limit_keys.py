"""Whoever can read Redis (an operator, a backup, a leaked dump) must not find the phone numbers
and email addresses people signed in with: rate-limit keys hold a keyed hash of them."""

from collections.abc import Callable

import redis

from keyturn.app import create_app
from keyturn.config import Settings
from tests.conftest import http_client
from tests.factories import STRONG_PASSWORD, login, new_email, new_phone, register
from tests.harness.redis import RedisServer

US = {"X-Market": "us"}


async def test_redis_rate_limit_keys_hold_no_phone_number_email_or_address(
    make_settings: Callable[..., Settings], redis_server: RedisServer
) -> None:
    store = redis.Redis.from_url(redis_server.url)
    store.flushdb()
    app = create_app(make_settings(redis_url=redis_server.url))
    phone, email, other = new_phone(), new_email(), new_email()
    try:
        async with http_client(app) as client:
            sent = await client.post(
                "/api/v1/auth/send-verification", json={"phone": phone}, headers=US
            )
            assert sent.status_code == 200, sent.text
            wrong = await client.post(
                "/api/v1/auth/verify-code",
                json={"phone": phone, "verification_code": "000000"},
                headers=US,
            )
            assert wrong.status_code in (200, 400)
            await register(client, email)
            assert (await login(client, email, "not the password")).status_code == 401
            assert (await login(client, other, STRONG_PASSWORD)).status_code == 401
            forgot = await client.post(
                "/api/v1/auth/password/forgot", json={"email": email}, headers=US
            )
            assert forgot.status_code == 202
    finally:
        await app.state.databases.dispose()

    keys = [key.decode() for key in store.keys("*")]
    assert len(keys) >= 5, keys  # the limits were counted in Redis
    secrets = [phone, phone[1:], phone[-7:], email, email.split("@")[0], other, "203.0.113.7"]
    leaked = [(key, s) for key in keys for s in secrets if s in key]
    assert leaked == []
