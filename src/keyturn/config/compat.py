"""The seed-shaped APIs that `KEYTURN_COMPAT` switches on."""

from __future__ import annotations

from pydantic import BaseModel

# Seed-shaped APIs that `KEYTURN_COMPAT` can switch on (docs/compat-jobpsych.md and
# docs/migrating-from-the-seed-systems.md).
COMPAT_NAMES = ("jobpsych", "mobile-v0")


class JobPsychSettings(BaseModel):
    """The JobPsych-compatible API (`KEYTURN_COMPAT` includes `jobpsych`)."""

    # The market its users live in; default: the default market.
    market: str | None = None
    # Addresses (after trusted-proxy resolution) allowed to read and increment any user's
    # upload count by email, as the analysis service does; a user's own token always may.
    service_ips: list[str] = []
