"""Every rate limit a way in spends, built once (`create_app`) from the limiter and the rules
in `Settings` (`otp`, `login`, `guests`, `passkeys`); a service calls the one it needs.

The SMS cost firewall (docs/sms-firewall.md): every code we send costs money, so sending is
budgeted per phone, per client address, per country and globally; guessing codes is bounded
per client address. The 60-second resend cooldown lives with the challenge (`auth.phone.otp`).

Password guessing (docs/passwords-and-browser-sessions.md): only failures count against a
person, so nobody is throttled for signing in often:
- per account, short window (default 5 per 15 minutes), so an attacker cannot keep the
  owner out for long. Each attempt takes a slot atomically *before* the password is checked
  (parallel guesses cannot slip past the limit) and a success clears the account's window,
  which leaves exactly the failures counted;
- per client IP (`login.failures_per_ip`; spraying many accounts): tested before the check,
  counted on failure.
Unknown emails count exactly like known ones, so a 429 reveals nothing.

Wrong second-factor codes are counted on the factor's row instead (`auth.mfa.throttle`).
"""

from __future__ import annotations

from contextlib import suppress

from keyturn import metrics
from keyturn.config import Settings
from keyturn.errors import TooManyRequests
from keyturn.ratelimit import Limit, RateLimiter


class LoginThrottled(TooManyRequests):
    """Too many failed sign-ins for this account or from this address; wait Retry-After."""

    code = "auth.login_throttled"


def _login_throttled(limit: str, wait: int) -> LoginThrottled:
    """The refusal to raise (and count: every caller raises it)."""
    metrics.rate_limited(f"login-{limit}")
    return LoginThrottled(
        "Too many failed sign-in attempts; try again later.", retry_after=wait, limit=limit
    )


def _account_key(market: str, account: str) -> tuple[str, ...]:
    return ("login-account", market, account)


def _ip_key(ip: str | None) -> tuple[str, ...]:
    return ("login-ip", ip or "unknown")


class Throttles:
    def __init__(self, limiter: RateLimiter, settings: Settings) -> None:
        self.limiter = limiter
        self._otp = settings.otp
        self._login = settings.login
        self._guests = settings.guests
        self._passkeys = settings.passkeys

    # SMS codes ------------------------------------------------------------------------------

    async def sms_sent(self, *, phone: str, region: str, ip: str | None) -> None:
        """Spend the SMS budget of one code sent (429 naming the exhausted `limit`)."""
        otp = self._otp
        await self.limiter.hit(
            Limit("phone", otp.per_phone, ("sms-phone", phone)),
            Limit("ip", otp.per_ip, ("sms-ip", ip or "unknown")),
            Limit("country", otp.per_country, ("sms-country", region or "unknown")),
            Limit("global", otp.global_daily, ("sms-global",)),
            detail="Too many verification codes requested; try again later.",
        )

    async def code_guess(self, *, ip: str | None) -> None:
        """Code guessing across many phones from one client."""
        await self.limiter.hit(
            Limit("ip", self._otp.verify_per_ip, ("otp-verify-ip", ip or "unknown")),
            detail="Too many verification attempts; try again later.",
        )

    # Passwords ------------------------------------------------------------------------------

    async def login_attempt(self, *, market: str, account: str, ip: str | None) -> None:
        """Refuse (429) while the IP or the account is throttled, else take the account's
        slot."""
        wait = await self.limiter.blocked_for(self._login.failures_per_ip, *_ip_key(ip))
        if wait:
            raise _login_throttled("ip", wait)
        rules, key = self._login.failures_per_account, _account_key(market, account)
        if not await self.limiter.take(rules, *key):
            wait = await self.limiter.blocked_for(rules, *key)
            raise _login_throttled("account", max(1, wait))

    async def login_failed(self, *, ip: str | None) -> None:
        """Count a failure against the IP (the account's slot is already taken). If a
        concurrent failure already filled the window, this one is not counted twice: the next
        attempt gets the 429."""
        with suppress(TooManyRequests):
            await self.limiter.hit(
                Limit("ip", self._login.failures_per_ip, _ip_key(ip)),
                detail="Too many failed sign-in attempts.",
            )

    async def login_succeeded(self, *, market: str, account: str) -> None:
        """A success (or a reset) gives the owner a clean account window."""
        await self.limiter.clear(self._login.failures_per_account, *_account_key(market, account))

    async def registration(self, *, ip: str | None) -> None:
        await self.limiter.hit(
            Limit("ip", self._login.register_per_ip, ("register-ip", ip or "unknown")),
            detail="Too many accounts created from this address; try again later.",
        )

    async def reset_requested(self, *, market: str, email: str, ip: str | None) -> None:
        await self.limiter.hit(
            Limit("email", self._login.forgot_per_email, ("forgot-email", market, email)),
            Limit("ip", self._login.forgot_per_ip, ("forgot-ip", ip or "unknown")),
            detail="Too many reset requests; try again later.",
        )

    async def email_code(self, *, user_id: int, market: str, email: str, ip: str | None) -> None:
        """A code sent to prove an email address for an account."""
        login = self._login
        await self.limiter.hit(
            Limit("account", login.link_email_per_account, ("link-email-account", str(user_id))),
            Limit("address", login.link_email_per_address, ("link-email-address", market, email)),
            Limit("ip", login.link_email_per_ip, ("link-email-ip", ip or "unknown")),
            detail="Too many email codes requested; try again later.",
        )

    # Guests and passkeys --------------------------------------------------------------------

    async def guest(self, *, ip: str | None) -> None:
        await self.limiter.hit(
            Limit("ip", self._guests.per_ip, ("guest-ip", ip or "unknown")),
            detail="Too many guest sessions from this address; try again later.",
        )

    async def passkey_options(self, *, ip: str | None) -> None:
        await self.limiter.hit(
            Limit("ip", self._passkeys.login_options_per_ip, ("passkey-options", ip or "unknown")),
            detail="Too many passkey sign-in attempts from this address; try again later.",
        )
