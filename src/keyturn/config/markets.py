"""A market: its currency, language, country, the countries it texts, its database."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class MarketConfig(BaseModel):
    code: str = Field(pattern=r"^[a-z]{2,8}$")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    language: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    # Countries (ISO 3166 alpha-2) whose numbers may receive SMS codes (SMS-pumping defence,
    # docs/sms-firewall.md). Unset: the market's own country only; `[]`: any country.
    sms_countries: list[str] | None = None
    database_url: str | None = None

    @model_validator(mode="after")
    def _own_country_by_default(self) -> MarketConfig:
        if self.sms_countries is None:
            self.sms_countries = [self.country]
        return self


DEFAULT_MARKETS = [
    MarketConfig(code="kg", currency="KGS", language="ru", country="KG"),  # +996
    # +1 is shared by 25 countries; the Caribbean ones are classic SMS-pumping destinations.
    MarketConfig(
        code="us", currency="USD", language="en", country="US", sms_countries=["US", "CA"]
    ),
]
