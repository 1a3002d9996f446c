"""Schemathesis drives every documented operation with generated input, schema-valid and
schema-violating, against the real server: whatever it sends, the answer is never a 5xx."""

import itertools
import subprocess

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.harness.server import KEYTURN, LiveServer

pytestmark = pytest.mark.slow

# Operations that would end the fuzzing session itself; they have their own tests.
SESSION_ENDING = r"^/api/v1/(auth/logout|auth/sessions/\{session_id\}|admin/users/.*/disable)$"
# Deleting the account (the fuzzer's own, or any by id) ends it too (tests/privacy).
ACCOUNT_DELETING = r"^/api/v1/(profile|admin/users/\{user_id\})$"
ADMIN_ENDING_SESSIONS = r"^/api/v1/admin/users/\{user_id\}/sessions"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    live = LiveServer(
        tmp_path_factory.mktemp("fuzz"),
        env={
            "KEYTURN_OTP__PER_IP": "100000/hour",
            "KEYTURN_OTP__VERIFY_PER_IP": "100000/minute",
            "KEYTURN_LOG_LEVEL": "WARNING",
            # Fuzzed webhook URLs are never contacted (delivery has its own tests).
            "KEYTURN_WORKER__IN_SERVE": "false",
        },
    ).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def admin_token(server: LiveServer) -> str:
    phone = "+13125550999"
    with httpx.Client(base_url=server.url, headers={"X-Market": "us"}) as http:
        subprocess.run(
            [str(KEYTURN), "create-admin", "--phone", phone, "--market", "us"],
            env={**server.env, "KEYTURN_DATA_DIR": str(server.data_dir)},
            check=True,
            capture_output=True,
            timeout=60,
        )
        http.post("/api/v1/auth/send-verification", json={"phone": phone})
        code = http.get("/api/v1/dev/outbox", params={"to": phone}).json()["items"][0]["code"]
        signed = http.post(
            "/api/v1/auth/verify-code", json={"phone": phone, "verification_code": code}
        ).json()
    assert signed["user"]["role"] == "admin"
    return str(signed["access_token"])


def test_no_operation_answers_5xx(server: LiveServer, admin_token: str) -> None:
    schema = (
        schemathesis.openapi.from_url(f"{server.url}/openapi.json")
        .exclude(path_regex=SESSION_ENDING)
        .exclude(method="DELETE", path_regex=ACCOUNT_DELETING)
        .exclude(path_regex=ADMIN_ENDING_SESSIONS, method="DELETE")
    )
    headers = {"Authorization": f"Bearer {admin_token}", "X-Market": "us"}
    checked = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation, mode in itertools.product(operations, GenerationMode):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def never_5xx(case) -> None:
            response = case.call(base_url=server.url, headers=headers, timeout=30)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} -> {response.status_code}: "
                f"{response.text[:300]}"
            )

        try:
            never_5xx()
        except Unsatisfiable:  # nothing to get wrong: an operation without input
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        checked += 1
    assert checked >= 90  # both modes for (almost) every operation
