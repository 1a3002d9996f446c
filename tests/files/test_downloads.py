"""Reading files back: exact bytes as a safe attachment, paging, deleting — owner only."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.factories import auth, sign_in, upload
from tests.files import samples
from tests.problems import assert_problem


async def test_download_returns_the_exact_bytes_as_a_nosniff_attachment(
    client: httpx.AsyncClient,
) -> None:
    token = (await sign_in(client))["access_token"]
    content = samples.PNG + bytes(range(256)) * 600  # > one 64 KiB chunk
    name = "C:\\Users\\me\\my photo;1.png"
    created = (await upload(client, token, content, name, "image/png")).json()

    r = await client.get(f"/api/v1/files/{created['id']}/content", headers=auth(token))
    assert r.status_code == 200
    assert r.content == content
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-length"] == str(len(content))
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"] == (
        "attachment; filename=\"my photo_1.png\"; filename*=UTF-8''my%20photo%3B1.png"
    )


async def test_text_download_names_its_charset_and_keeps_a_unicode_name(
    client: httpx.AsyncClient,
) -> None:
    token = (await sign_in(client))["access_token"]
    created = (await upload(client, token, samples.TEXT, "резюме.txt", "text/plain")).json()
    r = await client.get(f"/api/v1/files/{created['id']}/content", headers=auth(token))
    assert r.content == samples.TEXT
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="______.txt"')
    assert (
        "filename*=UTF-8''%D1%80%D0%B5%D0%B7%D1%8E%D0%BC%D0%B5.txt"
        in (r.headers["content-disposition"])
    )


async def test_files_list_is_paginated_newest_first(client: httpx.AsyncClient) -> None:
    token = (await sign_in(client))["access_token"]
    ids = [(await upload(client, token, samples.PDF, f"cv-{i}.pdf")).json()["id"] for i in range(5)]

    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/files", params=params, headers=auth(token))).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)


@pytest.mark.parametrize("storage_kind", ["local"])
@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"cursor": "x"}])
async def test_bad_paging_is_a_422_problem(client: httpx.AsyncClient, params: dict) -> None:
    token = (await sign_in(client))["access_token"]
    r = await client.get("/api/v1/files", params=params, headers=auth(token))
    assert_problem(r, 422, "request.invalid")


async def test_another_users_file_is_a_404_everywhere(
    client: httpx.AsyncClient, stored_objects: Callable[[], list[str]]
) -> None:
    owner = (await sign_in(client))["access_token"]
    other = (await sign_in(client))["access_token"]
    file_id = (await upload(client, owner)).json()["id"]

    for method, path in [
        ("GET", f"/api/v1/files/{file_id}"),
        ("GET", f"/api/v1/files/{file_id}/content"),
        ("DELETE", f"/api/v1/files/{file_id}"),
    ]:
        r = await client.request(method, path, headers=auth(other))
        assert_problem(r, 404, "not_found")
    listing = await client.get("/api/v1/files", headers=auth(other))
    assert listing.json() == {"items": [], "next_cursor": None}

    mine = await client.get(f"/api/v1/files/{file_id}", headers=auth(owner))
    assert mine.status_code == 200 and mine.json()["id"] == file_id
    assert len(stored_objects()) == 1


async def test_deleted_file_is_gone_but_its_upload_unit_stays_used(
    client: httpx.AsyncClient, stored_objects: Callable[[], list[str]]
) -> None:
    token = (await sign_in(client))["access_token"]
    file_id = (await upload(client, token)).json()["id"]

    r = await client.delete(f"/api/v1/files/{file_id}", headers=auth(token))
    assert r.status_code == 204
    assert_problem(
        await client.get(f"/api/v1/files/{file_id}", headers=auth(token)), 404, "not_found"
    )
    assert_problem(
        await client.delete(f"/api/v1/files/{file_id}", headers=auth(token)), 404, "not_found"
    )
    assert stored_objects() == []
    usage = (await client.get("/api/v1/usage", headers=auth(token))).json()["counters"]
    assert next(c for c in usage if c["name"] == "uploads")["used"] == 1
