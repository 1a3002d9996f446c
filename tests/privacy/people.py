"""A person with something of everything keyturn holds, built over HTTP as an app would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, String, Text, cast, func, select

from keyturn.db import Base
from tests.factories import (
    add_passkey,
    add_to_cart,
    auth,
    latest_code,
    new_email,
    new_phone,
    open_shop,
    upload,
)
from tests.harness.authenticator import SoftAuthenticator
from tests.harness.oauth_provider import Social

US = {"X-Market": "us"}
NONCE = "nonce-of-this-sign-in"


@dataclass
class Person:
    user_id: int
    token: str
    refresh_token: str
    phone: str
    email: str
    name: str
    apple_sub: str
    street: str
    order_id: int
    order_total: str
    shop: dict[str, Any]


async def everything(social: Social) -> Person:
    """Apple sign-in (name, email, Apple refresh token), a linked phone, a passkey named after
    the person, an address, an order, a cart line, a wishlist item and an uploaded file."""
    fake, client = social.fake, social.client
    shop = await open_shop(social.app, client)
    tag = uuid.uuid4().hex[:8]
    phone, email, name = new_phone(), new_email(), f"Zebulon Quark{tag}"
    sub, street = f"001234.{tag}.0987", f"{tag} Secret Lane"
    signed = await client.post(
        "/api/v1/auth/oauth/apple",
        json={
            "id_token": fake.id_token(
                "apple", sub, email=email, email_verified="true", nonce=NONCE
            ),
            "nonce": NONCE,
            "full_name": name,
            "authorization_code": fake.authorization_code(sub),
            "device_name": f"{name}'s iPhone",
        },
        headers=US,
    )
    assert signed.status_code == 200, signed.text
    token = signed.json()["access_token"]
    sent = await client.post(
        "/api/v1/auth/link/phone/send", json={"phone": phone}, headers=auth(token)
    )
    assert sent.status_code == 200, sent.text
    linked = await client.post(
        "/api/v1/auth/link/phone/verify",
        json={"phone": phone, "verification_code": await latest_code(client, phone)},
        headers=auth(token),
    )
    assert linked.status_code == 200, linked.text
    await add_passkey(client, token, SoftAuthenticator(), name=f"{name}'s YubiKey")
    address = await client.post(
        "/api/v1/profile/addresses",
        json={"full_name": name, "phone": phone, "line1": street, "city": "Springfield",
              "postal_code": "62701", "country": "US"},
        headers=auth(token),
    )  # fmt: skip
    assert address.status_code == 201, address.text
    assert (await add_to_cart(client, token, shop["sku"], 2)).status_code in (200, 201)
    order = await client.post(
        "/api/v1/orders",
        json={"address_id": address.json()["id"], "note": f"Call {name} at {phone}"},
        headers=auth(token),
    )
    assert order.status_code == 201, order.text
    assert (await add_to_cart(client, token, shop["mug_sku"], 1)).status_code in (200, 201)
    wished = await client.post(
        "/api/v1/wishlist/items", json={"product_id": shop["mug"]}, headers=auth(token)
    )
    assert wished.status_code in (200, 201), wished.text
    uploaded = await upload(client, token, filename=f"{name} resume.pdf")
    assert uploaded.status_code == 201, uploaded.text
    return Person(
        user_id=signed.json()["user"]["id"],
        token=token,
        refresh_token=signed.json()["refresh_token"],
        phone=phone,
        email=email,
        name=name,
        apple_sub=sub,
        street=street,
        order_id=order.json()["id"],
        order_total=order.json()["total_amount"],
        shop=shop,
    )


async def find_everywhere(app: Any, needles: list[str], market: str = "us") -> list[str]:
    """`table.column: needle` for every text (or JSON) column of every table holding one."""
    hits = []
    async with app.state.databases.engines[market].connect() as conn:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, String | Text | JSON):
                    continue
                for needle in needles:
                    found = await conn.scalar(
                        select(func.count())
                        .select_from(table)
                        .where(cast(column, Text).contains(needle, autoescape=True))
                    )
                    if found:
                        hits.append(f"{table.name}.{column.name}: {needle}")
    return hits
