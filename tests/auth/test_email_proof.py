"""An email counts only once its owner proved the mailbox (DESIGN §13, docs/email-proof.md).

The attacks of issue 10 item 2, performed over HTTP: planting someone's address on your own
account so their later sign-up lands in it, and registering their address yourself to keep a
phone inside it after they take it back. And item 11: `link/email` must not tell which
addresses have accounts.
"""

from typing import Any

import httpx
from fastapi import FastAPI

from tests.factories import (
    STRONG_PASSWORD,
    add_passkey,
    auth,
    enrol_totp,
    latest_code,
    login,
    new_email,
    new_phone,
    passkey_sign_in,
    register,
    sign_in,
)
from tests.harness.authenticator import SoftAuthenticator
from tests.problems import assert_problem

US = {"X-Market": "us"}
ATTACKER_PASSWORD = "attacker 🦹 passphrase"
NEW_PASSWORD = "fresh start 🌱 today"
HOME = {
    "full_name": "Victim Person",
    "phone": "+13125550123",
    "line1": "1 Main St",
    "city": "Chicago",
    "region": "IL",
    "postal_code": "60601",
    "country": "US",
}


async def claim_email(
    client: httpx.AsyncClient, token: str, email: str, password: str = STRONG_PASSWORD
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/link/email", json={"email": email, "password": password}, headers=auth(token)
    )


async def answer_proof(client: httpx.AsyncClient, token: str, code: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/link/email/verify", json={"code": code}, headers=auth(token)
    )


async def mailbox(client: httpx.AsyncClient, email: str) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/dev/outbox", params={"to": email}, headers=US)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def mailed_code(client: httpx.AsyncClient, email: str) -> str:
    [newest, *_] = await mailbox(client, email)
    assert newest["kind"] == "email_proof" and newest["code"] in newest["body"], newest
    return str(newest["code"])


