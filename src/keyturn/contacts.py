"""Email addresses and phone numbers, normalised one way for every domain: sign-in, linking,
saved addresses, user imports and the admin CLI. Two spellings of one address or number are
one account, so this is the only place that decides what they become."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from keyturn.errors import Invalid


class InvalidEmail(Invalid):
    """The email address is not a valid address."""

    code = "email.invalid"


class InvalidPhone(Invalid):
    """The phone number cannot be parsed or is not a valid number."""

    code = "phone.invalid"


def normalize_email(raw: str) -> str:
    """The stored form: syntax-checked (no DNS), normalised and lower-cased. The error's
    `__cause__` is the validator's reason."""
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"Not a valid email address: {exc}") from exc
    return checked.normalized.lower()


def normalize_phone(raw: str, country: str) -> tuple[str, str]:
    """E.164 and ISO country of `raw`; a number without `+` is read in `country`."""
    try:
        parsed = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(
            "Not a phone number; send it in international format, e.g. +13125550100."
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone("Not a valid phone number.")
    region = phonenumbers.region_code_for_number(parsed) or ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), region


# Number types an SMS can reach. FIXED_LINE_OR_MOBILE: plans (US, CA) where landlines and
# mobiles share ranges. Premium-rate, toll-free, shared-cost, VoIP, pager and landline numbers
# are refused: texting them is at best wasted and at worst the SMS-pumping bill.
SMS_NUMBER_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def receives_sms(e164: str) -> bool:
    """Whether a normalised number is of a type that can receive an SMS."""
    return phonenumbers.number_type(phonenumbers.parse(e164)) in SMS_NUMBER_TYPES
