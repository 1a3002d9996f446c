import pytest

from tests.factories import auth, sign_in
from tests.problems import assert_problem


async def test_profile_changes_are_saved(client) -> None:
    signed = await sign_in(client)
    r = await client.patch(
        "/api/v1/profile",
        headers=auth(signed["access_token"]),
        json={
            "full_name": "Aida Sadykova",
            "company": "Bazar",
            "profile_image_url": "https://cdn.example.com/a.png",
            "language": "ky",
            "country": "KG",
        },
    )
    assert r.status_code == 200, r.text
    profile = (await client.get("/api/v1/profile", headers=auth(signed["access_token"]))).json()
    assert profile["full_name"] == "Aida Sadykova" and profile["company"] == "Bazar"
    assert profile["profile_image_url"] == "https://cdn.example.com/a.png"
    assert profile["language"] == "ky" and profile["country"] == "KG"


@pytest.mark.parametrize(
    "body",
    [
        {"role": "admin"},
        {"is_active": False},
        {"phone_number": "+13125550000"},
        {"full_name": ""},
        {"full_name": "x" * 201},
        {"profile_image_url": "javascript:alert(1)"},
        {"profile_image_url": "https://cdn.example.com/" + "a" * 2055},  # 2 079 characters
        {"profile_image_url": "https://cdn.example.com/" + "a b" * 600},  # 3 024 once encoded
        {"full_name": "Ada\x00"},
        {"company": "tab\tin a name"},
        {"country": "Kyrgyzstan"},
        {"full_name": 42},
    ],
)
async def test_bad_or_forbidden_profile_changes_are_422_and_change_nothing(client, body) -> None:
    signed = await sign_in(client)
    before = (await client.get("/api/v1/profile", headers=auth(signed["access_token"]))).json()
    r = await client.patch("/api/v1/profile", headers=auth(signed["access_token"]), json=body)
    assert_problem(r, 422, "request.invalid")
    after = (await client.get("/api/v1/profile", headers=auth(signed["access_token"]))).json()
    assert after == before


async def test_profile_needs_a_token(client) -> None:
    r = await client.get("/api/v1/profile")
    assert_problem(r, 401, "auth.unauthorized")
    assert r.headers["www-authenticate"].startswith("Bearer")