async def profile(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/profile", headers=auth(token))


async def reset_by_mail(client: httpx.AsyncClient, email: str) -> httpx.Response:
    """What the mailbox owner does: forgot → the emailed token → a new password."""
    asked = await client.post("/api/v1/auth/password/forgot", json={"email": email}, headers=US)
    assert asked.status_code == 202, asked.text
    [newest, *_] = await mailbox(client, email)
    assert newest["kind"] == "password_reset", newest
    return await client.post(
        "/api/v1/auth/password/reset",
        json={"token": newest["token"], "new_password": NEW_PASSWORD},
        headers=US,
    )


async def link_phone(client: httpx.AsyncClient, token: str, phone: str) -> None:
    sent = await client.post(
        "/api/v1/auth/link/phone/send", json={"phone": phone}, headers=auth(token)
    )
    assert sent.status_code == 200, sent.text
    verified = await client.post(
        "/api/v1/auth/link/phone/verify",
        json={"phone": phone, "verification_code": await latest_code(client, phone)},
        headers=auth(token),
    )
    assert verified.status_code == 200, verified.text


async def test_an_email_a_stranger_claims_never_reaches_the_mailbox_owners_account(
    client: httpx.AsyncClient,
) -> None:
    """The attack chain of item 2; it must fail at its first step that matters."""
    attacker_phone = new_phone()
    attacker = await sign_in(client, attacker_phone)
    victim_email = new_email()

    # 1. The attacker claims the victim's address: a proof goes to the victim's mailbox and
    #    nothing is attached to the attacker's account.
    claim = await claim_email(client, attacker["access_token"], victim_email, ATTACKER_PASSWORD)
    assert claim.status_code == 202, claim.text
    mine = (await profile(client, attacker["access_token"])).json()
    assert mine["email"] is None and mine["email_verified"] is False
    assert (await login(client, victim_email, ATTACKER_PASSWORD)).status_code == 401
    assert (await mailbox(client, victim_email))[0]["kind"] == "email_proof"

    # 2. The claim does not block the victim's sign-up: a new account of their own.
    victim = await register(client, victim_email)
    assert victim["user"]["id"] != attacker["user"]["id"]
    assert victim["user"]["phone_number"] is None

    # 3. The victim resets and signs in: still their own account, no attacker phone inside.
    assert (await reset_by_mail(client, victim_email)).status_code == 200
    signed = await login(client, victim_email, NEW_PASSWORD)
    assert signed.status_code == 200, signed.text
    assert signed.json()["user"]["id"] == victim["user"]["id"]
    assert signed.json()["user"]["phone_number"] is None
    victim_token = signed.json()["access_token"]
    saved = await client.post("/api/v1/profile/addresses", json=HOME, headers=auth(victim_token))
    assert saved.status_code == 201, saved.text

    # 4. The attacker's phone reaches only the attacker's account, which sees nothing of hers.
    again = await sign_in(client, attacker_phone)
    assert again["user"]["id"] == attacker["user"]["id"] and again["user"]["email"] is None
    theirs = await client.get("/api/v1/profile/addresses", headers=auth(again["access_token"]))
    assert theirs.json()["items"] == []

    # 5. The attacker cannot finish the claim without the code in her mailbox.
    for guess in ("000000", "123456", "999999"):
        refused = await answer_proof(client, again["access_token"], guess)
        assert_problem(refused, 400, "email.code_invalid")
    assert (await profile(client, again["access_token"])).json()["email"] is None


async def test_stranger_who_registered_your_email_and_added_a_phone_keeps_nothing_after_your_reset(
    client: httpx.AsyncClient,
) -> None:
    """The variant of item 2: the attacker registers the victim's address with a password of
    their own (allowed: nobody proved it yet) and adds their phone and a passkey."""
    victim_email = new_email()
    attacker_phone = new_phone()
    planted = await register(client, victim_email, ATTACKER_PASSWORD)
    await link_phone(client, planted["access_token"], attacker_phone)
    attackers_passkey = SoftAuthenticator()
    await add_passkey(client, planted["access_token"], attackers_passkey)
    second_device = await sign_in(client, attacker_phone)
    assert second_device["user"]["id"] == planted["user"]["id"]
    assert (await passkey_sign_in(client, attackers_passkey)).status_code == 200

    # The victim's sign-up is refused (the address has an account); the answer says how to
    # take it back.
    refused = await client.post(
        "/api/v1/auth/register",
        json={"email": victim_email, "password": STRONG_PASSWORD},
        headers=US,
    )
    taken = assert_problem(refused, 409, "account.email_taken")

    # The reset proves the mailbox: every session ends and every way in that the attacker
    # added before that proof is gone.
    done = await reset_by_mail(client, victim_email)
    assert done.status_code == 200, done.text
    assert done.json()["sessions_revoked"] >= 2
    for stale in (planted, second_device):
        assert (await profile(client, stale["access_token"])).status_code == 401
        refresh = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": stale["refresh_token"]}, headers=US
        )
        assert refresh.status_code == 401
    assert (await login(client, victim_email, ATTACKER_PASSWORD)).status_code == 401

    by_passkey = await passkey_sign_in(client, attackers_passkey)
    assert_problem(by_passkey, 400, "passkey.not_recognized")
    by_phone = await sign_in(client, attacker_phone)
    assert by_phone["user"]["id"] != planted["user"]["id"]
    assert by_phone["is_new_user"] is True and by_phone["user"]["email"] is None

    signed = await login(client, victim_email, NEW_PASSWORD)
    assert signed.status_code == 200, signed.text
    mine = signed.json()["user"]
    assert mine["id"] == planted["user"]["id"]
    assert mine["phone_number"] is None and mine["is_verified"] is False
    assert mine["email_verified"] is True
    token = signed.json()["access_token"]
    passkeys = await client.get("/api/v1/profile/passkeys", headers=auth(token))
    assert passkeys.json()["items"] == []
    assert (
        await client.post("/api/v1/profile/addresses", json=HOME, headers=auth(token))
    ).status_code == 201
    theirs = await client.get("/api/v1/profile/addresses", headers=auth(by_phone["access_token"]))
    assert theirs.json()["items"] == []
    assert "reset" in taken["detail"]  # the refused sign-up said how to take the address back


async def test_stranger_who_registered_your_email_and_added_an_authenticator_app_keeps_nothing(
    client: httpx.AsyncClient,
) -> None:
    """Left in place, the attacker's app would stand between the victim and her own account
    after she takes the address back: every sign-in would ask for the attacker's code."""
    victim_email = new_email()
    planted = await register(client, victim_email, ATTACKER_PASSWORD)
    attacker_app, attacker_codes = await enrol_totp(client, planted["access_token"])

    done = await reset_by_mail(client, victim_email)
    assert done.status_code == 200, done.text

    signed = await login(client, victim_email, NEW_PASSWORD)
    assert signed.status_code == 200, signed.text
    assert "access_token" in signed.json() and "mfa_required" not in signed.json()
    status = await client.get("/api/v1/profile/mfa", headers=auth(signed.json()["access_token"]))
    assert status.json()["totp_enabled"] is False
    assert status.json()["recovery_codes_remaining"] == 0
    assert attacker_app.code() and attacker_codes


