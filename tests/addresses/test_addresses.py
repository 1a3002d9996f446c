"""Saved addresses: validated, owner only, one default."""

from typing import Any

import httpx
import pytest

from tests.factories import auth, sign_in, start_guest
from tests.problems import assert_problem

HOME = {
    "label": "Home",
    "full_name": "Aida Bekova",
    "phone": "(312) 555-0199",
    "line1": "1 Main St",
    "city": "Chicago",
    "region": "IL",
    "postal_code": "60601",
    "country": "US",
}
WORK = {
    "full_name": "Aida Bekova",
    "phone": "+996 700 123 456",
    "line1": "Chui Ave 100",
    "city": "Bishkek",
    "country": "KG",
}


async def save(client: httpx.AsyncClient, token: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/api/v1/profile/addresses", json=body, headers=auth(token))


async def test_addresses_are_saved_changed_and_deleted(client: httpx.AsyncClient) -> None:
    token = (await sign_in(client))["access_token"]
    created = await save(client, token, HOME)
    assert created.status_code == 201, created.text
    home = created.json()
    assert home["phone"] == "+13125550199" and home["is_default"] is True
    assert home["line2"] is None

    work = (await save(client, token, WORK)).json()
    assert work["phone"] == "+996700123456" and work["is_default"] is False

    changed = await client.patch(
        f"/api/v1/profile/addresses/{work['id']}",
        json={"line2": "Office 5", "is_default": True},
        headers=auth(token),
    )
    assert changed.status_code == 200
    assert changed.json()["line2"] == "Office 5" and changed.json()["is_default"] is True
    listed = (await client.get("/api/v1/profile/addresses", headers=auth(token))).json()["items"]
    assert [(a["id"], a["is_default"]) for a in listed] == [(home["id"], False), (work["id"], True)]

    gone = await client.delete(f"/api/v1/profile/addresses/{work['id']}", headers=auth(token))
    assert gone.status_code == 204
    listed = (await client.get("/api/v1/profile/addresses", headers=auth(token))).json()["items"]
    assert [(a["id"], a["is_default"]) for a in listed] == [(home["id"], True)]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"full_name": ""}, "request.invalid"),
        ({"full_name": "x" * 10_240}, "request.invalid"),
        ({"line1": None}, "request.invalid"),
        ({"city": 5}, "request.invalid"),
        ({"country": "usa"}, "request.invalid"),
        ({"country": "us"}, "request.invalid"),
        ({"postal_code": "<script>"}, "request.invalid"),
        ({"is_default": "yes"}, "request.invalid"),
        ({"nickname": "x"}, "request.invalid"),
        ({"phone": "12"}, "request.invalid"),
        ({"phone": "555-0000-not-a-number"}, "addresses.phone_invalid"),
        ({"phone": "+1 312 555 019"}, "addresses.phone_invalid"),
    ],
)
async def test_bad_address_is_refused_with_a_code_and_nothing_saved(
    client: httpx.AsyncClient, change: dict[str, Any], code: str
) -> None:
    token = (await sign_in(client))["access_token"]
    home = (await save(client, token, HOME)).json()
    before = (await client.get("/api/v1/profile/addresses", headers=auth(token))).content

    assert_problem(await save(client, token, {**HOME, **change}), 422, code)
    assert_problem(
        await client.patch(
            f"/api/v1/profile/addresses/{home['id']}", json=change, headers=auth(token)
        ),
        422,
        code,
    )
    assert (await client.get("/api/v1/profile/addresses", headers=auth(token))).content == before


async def test_another_users_address_is_not_found_for_read_change_and_delete(
    client: httpx.AsyncClient,
) -> None:
    owner = (await sign_in(client))["access_token"]
    stranger = (await sign_in(client))["access_token"]
    home = (await save(client, owner, HOME)).json()
    url = f"/api/v1/profile/addresses/{home['id']}"

    assert_problem(await client.get(url, headers=auth(stranger)), 404, "addresses.not_found")
    assert_problem(
        await client.patch(url, json={"city": "Osh"}, headers=auth(stranger)),
        404,
        "addresses.not_found",
    )
    assert_problem(await client.delete(url, headers=auth(stranger)), 404, "addresses.not_found")
    assert (await client.get(url, headers=auth(owner))).json() == home
    assert (await client.get("/api/v1/profile/addresses", headers=auth(stranger))).json() == {
        "items": []
    }


async def test_guests_cannot_save_addresses(client: httpx.AsyncClient) -> None:
    guest = (await start_guest(client))["access_token"]
    assert_problem(await save(client, guest, HOME), 403, "addresses.sign_in_required")


async def test_an_account_keeps_at_most_twenty_addresses(client: httpx.AsyncClient) -> None:
    token = (await sign_in(client))["access_token"]
    for n in range(20):
        assert (await save(client, token, {**HOME, "label": f"#{n}"})).status_code == 201
    assert_problem(await save(client, token, HOME), 409, "addresses.limit_reached")


async def test_parallel_saves_keep_the_limit_and_one_default(client: httpx.AsyncClient) -> None:
    """30 saves at once, half asking to be the default: 20 are saved (on PostgreSQL through
    the pool, in parallel), the rest refused, and exactly one address is the default."""
    import asyncio

    token = (await sign_in(client))["access_token"]
    answers = await asyncio.gather(
        *(save(client, token, {**HOME, "is_default": i % 2 == 0}) for i in range(30))
    )
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] * 20 + [409] * 10, statuses
    for refused in (r for r in answers if r.status_code == 409):
        assert_problem(refused, 409, "addresses.limit_reached")
    saved = (await client.get("/api/v1/profile/addresses", headers=auth(token))).json()["items"]
    assert len(saved) == 20
    assert sum(a["is_default"] for a in saved) == 1

    # Making others the default at once still leaves exactly one.
    await asyncio.gather(
        *(
            client.patch(
                f"/api/v1/profile/addresses/{a['id']}",
                json={"is_default": True},
                headers=auth(token),
            )
            for a in saved
        )
    )
    saved = (await client.get("/api/v1/profile/addresses", headers=auth(token))).json()["items"]
    assert sum(a["is_default"] for a in saved) == 1
