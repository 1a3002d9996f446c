"""Authenticator-app codes (RFC 6238 with pyotp: SHA-1, 6 digits, 30 s, what every app
reads) and the QR code an app scans (segno, as SVG)."""

from __future__ import annotations

import hmac
import io

import pyotp
import segno

from keyturn.db import utcnow

# Clock drift allowed between the phone and us, in time steps either side.
DRIFT_STEPS = 1


def new_secret() -> str:
    """160 random bits, base32 (RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


def otpauth_uri(secret: str, *, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """A standalone SVG document of the URI's QR code, ready for `<img src="data:...">`."""
    out = io.BytesIO()
    segno.make(uri, error="m", micro=False).save(
        out, kind="svg", scale=4, border=4, xmldecl=False, title="Scan with your authenticator app"
    )
    return out.getvalue().decode()


def matching_step(secret: str, code: str, *, after: int | None) -> int | None:
    """The time step whose code `code` is, within the allowed drift and later than `after`
    (the last step already used), else None. Every candidate is compared in constant time."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(utcnow())
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        right = hmac.compare_digest(totp.generate_otp(step), code)
        if right and (after is None or step > after) and found is None:
            found = step
    return found
