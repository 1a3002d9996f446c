"""What an operator's Prometheus sees: after a scenario with every sign-in outcome, codes sent
and refused, refreshes, token reuse, logouts, revocations and 429s, each auth counter moved by
exactly the expected amount and nothing else moved. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from keyturn import metrics
from keyturn.app import create_app
from keyturn.auth.models import PhoneChallenge
from keyturn.config import MarketConfig, Settings
from keyturn.db import utcnow
from tests.conftest import base_settings, http_client
from tests.factories import (
    STRONG_PASSWORD,
    auth,
    latest_code,
    login,
    make_admin,
    new_email,
    new_phone,
    register,
)

Series = tuple[str, tuple[tuple[str, str], ...]]
US = {"X-Market": "us"}


async def scrape(client: httpx.AsyncClient) -> dict[Series, float]:
    """The `keyturn_*` counters (not the HTTP ones) as /metrics shows them."""
    text = (await client.get("/metrics")).text
    values: dict[Series, float] = {}
    for family in text_string_to_metric_families(text):
        if family.type != "counter" or not family.name.startswith("keyturn_"):
            continue
        if family.name == "keyturn_http_requests":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def moved(before: dict[Series, float], after: dict[Series, float]) -> dict[str, float]:
    """Every series that changed, as `name{label=value,...}`: amount."""
    changes = {}
    for key in sorted(set(before) | set(after)):
        delta = after.get(key, 0) - before.get(key, 0)
        if delta:
            name, labels = key
            changes[name + "{" + ",".join(f"{k}={v}" for k, v in labels) + "}"] = delta
    return changes


async def send(client: httpx.AsyncClient, phone: str) -> httpx.Response:
    return await client.post("/api/v1/auth/send-verification", json={"phone": phone}, headers=US)


async def verify(client: httpx.AsyncClient, phone: str, code: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/verify-code",
        json={"phone": phone, "verification_code": code},
        headers=US,
    )


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def phone_scenario(app: Any, client: httpx.AsyncClient, admin: str) -> dict[str, Any]:
    # P1: a wrong code, a sign-in, another code and sign-in, then the per-phone budget (2/hour).
    p1 = new_phone()
    assert (await send(client, p1)).status_code == 200
    code = await latest_code(client, p1)
    assert (await verify(client, p1, wrong(code))).status_code == 400
    assert (await verify(client, p1, code)).status_code == 200
    assert (await send(client, p1)).status_code == 200
    signed = await verify(client, p1, await latest_code(client, p1))
    assert signed.status_code == 200
    assert (await send(client, p1)).status_code == 429  # per_phone

    # P2: asks again within the cooldown.
    p2 = new_phone()
    assert (await send(client, p2)).status_code == 200
    assert (await send(client, p2)).status_code == 429  # cooldown

    # P3: the code expires before it is used.
    p3 = new_phone()
    assert (await send(client, p3)).status_code == 200
    async with app.state.databases.session("us") as db:
        await db.execute(
            update(PhoneChallenge)
            .where(PhoneChallenge.phone_number == p3)
            .values(expires_at=utcnow())
        )
        await db.commit()
    assert (await verify(client, p3, await latest_code(client, p3))).status_code == 400

    # P4: two wrong codes (max_attempts=2), then even the right one is throttled.
    p4 = new_phone()
    assert (await send(client, p4)).status_code == 200
    code = await latest_code(client, p4)
    assert (await verify(client, p4, wrong(code))).status_code == 400
    assert (await verify(client, p4, wrong(code))).status_code == 400
    assert (await verify(client, p4, code)).status_code == 429

    # P5: signs in, is disabled by an admin (its session ends), cannot sign in again.
    p5 = new_phone()
    assert (await send(client, p5)).status_code == 200
    p5_user = (await verify(client, p5, await latest_code(client, p5))).json()["user"]
    disabled = await client.post(
        f"/api/v1/admin/users/{p5_user['id']}/disable", headers=auth(admin, "us")
    )
    assert disabled.status_code == 200, disabled.text
    assert (await send(client, p5)).status_code == 200
    assert (await verify(client, p5, await latest_code(client, p5))).status_code == 403

    # A country this market does not text.
    assert (await send(client, "+996700123456")).status_code == 422
    return dict(signed.json())


async def password_scenario(client: httpx.AsyncClient, admin: str) -> None:
    # E1: register, a wrong password, a sign-in, two more wrong ones, throttled (2/15 min).
    e1 = new_email()
    await register(client, e1)
    assert (await login(client, e1, "not the password at all")).status_code == 401
    assert (await login(client, e1)).status_code == 200
    for _ in range(2):
        assert (await login(client, e1, "not the password at all")).status_code == 401
    assert (await login(client, e1)).status_code == 429
    # ...resets the password: both sessions end.
    forgot = await client.post("/api/v1/auth/password/forgot", json={"email": e1}, headers=US)
    assert forgot.status_code == 202
    outbox = await client.get("/api/v1/dev/outbox", params={"to": e1}, headers=US)
    reset = await client.post(
        "/api/v1/auth/password/reset",
        json={"token": outbox.json()["items"][0]["token"], "new_password": STRONG_PASSWORD + "!"},
        headers=US,
    )
    assert reset.status_code == 200, reset.text

    # E2: disabled by an admin, then signs in with the right password.
    e2 = new_email()
    e2_user = (await register(client, e2))["user"]
    disabled = await client.post(
        f"/api/v1/admin/users/{e2_user['id']}/disable", headers=auth(admin, "us")
    )
    assert disabled.status_code == 200
    assert (await login(client, e2)).status_code == 403

    # E3: four devices; logs the others out, then this one, ends one by id, then all.
    e3 = new_email()
    await register(client, e3)
    devices = [(await login(client, e3)).json() for _ in range(3)]
    current = devices[-1]["access_token"]
    logout = "/api/v1/auth/logout"
    assert (await client.post(logout, json={"scope": "others"}, headers=auth(current))).json()
    fifth = (await login(client, e3)).json()["access_token"]
    assert (await client.post(logout, json={"scope": "current"}, headers=auth(fifth))).json()
    sixth = (await login(client, e3)).json()["access_token"]
    ended = await client.delete(
        f"/api/v1/auth/sessions/{devices[-1]['session_id']}", headers=auth(sixth)
    )
    assert ended.status_code == 204
    assert (await client.post(logout, json={"scope": "all"}, headers=auth(sixth))).json()


async def refresh_scenario(client: httpx.AsyncClient, tokens: dict[str, Any]) -> None:
    async def redeem(token: str) -> httpx.Response:
        return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})

    t0 = tokens["refresh_token"]
    t1 = (await redeem(t0)).json()["refresh_token"]  # rotated
    assert (await redeem(t0)).status_code == 200  # retried: the response was "lost"
    t2 = (await redeem(t1)).json()["refresh_token"]  # rotated
    assert (await redeem(t0)).status_code == 401  # reuse detected: the session ends
    assert (await redeem(t2)).status_code == 401  # invalid: its session has ended


EXPECTED = {
    # phone: make_admin signs in twice; P1 twice; P5 once; disabled P5 refused.
    "keyturn_sign_ins_total{market=us,method=phone,outcome=ok}": 5,
    "keyturn_sign_ins_total{market=us,method=phone,outcome=wrong_code}": 3,
    "keyturn_sign_ins_total{market=us,method=phone,outcome=expired}": 1,
    "keyturn_sign_ins_total{market=us,method=phone,outcome=throttled}": 1,
    "keyturn_sign_ins_total{market=us,method=phone,outcome=disabled}": 1,
    # password: E1 register + login; E2 register; E3 register + 3 + 1 + 1 logins.
    "keyturn_sign_ins_total{market=us,method=password,outcome=ok}": 9,
    "keyturn_sign_ins_total{market=us,method=password,outcome=invalid_credentials}": 3,
    "keyturn_sign_ins_total{market=us,method=password,outcome=throttled}": 1,
    "keyturn_sign_ins_total{market=us,method=password,outcome=disabled}": 1,
    "keyturn_sms_codes_sent_total{market=us}": 9,
    "keyturn_sms_codes_refused_total{market=us,reason=per_phone}": 1,
    "keyturn_sms_codes_refused_total{market=us,reason=cooldown}": 1,
    "keyturn_sms_codes_refused_total{market=us,reason=country}": 1,
    "keyturn_refreshes_total{market=us,outcome=rotated}": 2,
    "keyturn_refreshes_total{market=us,outcome=retried}": 1,
    "keyturn_refreshes_total{market=us,outcome=reuse_detected}": 1,
    "keyturn_refreshes_total{market=us,outcome=invalid}": 1,
    "keyturn_logouts_total{market=us,scope=others}": 1,
    "keyturn_logouts_total{market=us,scope=current}": 1,
    "keyturn_logouts_total{market=us,scope=all}": 1,
    "keyturn_sessions_revoked_total{market=us,reason=account_disabled}": 2,
    "keyturn_sessions_revoked_total{market=us,reason=password_reset}": 2,
    "keyturn_sessions_revoked_total{market=us,reason=logout_others}": 3,
    "keyturn_sessions_revoked_total{market=us,reason=logout}": 1,
    "keyturn_sessions_revoked_total{market=us,reason=revoked_by_user}": 1,
    "keyturn_sessions_revoked_total{market=us,reason=logout_all}": 1,
    "keyturn_sessions_revoked_total{market=us,reason=refresh_reuse}": 1,
    "keyturn_rate_limited_total{limiter=sms-phone}": 1,
    "keyturn_rate_limited_total{limiter=otp-cooldown}": 1,
    "keyturn_rate_limited_total{limiter=otp-attempts}": 1,
    "keyturn_rate_limited_total{limiter=login-account}": 1,
    "keyturn_rate_limited_total{limiter=usage-quota}": 1,
}


async def test_each_auth_counter_moves_by_what_happened(
    make_settings: Callable[..., Settings],
) -> None:
    markets = [
        MarketConfig(code="kg", currency="KGS", language="ru", country="KG"),
        MarketConfig(code="us", currency="USD", language="en", country="US", sms_countries=["US"]),
    ]
    app = create_app(
        make_settings(
            markets=markets,
            otp={"per_phone": "2/hour", "max_attempts": 2},
            login={"failures_per_account": "2/15 minutes"},
        )
    )
    try:
        async with http_client(app) as client:
            admin = (await make_admin(app, client))["access_token"]
            before = await scrape(client)
            tokens = await phone_scenario(app, client, admin)
            await password_scenario(client, admin)
            await refresh_scenario(client, tokens)
            quota_user = (await register(client, new_email()))["access_token"]
            over = await client.post(
                "/api/v1/usage/uploads/consume", json={"amount": 11}, headers=auth(quota_user)
            )
            assert over.status_code == 429
            after = await scrape(client)
    finally:
        await app.state.databases.dispose()
    expected = {**EXPECTED}
    # make_admin ran before `before`; the quota user registered after.
    expected["keyturn_sign_ins_total{market=us,method=phone,outcome=ok}"] -= 2
    expected["keyturn_sign_ins_total{market=us,method=password,outcome=ok}"] += 1
    expected["keyturn_sms_codes_sent_total{market=us}"] -= 2
    assert moved(before, after) == expected


def exported() -> dict[str, tuple[str, set[str]]]:
    """Every metric metrics.py defines: sample name -> (type, label names)."""
    found = {}
    for value in vars(metrics).values():
        if isinstance(value, Counter | Histogram):
            kind = "counter" if isinstance(value, Counter) else "histogram"
            suffixes = ("_total",) if kind == "counter" else ("_bucket", "_sum", "_count")
            name = value._name.removesuffix("_total")
            for suffix in suffixes:
                found[name + suffix] = (kind, set(value._labelnames))
    return found


def test_every_known_series_is_exported_from_the_start(tmp_path: Path) -> None:
    metrics.prepare(base_settings(tmp_path))
    text = generate_latest().decode()
    for method, outcomes in metrics.SIGN_IN_OUTCOMES.items():
        for outcome in outcomes:
            series = f'keyturn_sign_ins_total{{market="us",method="{method}",outcome="{outcome}"}}'
            assert series in text
    assert 'keyturn_sms_codes_refused_total{market="kg",reason="premium_number"}' in text
    assert 'keyturn_rate_limited_total{limiter="login-ip"}' in text
    personal = {"user", "user_id", "session", "session_id", "phone", "email", "ip"}
    assert all(not labels & personal for _, labels in exported().values())


def test_the_grafana_dashboard_queries_only_what_keyturn_exports() -> None:
    dashboard = json.loads(Path("docs/grafana/keyturn.json").read_text())
    known = exported()
    queries = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(queries) >= 12
    for query in queries:
        labels = {
            label.strip()
            for group in re.findall(r"by \(([^)]*)\)", query)
            for label in group.split(",")
        } | set(re.findall(r"(\w+)=~?\"", query))
        for name in re.findall(r"keyturn_[a-z_]+", query):
            assert name in known, name
            assert labels <= known[name][1] | {"le"}, (query, labels - known[name][1])


def test_the_request_tally_exports_what_observing_each_request_would() -> None:
    """The middleware counts in plain dicts and moves the counts into Prometheus on a scrape;
    the exported counter and histogram (buckets, sum, count) are exactly what one
    `observe()` per request would have made, bucket edges included."""
    seconds = [0.0, 0.005, 0.0050001, 0.01, 0.3, 0.3, 9.99, 10.0, 10.5, 120.0]
    reference = CollectorRegistry()
    expected = Histogram("expected_seconds", "", ["method", "route"], registry=reference)
    for value in seconds:
        expected.labels("GET", "/tally-test").observe(value)

    tally = metrics.RequestTally()
    for value in seconds:
        tally.record("GET", "/tally-test", 200, value)
    tally.record("GET", "/tally-test", 404, 0.001)
    tally.flush()
    tally.flush()  # a second flush adds nothing

    def histogram(registry: Any, name: str) -> dict[tuple[str, str], float]:
        return {
            (s.name.removeprefix(name), s.labels.get("le", "")): s.value
            for family in registry.collect()
            for s in family.samples
            if s.name.startswith(name)
            and s.labels.get("route") in (None, "/tally-test")
            and not s.name.endswith("_created")
        }

    got = histogram(REGISTRY, "keyturn_http_request_seconds")
    want = histogram(reference, "expected_seconds")
    for key in want:  # the 404's 0.001 s falls in every (cumulative) bucket
        if key[0] in ("_bucket", "_count"):
            want[key] += 1
    want[("_sum", "")] += 0.001
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value), key
    requests = {
        s.labels["status"]: s.value
        for family in REGISTRY.collect()
        for s in family.samples
        if s.name == "keyturn_http_requests_total" and s.labels["route"] == "/tally-test"
    }
    assert requests == {"200": len(seconds), "404": 1}
