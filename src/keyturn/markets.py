"""Markets as a request needs them: each one's config and its database, resolved in one place.

A request's market is `X-Market`, else its bearer token's market, else the default market; a
token is only good in its own market. `Markets` is built once per app (`app.state.markets`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.config import MarketConfig, Settings
from keyturn.db import Databases
from keyturn.errors import Forbidden, UnknownMarket
from keyturn.reader import Reader


@dataclass(frozen=True)
class Market:
    """One market: its config (`currency`, `language`, ...) and its database."""

    config: MarketConfig
    databases: Databases

    @property
    def code(self) -> str:
        return self.config.code

    @property
    def currency(self) -> str:
        return self.config.currency

    def session(self) -> AsyncSession:
        """A database session for a use case (services commit once at the end)."""
        return self.databases.session(self.code)

    @property
    def reader(self) -> Reader:
        """Where a read that is a single statement runs (no transaction)."""
        return self.databases.readers[self.code]


class Markets:
    def __init__(self, settings: Settings, databases: Databases) -> None:
        self._by_code = {m.code: Market(m, databases) for m in settings.markets}
        self.codes = list(self._by_code)
        self.default = self._by_code[settings.default_market]

    def get(self, code: str | None) -> Market | None:
        return self._by_code.get(code) if code is not None else None

    def requested(self, x_market: str) -> Market:
        """The market an `X-Market` header names; an unknown one is a 400."""
        market = self._by_code.get(x_market.strip().lower())
        if market is None:
            raise UnknownMarket(f"Unknown market {x_market[:16]!r}.", markets=self.codes)
        return market

    def resolve(self, x_market: str | None, token_market: str | None) -> Market:
        """The request's market: `X-Market`, else the token's market, else the default."""
        if x_market is not None:
            return self.requested(x_market)
        return self._by_code.get(token_market or "", self.default)

    def of_token(self, token_market: str | None, requested: Market | None) -> Market | None:
        """A token's own market (None: not one of ours). A token is only good in its own
        market: a request naming another one is refused."""
        market = self.get(token_market)
        if market is not None and requested is not None:
            refuse_other_market(market.code, requested)
        return market


def refuse_other_market(token_market: str, market: Market) -> None:
    """A token is only good in the market it was issued in."""
    if token_market != market.code:
        raise Forbidden("This token belongs to another market.")
