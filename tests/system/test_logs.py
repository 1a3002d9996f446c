import json

import pytest

from keyturn.logs import configure_logging, get_logger, mask_email, mask_personal, mask_phone


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


def test_a_logged_database_error_does_not_quote_the_row(capfd) -> None:
    """PostgreSQL's DETAIL line quotes the conflicting row: tracebacks leave it out, and an
    address quoted anywhere else in a message is masked."""
    configure_logging("INFO")

    class UniqueViolation(Exception):
        pass

    try:
        raise UniqueViolation(
            'duplicate key value violates unique constraint "uq_users_email" (bob@example.com)\n'
            "DETAIL:  Key (email)=(alice@example.com) already exists."
        )
    except UniqueViolation:
        get_logger("t").exception("unhandled_error")
    logged = capfd.readouterr().err
    assert "UniqueViolation" in logged and "uq_users_email" in logged
    assert "alice@example.com" not in logged and "Key (email)" not in logged
    assert "bob@example.com" not in logged and "b***@example.com" in logged


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("/lookup/%2B13128059851?x=1", "/lookup/+1312*****51?x=1"),
        ("to alice%40example.com now", "to a***@example.com now"),
        ("Key exists\nDETAIL:  Key (phone)=(1) already exists.", "Key exists"),
        ("nothing personal: order 1234567", "nothing personal: order 1234567"),
    ],
)
def test_free_text_is_masked(text: str, masked: str) -> None:
    assert mask_personal(text) == masked
