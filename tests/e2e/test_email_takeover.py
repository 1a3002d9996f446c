"""The two email-takeover attacks of issue 10 item 2, against the real `keyturn serve` (both
backends): the same steps as `tests/auth/test_email_proof.py`, over TCP."""

from collections.abc import Callable

import httpx
import pytest

from tests.auth import test_email_proof as attack
from tests.harness.server import LiveServer

pytestmark = pytest.mark.slow


async def test_email_takeover_attacks_fail_against_the_real_server(
    start_live_server: Callable[..., LiveServer],
) -> None:
    server = start_live_server()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        await attack.test_an_email_a_stranger_claims_never_reaches_the_mailbox_owners_account(http)
        await attack.test_stranger_who_registered_your_email_and_added_a_phone_keeps_nothing_after_your_reset(  # noqa: E501
            http
        )
    assert "Traceback" not in server.logs()
