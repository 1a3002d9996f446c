"""docs/events.md is what receivers code against: every type keyturn emits is documented, and
each documented example has exactly the fields keyturn really sends."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from keyturn.events import service as events
from keyturn.events.models import Event
from tests.factories import auth, emit_every_event_type, make_admin

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
SECRETS = re.compile(r"token|password|secret|code|hash|email|phone|name|address|ip\b", re.I)


def documented() -> dict[str, dict[str, Any]]:
    """Each `### \\`type\\`` section's JSON example."""
    sections = re.findall(
        r"^### `([a-z_.]+)`\n(.*?)(?=^### |^## |\Z)", DOC.read_text(), re.M | re.S
    )
    examples = {}
    for type_, body in sections:
        block = re.search(r"```json\n(.*?)\n```", body, re.S)
        assert block, f"{type_} has no example"
        examples[type_] = json.loads(block.group(1))
    return examples


@pytest.fixture
def settings(make_settings, providers):
    return make_settings(usage={"limits": {"uploads": 1}}, oauth=providers.settings())


def test_every_type_is_documented_with_an_example() -> None:
    assert set(documented()) == set(events.TYPES)


async def test_the_examples_have_the_fields_keyturn_sends(app, client, providers) -> None:
    admin = auth((await make_admin(app, client))["access_token"], "us")
    await emit_every_event_type(app, client, admin, providers)
    async with app.state.databases.session("us") as db:
        rows = (await db.scalars(select(Event).order_by(Event.id))).all()
    sent: dict[str, set[str]] = {}
    for row in rows:
        sent.setdefault(row.type, set()).update(row.payload)
    examples = documented()
    assert set(sent) == set(examples)
    for type_, fields in sent.items():
        assert fields == set(examples[type_]), type_
        # No field that would carry a secret or a contact detail (`sha256` of a file is neither).
        assert not [f for f in fields if SECRETS.search(f) and f != "sha256"], type_
