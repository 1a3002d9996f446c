"""The SMS cost firewall: every code we send costs money, so sending is budgeted per phone,
per client IP, per country and globally (limits in `Settings.otp`). The 60-second resend
cooldown lives with the challenge (`auth.otp`)."""

from keyturn.config import Settings
from keyturn.ratelimit import Limit, RateLimiter


async def spend_sms_budget(
    limiter: RateLimiter, settings: Settings, *, phone: str, region: str, ip: str | None
) -> None:
    otp = settings.otp
    await limiter.hit(
        Limit("phone", otp.per_phone, ("sms-phone", phone)),
        Limit("ip", otp.per_ip, ("sms-ip", ip or "unknown")),
        Limit("country", otp.per_country, ("sms-country", region or "unknown")),
        Limit("global", otp.global_daily, ("sms-global",)),
        detail="Too many verification codes requested; try again later.",
    )


async def spend_verify_budget(limiter: RateLimiter, settings: Settings, *, ip: str | None) -> None:
    """Code guessing across many phones from one client."""
    await limiter.hit(
        Limit("ip", settings.otp.verify_per_ip, ("otp-verify-ip", ip or "unknown")),
        detail="Too many verification attempts; try again later.",
    )
