import json

import pytest

from keyturn.logs import configure_logging, get_logger, mask_email, mask_phone


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("+13128059851", "+1312*****51"), ("+996700123456", "+9967******56"), ("", "")],
)
def test_phone_numbers_are_masked(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("alice@example.com", "a***@example.com"),
        ("Bob.Smith@Shop.KG", "B***@Shop.KG"),
        ("not-an-email", "n***"),
    ],
)
def test_emails_are_masked(email: str, masked: str) -> None:
    assert mask_email(email) == masked


def test_fields_named_like_secrets_never_reach_the_log(capfd) -> None:
    configure_logging("INFO")
    get_logger("t").info(
        "login",
        refresh_token="abc",
        password="hunter2",
        code="123456",
        phone=mask_phone("+13128059851"),
    )
    line = json.loads(capfd.readouterr().err.strip().splitlines()[-1])
    assert line["refresh_token"] == line["password"] == line["code"] == "[redacted]"
    assert line["phone"] == "+1312*****51"
