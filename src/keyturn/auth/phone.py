"""Phone numbers: parsing to E.164 and the per-market country rules."""

from __future__ import annotations

import phonenumbers

from keyturn.config import MarketConfig
from keyturn.errors import Invalid


class InvalidPhone(Invalid):
    """The phone number cannot be parsed or is not a valid number."""

    code = "phone.invalid"


class PhoneCountryNotAllowed(Invalid):
    """This market does not send SMS to the number's country (SMS-pumping defence)."""

    code = "phone.country_not_allowed"


def normalize(raw: str, market: MarketConfig) -> tuple[str, str]:
    """E.164 and ISO country of `raw`; numbers without `+` are read in the market's country."""
    try:
        parsed = phonenumbers.parse(raw, market.country)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(
            "Not a phone number; send it in international format, e.g. +13125550100."
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone("Not a valid phone number.")
    region = phonenumbers.region_code_for_number(parsed) or ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), region


def check_country(region: str, market: MarketConfig) -> None:
    if market.sms_countries and region not in market.sms_countries:
        raise PhoneCountryNotAllowed(
            "This service does not send codes to that country.", allowed=market.sms_countries
        )
