"""The example downstream service and keyturn, both in-process, talking over real HTTP."""

import httpx

from examples.downstream_service.app import create_app
from keyturn.client import KeyturnVerifier
from tests.factories import auth, sign_in


async def test_signed_in_user_gets_recommendations_and_a_stranger_gets_401(app, client) -> None:
    verifier = KeyturnVerifier("http://keyturn.test", transport=httpx.ASGITransport(app=app))
    downstream = create_app(verifier)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=downstream), base_url="http://recommendations.test"
    ) as service:
        signed = await sign_in(client, market="kg")

        mine = await service.get("/recommendations", headers=auth(signed["access_token"]))
        anonymous = await service.get("/recommendations")
        garbage = await service.get("/recommendations", headers=auth("not.a.token"))

    assert mine.status_code == 200, mine.text
    assert mine.json()["user_id"] == signed["user"]["id"]
    assert mine.json()["market"] == "kg"
    assert mine.json()["items"]
    for refused in (anonymous, garbage):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
    await verifier.aclose()