async def test_a_phone_user_adds_an_email_by_answering_the_code_sent_to_it(
    client: httpx.AsyncClient,
) -> None:
    phone = new_phone()
    by_phone = await sign_in(client, phone)
    email = new_email()
    claim = await claim_email(client, by_phone["access_token"], email)
    assert claim.status_code == 202, claim.text
    assert claim.json()["success"] is True and claim.json()["expires_in"] > 0
    assert email not in claim.text  # the answer is the same for every address

    proven = await answer_proof(client, by_phone["access_token"], await mailed_code(client, email))
    assert proven.status_code == 200, proven.text
    assert proven.json()["email"] == email and proven.json()["email_verified"] is True
    assert proven.json()["phone_number"] == phone

    by_email = await login(client, email)
    assert by_email.status_code == 200, by_email.text
    assert by_email.json()["user"]["id"] == by_phone["user"]["id"]
    reused = await answer_proof(client, by_phone["access_token"], await mailed_code(client, email))
    assert reused.status_code in (400, 409)

    # The address was proven when it was added, so a later reset keeps the phone.
    assert (await reset_by_mail(client, email)).status_code == 200
    after = await login(client, email, NEW_PASSWORD)
    assert after.json()["user"]["phone_number"] == phone
    assert (await sign_in(client, phone))["user"]["id"] == by_phone["user"]["id"]


async def test_wrong_email_codes_count_and_the_fifth_ends_the_claim(
    client: httpx.AsyncClient,
) -> None:
    signed = await sign_in(client)
    email = new_email()
    assert (await claim_email(client, signed["access_token"], email)).status_code == 202
    code = await mailed_code(client, email)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    remaining = []
    for _ in range(5):
        r = await answer_proof(client, signed["access_token"], wrong)
        remaining.append(assert_problem(r, 400, "email.code_invalid")["attempts_remaining"])
    assert remaining == [4, 3, 2, 1, 0]
    late = await answer_proof(client, signed["access_token"], code)
    assert_problem(late, 400, "email.code_invalid")
    assert (await profile(client, signed["access_token"])).json()["email"] is None


async def test_link_email_answers_the_same_whether_or_not_the_address_has_an_account(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Item 11: no 409-versus-2xx oracle for which addresses are registered."""
    taken = new_email()
    await register(client, taken, company="Owner Inc")
    prober = await sign_in(client)
    free = new_email()
    a = await claim_email(client, prober["access_token"], taken, ATTACKER_PASSWORD)
    b = await claim_email(client, prober["access_token"], free, ATTACKER_PASSWORD)
    assert (a.status_code, a.json()) == (b.status_code, b.json())
    assert a.status_code == 202
    # The owner of the taken address hears about it and gets no code; nothing changed.
    [notice] = await mailbox(client, taken)
    assert notice["kind"] == "email_in_use" and notice["code"] is None
    owner = await login(client, taken)
    assert owner.json()["user"]["company"] == "Owner Inc"
    assert (await login(client, taken, ATTACKER_PASSWORD)).status_code == 401
    assert (await profile(client, prober["access_token"])).json()["email"] is None
    # A bad password is refused the same way for both, before anything else.
    for address in (taken, free):
        weak = await claim_email(client, prober["access_token"], address, "password123")
        assert_problem(weak, 422, "password.weak")


async def test_link_email_is_throttled_per_account(client: httpx.AsyncClient) -> None:
    prober = await sign_in(client)
    answers = [
        (await claim_email(client, prober["access_token"], new_email())).status_code
        for _ in range(7)
    ]
    assert answers[:5] == [202] * 5
    assert answers[5:] == [429, 429]
    throttled = await claim_email(client, prober["access_token"], new_email())
    assert_problem(throttled, 429, "rate_limited")
    assert int(throttled.headers["retry-after"]) > 0


async def test_a_registrant_who_proves_their_email_keeps_their_phone_through_a_reset(
    client: httpx.AsyncClient,
) -> None:
    email = new_email()
    created = await register(client, email)
    assert created["user"]["email_verified"] is False
    sent = await client.post("/api/v1/auth/link/email/send", headers=auth(created["access_token"]))
    assert sent.status_code == 202, sent.text
    proven = await answer_proof(client, created["access_token"], await mailed_code(client, email))
    assert proven.status_code == 200, proven.text
    assert proven.json()["email_verified"] is True
    phone = new_phone()
    await link_phone(client, created["access_token"], phone)
    assert (await reset_by_mail(client, email)).status_code == 200
    after = await login(client, email, NEW_PASSWORD)
    assert after.json()["user"]["phone_number"] == phone


async def test_a_claim_answered_after_someone_registered_the_address_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    """Two claims of one address: the registration came first, so the proof cannot move it."""
    claimant = await sign_in(client)
    email = new_email()
    assert (await claim_email(client, claimant["access_token"], email)).status_code == 202
    code = await mailed_code(client, email)
    other = await register(client, email)
    late = await answer_proof(client, claimant["access_token"], code)
    assert_problem(late, 409, "account.email_taken")
    assert (await profile(client, claimant["access_token"])).json()["email"] is None
    assert (await profile(client, other["access_token"])).json()["email"] == email
