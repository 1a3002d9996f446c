"""Security notices reach the person after the change commits, in their market's language,
with a single-use "this wasn't me" link that ends every session."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime

import bcrypt
import pytest
from sqlalchemy import select

from keyturn.app import create_app
from keyturn.events.models import Event
from keyturn.notices.messages import KINDS, LANGUAGES, render
from keyturn.worker import Worker
from tests.auth.test_email_proof import answer_proof, claim_email, link_phone, mailed_code
from tests.conftest import http_client
from tests.factories import (
    STRONG_PASSWORD,
    add_passkey,
    auth,
    enrol_totp,
    login,
    new_email,
    new_phone,
    passkey_sign_in,
    register,
    run_cli,
    sign_in,
)
from tests.harness.authenticator import SoftAuthenticator
from tests.harness.oauth_provider import Social
from tests.harness.smtp import SmtpServer
from tests.problems import assert_problem

US = {"X-Market": "us"}


@pytest.fixture
def worker(app, settings) -> Worker:
    return Worker(settings, app.state.databases)


async def notices_to(client, to: str, market: str = "us") -> list[dict]:
    outbox = await client.get("/api/v1/dev/outbox", params={"to": to}, headers={"X-Market": market})
    return [m for m in outbox.json()["items"] if m["kind"] == "security_notice"]


async def events_of(app, prefix: str) -> list[tuple[str, dict]]:
    async with app.state.databases.session("us") as db:
        rows = await db.scalars(
            select(Event).where(Event.type.startswith(prefix)).order_by(Event.id)
        )
        return [(e.type, e.payload) for e in rows]


async def profile_status(client, token: str) -> int:
    return (await client.get("/api/v1/profile", headers=auth(token))).status_code


async def test_sign_in_from_a_new_device_sends_a_notice_with_a_working_link(client, worker) -> None:
    phone = new_phone()
    first = await sign_in(client, phone, device_name="Pixel 8")
    again = await sign_in(client, phone, device_name="Pixel 8")
    await worker.run_until_idle()
    assert await notices_to(client, phone) == []  # a new account, then a known device

    laptop = await sign_in(client, phone, device_name="Work laptop")
    assert await notices_to(client, phone) == []  # nothing is sent inside the sign-in
    await worker.run_until_idle()
    (notice,) = await notices_to(client, phone)
    assert notice["channel"] == "sms" and "Work laptop" in notice["body"]
    assert "remove" not in notice["body"]  # the link only signs out: nothing was added
    token = notice["token"]
    assert token and f"token={token}" in notice["body"]

    secured = await client.post("/api/v1/auth/wasnt-me", json={"token": token})
    assert secured.status_code == 200, secured.text
    assert secured.json()["sessions_revoked"] == 3
    for signed in (first, again, laptop):
        assert await profile_status(client, signed["access_token"]) == 401
        refreshed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": signed["refresh_token"]}
        )
        assert refreshed.status_code == 401
    assert_problem(
        await client.post("/api/v1/auth/wasnt-me", json={"token": token}),
        400,
        "notice.link_invalid",
    )
    back = await sign_in(client, phone, device_name="Pixel 8")  # a new sign-in works
    assert await profile_status(client, back["access_token"]) == 200


async def test_the_notice_speaks_the_markets_language(client, worker) -> None:
    phone = new_phone("kg")
    await sign_in(client, phone, market="kg", device_name="Телефон")
    await sign_in(client, phone, market="kg", device_name="Ноутбук")
    await worker.run_until_idle()
    (notice,) = await notices_to(client, phone, "kg")
    assert "Это не вы?" in notice["body"] and "Ноутбук" in notice["body"]
    assert notice["token"].startswith("kg.")


async def test_the_link_opens_a_page_that_changes_nothing_until_its_button_is_pressed(
    client, worker
) -> None:
    phone = new_phone()
    await sign_in(client, phone, device_name="a")
    other = await sign_in(client, phone, device_name="b")
    await worker.run_until_idle()
    token = (await notices_to(client, phone))[0]["token"]

    page = await client.get("/wasnt-me", params={"token": token})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert re.search(rf'name="token" value="{re.escape(token)}"', page.text)
    # it says what the button does, as the notice did: a sign-in removes nothing
    assert "press the button: it signs your account out everywhere" in page.text
    assert "removes" not in page.text
    assert await profile_status(client, other["access_token"]) == 200  # opening changed nothing

    done = await client.post("/wasnt-me", data={"token": token})
    assert done.status_code == 200 and "every session" in done.text
    assert await profile_status(client, other["access_token"]) == 401
    used = await client.get("/wasnt-me", params={"token": token})
    assert "already used" in used.text and "<form" not in used.text


@pytest.mark.parametrize(
    "token",
    [
        "",
        "nonsense",
        "us." + "A" * 43,
        "zz." + "A" * 43,
        "us." + "A" * 42 + "!",
        "us.<script>alert(1)</script>",
    ],
)
async def test_a_wrong_link_is_refused_and_changes_nothing(client, token) -> None:
    signed = await sign_in(client)
    answer = await client.post("/api/v1/auth/wasnt-me", json={"token": token})
    if answer.status_code == 422:  # not even shaped like a link
        assert_problem(answer, 422, "request.invalid")
    else:
        assert_problem(answer, 400, "notice.link_invalid")
    page = await client.get("/wasnt-me", params={"token": token})
    assert "invalid" in page.text and "<script>" not in page.text
    assert await profile_status(client, signed["access_token"]) == 200


async def test_an_expired_link_is_refused(app, client, make_settings) -> None:
    settings = make_settings(notices={"link_ttl": 1})
    worker = Worker(settings, app.state.databases)
    phone = new_phone()
    await sign_in(client, phone, device_name="a")
    other = await sign_in(client, phone, device_name="b")
    await worker.run_until_idle()
    token = (await notices_to(client, phone))[0]["token"]
    await asyncio.sleep(1.2)
    answer = await client.post("/api/v1/auth/wasnt-me", json={"token": token})
    assert_problem(answer, 400, "notice.link_invalid")
    assert await profile_status(client, other["access_token"]) == 200


async def test_a_password_change_is_told_to_the_accounts_email(client, worker) -> None:
    email = new_email()
    person = await register(client, email)
    changed = await client.post(
        "/api/v1/auth/password/change",
        json={"current_password": "correct horse 🐎 battery", "new_password": "a new 🐎 horse!"},
        headers=auth(person["access_token"]),
    )
    assert changed.status_code == 200
    await worker.run_until_idle()
    (notice,) = await notices_to(client, email)
    assert notice["channel"] == "email" and "password" in notice["body"].lower()
    secured = await client.post("/api/v1/auth/wasnt-me", json={"token": notice["token"]})
    assert secured.json()["sessions_revoked"] == 1  # the session that changed it


async def test_an_added_email_is_told_to_the_phone_not_to_the_new_address(client, worker) -> None:
    phone = new_phone()
    person = await sign_in(client, phone)
    email = new_email()
    await claim_email(client, person["access_token"], email)
    verified = await answer_proof(client, person["access_token"], await mailed_code(client, email))
    assert verified.status_code == 200, verified.text
    await worker.run_until_idle()
    (notice,) = await notices_to(client, phone)
    assert "email address" in notice["body"] and email not in notice["body"]
    assert await notices_to(client, email) == []  # whoever added it is not the one to tell


async def test_an_added_phone_is_told_by_email(client, worker) -> None:
    email = new_email()
    person = await register(client, email)
    phone = new_phone()
    await link_phone(client, person["access_token"], phone)
    await worker.run_until_idle()
    (notice,) = await notices_to(client, email)
    assert "phone number" in notice["body"] and phone not in notice["body"]
    assert await notices_to(client, phone) == []


async def test_a_password_reset_is_told_too(client, worker) -> None:
    email = new_email()
    await register(client, email)
    assert (
        await client.post("/api/v1/auth/password/forgot", json={"email": email}, headers=US)
    ).status_code == 202
    outbox = await client.get("/api/v1/dev/outbox", params={"to": email}, headers=US)
    (mail,) = outbox.json()["items"]
    reset = await client.post(
        "/api/v1/auth/password/reset",
        json={"token": mail["token"], "new_password": "a reset 🐎 horse!"},
        headers=US,
    )
    assert reset.status_code == 200, reset.text
    await worker.run_until_idle()
    (notice,) = await notices_to(client, email)
    assert "The password of your account was changed" in notice["body"]


async def test_an_imported_accounts_first_sign_in_sends_no_notice(
    client, worker, settings, tmp_path
) -> None:
    email = new_email()
    old_hash = bcrypt.hashpw(STRONG_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    users = tmp_path / "users.json"
    users.write_text(json.dumps([{"email": email, "password": old_hash}]))
    assert (await run_cli(settings, "import-users", str(users), "--market", "us")).exit_code == 0
    assert (await login(client, email)).status_code == 200
    await worker.run_until_idle()
    assert await notices_to(client, email) == []  # the account had never signed in
    elsewhere = await client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": STRONG_PASSWORD, "device_name": "Other laptop"},
        headers=US,
    )
    assert elsewhere.status_code == 200, elsewhere.text
    await worker.run_until_idle()
    (notice,) = await notices_to(client, email)
    assert "Other laptop" in notice["body"]


async def test_adding_and_removing_a_passkey_is_told_with_its_name(client, worker) -> None:
    email = new_email()
    person = await register(client, email)
    token = person["access_token"]
    passkey = await add_passkey(client, token, SoftAuthenticator(), name="Hall YubiKey")
    await worker.run_until_idle()
    (added,) = await notices_to(client, email)
    assert "A passkey (Hall YubiKey) was added" in added["body"] and added["token"]

    removed = await client.delete(f"/api/v1/profile/passkeys/{passkey['id']}", headers=auth(token))
    assert removed.status_code == 204, removed.text
    await worker.run_until_idle()
    told = await notices_to(client, email)
    assert len(told) == 2
    assert any("A passkey (Hall YubiKey) was removed" in n["body"] for n in told)


async def test_linking_and_unlinking_google_is_told_and_its_link_secures_the_account(
    social: Social,
) -> None:
    client, fake = social.client, social.fake
    worker = Worker(social.app.state.settings, social.app.state.databases)
    email = new_email()
    person = await register(client, email)
    token = person["access_token"]
    linked = await client.post(
        "/api/v1/profile/identities/google",
        json={"id_token": fake.id_token("google", f"g-{email}", nonce="n"), "nonce": "n"},
        headers=auth(token),
    )
    assert linked.status_code == 200, linked.text
    await worker.run_until_idle()
    (notice,) = await notices_to(client, email)
    assert "Your Google account was linked to your account" in notice["body"]
    assert "it unlinks this Google account from yours" in notice["body"]
    page = await client.get("/wasnt-me", params={"token": notice["token"]})
    assert "press the button: it unlinks this Google account from yours" in page.text

    # Not the owner: the link in the notice ends the session that linked it, and the link.
    secured = await client.post("/api/v1/auth/wasnt-me", json={"token": notice["token"]})
    assert secured.status_code == 200, secured.text
    assert await profile_status(client, token) == 401
    again = (await login(client, email)).json()["access_token"]
    listed = await client.get("/api/v1/profile/identities", headers=auth(again))
    assert listed.json()["items"] == []
    assert (
        "identity.unlinked",
        {"user_id": person["user"]["id"], "provider": "google", "reason": "not_me"},
    ) in await events_of(social.app, "identity.")
    google = await client.post(
        "/api/v1/auth/oauth/google",
        json={"id_token": fake.id_token("google", f"g-{email}", nonce="n"), "nonce": "n"},
        headers=US,
    )
    assert google.json().get("user", {}).get("id") != person["user"]["id"]  # not into this one

    relinked = await client.post(
        "/api/v1/profile/identities/google",
        json={"id_token": fake.id_token("google", f"g2-{email}", nonce="n"), "nonce": "n"},
        headers=auth(again),
    )
    assert relinked.status_code == 200, relinked.text
    unlinked = await client.delete("/api/v1/profile/identities/google", headers=auth(again))
    assert unlinked.status_code == 204, unlinked.text
    await worker.run_until_idle()
    assert any(
        "Your Google account was unlinked" in n["body"] for n in await notices_to(client, email)
    )


async def test_a_new_account_made_by_google_sign_in_is_not_told_it_was_linked(
    social: Social,
) -> None:
    client, fake = social.client, social.fake
    worker = Worker(social.app.state.settings, social.app.state.databases)
    email = new_email()
    made = await client.post(
        "/api/v1/auth/oauth/google",
        json={
            "id_token": fake.id_token("google", f"g-{email}", email=email, nonce="n"),
            "nonce": "n",
        },
        headers=US,
    )
    assert made.status_code == 200, made.text
    await worker.run_until_idle()
    assert await notices_to(client, email) == []


async def test_this_wasnt_me_removes_the_attackers_passkey(app, client, worker) -> None:
    email = new_email()
    victim = await register(client, email)
    stolen = victim["access_token"]  # the attacker holds the victim's session
    attackers = SoftAuthenticator()
    passkey = await add_passkey(client, stolen, attackers, name="Not mine")
    await worker.run_until_idle()
    (notice,) = await notices_to(client, email)
    assert "it removes this passkey from your account, signs your account out" in notice["body"]
    page = await client.get("/wasnt-me", params={"token": notice["token"]})  # the link's page
    assert "press the button: it removes this passkey from your account" in page.text

    secured = await client.post("/api/v1/auth/wasnt-me", json={"token": notice["token"]})
    assert secured.status_code == 200, secured.text
    assert await profile_status(client, stolen) == 401
    refused = await passkey_sign_in(client, attackers)
    assert refused.status_code >= 400 and "access_token" not in refused.text
    back = (await login(client, email)).json()["access_token"]
    listed = await client.get("/api/v1/profile/passkeys", headers=auth(back))
    assert listed.json()["items"] == []
    removed = [p for t, p in await events_of(app, "passkey.removed")]
    assert removed == [
        {"user_id": victim["user"]["id"], "passkey_id": passkey["id"], "reason": "not_me"}
    ]

    again = await client.post("/api/v1/auth/wasnt-me", json={"token": notice["token"]})
    assert_problem(again, 400, "notice.link_invalid")
    assert await profile_status(client, back) == 200  # the used link changed nothing
    assert [p for t, p in await events_of(app, "passkey.removed")] == removed


async def test_this_wasnt_me_removes_the_attackers_authenticator_app(app, client, worker) -> None:
    email = new_email()
    victim = await register(client, email)
    stolen = victim["access_token"]
    await enrol_totp(client, stolen)  # would lock the owner out of her own sign-in
    await worker.run_until_idle()
    (notice,) = await notices_to(client, email)
    assert "it removes this authenticator app and its recovery codes" in notice["body"]

    secured = await client.post("/api/v1/auth/wasnt-me", json={"token": notice["token"]})
    assert secured.status_code == 200, secured.text
    assert await profile_status(client, stolen) == 401
    signed = await login(client, email)  # no second step any more
    assert signed.status_code == 200 and "access_token" in signed.json(), signed.text
    status = await client.get("/api/v1/profile/mfa", headers=auth(signed.json()["access_token"]))
    assert status.json()["totp_enabled"] is False
    assert status.json()["recovery_codes_remaining"] == 0
    assert await events_of(app, "second_factor.removed") == [
        (
            "second_factor.removed",
            {"user_id": victim["user"]["id"], "factor": "totp", "reason": "not_me"},
        )
    ]
    assert_problem(
        await client.post("/api/v1/auth/wasnt-me", json={"token": notice["token"]}),
        400,
        "notice.link_invalid",
    )


async def test_this_wasnt_me_still_ends_the_sessions_when_the_way_in_is_gone(
    app, client, worker
) -> None:
    email = new_email()
    victim = await register(client, email)
    token = victim["access_token"]
    passkey = await add_passkey(client, token, SoftAuthenticator())
    await worker.run_until_idle()
    (notice,) = await notices_to(client, email)
    dropped = await client.delete(f"/api/v1/profile/passkeys/{passkey['id']}", headers=auth(token))
    assert dropped.status_code == 204, dropped.text

    secured = await client.post("/api/v1/auth/wasnt-me", json={"token": notice["token"]})
    assert secured.status_code == 200, secured.text
    assert secured.json()["sessions_revoked"] == 1
    assert await profile_status(client, token) == 401
    assert [p["reason"] for _, p in await events_of(app, "passkey.removed")] == ["removed_by_user"]


@pytest.mark.parametrize(
    ("kind", "label", "russian"),
    [
        ("second_factor_added", "authenticator app", "приложение-аутентификатор"),
        ("second_factor_removed", "reset by the shop", "сброшен магазином"),
    ],
)
def test_a_russian_notice_names_the_second_factor_in_russian(
    kind: str, label: str, russian: str
) -> None:
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    text = render(kind, "ru", {"device": label}, at=at, link="https://x/wasnt-me", hours=24)
    assert f"второй шаг входа ({russian})" in text.body and label not in text.body
    assert label not in text.short
    english = render(kind, "en", {"device": label}, at=at, link="https://x/wasnt-me", hours=24)
    assert f"({label})" in english.body


def test_every_notice_kind_has_its_text_in_every_language() -> None:
    assert {kind: sorted(texts) for kind, texts in KINDS.items()} == {
        kind: sorted(LANGUAGES) for kind in KINDS
    }
    assert {"recovery_code_used", "recovery_codes_replaced"} <= set(KINDS)


async def test_a_used_recovery_code_is_mailed_with_the_codes_left_and_its_link_works(
    make_settings, tmp_path
) -> None:
    smtp = SmtpServer(tmp_path).start()
    settings = make_settings(email=smtp.settings())
    app = create_app(settings)
    try:
        async with http_client(app) as client:
            worker = Worker(settings, app.state.databases)
            email = new_email()
            person = await register(client, email)
            _, codes = await enrol_totp(client, person["access_token"])
            asked = (await login(client, email)).json()
            signed = await client.post(
                "/api/v1/auth/mfa/verify",
                json={"mfa_token": asked["mfa_token"], "recovery_code": codes[0]},
                headers=US,
            )
            assert signed.status_code == 200, signed.text
            await worker.run_until_idle()
            await smtp.wait_for(2)
            (mail,) = [m for m in smtp.inbox.messages if m["Subject"] == "A recovery code was used"]
            assert mail["To"] == email
            body = mail.get_payload(decode=True).decode()
            assert "One of your recovery codes was used to sign in or confirm it was you" in body
            assert "Recovery codes left: 9." in body
            assert "it signs your account out everywhere" in body
            found = re.search(r"token=([a-z]{2,8}\.[A-Za-z0-9_-]{43})", body)
            assert found, body

            # Not the owner: the link ends the session the code opened, and the others.
            secured = await client.post("/api/v1/auth/wasnt-me", json={"token": found.group(1)})
            assert secured.status_code == 200, secured.text
            assert secured.json()["sessions_revoked"] == 2
            assert await profile_status(client, signed.json()["access_token"]) == 401
    finally:
        smtp.stop()
        await app.state.databases.dispose()


async def test_new_recovery_codes_are_told_in_the_markets_language(client, worker) -> None:
    email = new_email()
    person = await register(client, email, market="kg")
    token = person["access_token"]
    await enrol_totp(client, token, market="kg")
    replaced = await client.post("/api/v1/profile/mfa/recovery-codes", headers=auth(token, "kg"))
    assert replaced.status_code == 200, replaced.text
    await worker.run_until_idle()
    told = await notices_to(client, email, "kg")
    (notice,) = [n for n in told if "Для вашего аккаунта созданы новые" in n["body"]]
    assert "Для вашего аккаунта созданы новые резервные коды" in notice["body"]
    assert "старые больше не действуют" in notice["body"]
    assert "все сеансы вашего аккаунта будут завершены" in notice["body"]
    added = next(n for n in told if n is not notice)
    removes_the_app = "приложение-аутентификатор и его резервные коды будут удалены"  # noqa: RUF001
    assert removes_the_app in added["body"]
