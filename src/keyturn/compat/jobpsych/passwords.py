"""JobPsych password calls: forgot, reset (with the emailed token only), change."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.auth.password import reset
from keyturn.auth.password import service as password
from keyturn.auth.throttles import Throttles
from keyturn.compat.jobpsych import schemas as out
from keyturn.config import Settings
from keyturn.errors import Invalid
from keyturn.notify.email import Defer
from keyturn.sessions import live


class PasswordsDiffer(Invalid):
    """`newPassword` and `confirmPassword` are not the same."""

    code = "jobpsych.passwords_mismatch"


FORGOT = "If an account exists with this email, a password reset link has been sent"


async def forgot_password(
    db: AsyncSession,
    *,
    settings: Settings,
    throttles: Throttles,
    market: str,
    email: str,
    ip: str | None,
    defer: Defer,
) -> out.Message:
    await reset.forgot_password(
        db, settings=settings, throttles=throttles, market=market, email=email, ip=ip, defer=defer
    )
    return out.Message(message=FORGOT)


async def reset_password(
    db: AsyncSession,
    *,
    throttles: Throttles,
    market: str,
    token: str,
    new_password: str,
    confirm_password: str | None,
    ip: str | None,
) -> out.MessageWithData:
    """Complete a reset with the emailed token: every session ends, as on /api/v1."""
    if confirm_password is not None and confirm_password != new_password:
        raise PasswordsDiffer("New password and confirm password do not match.")
    await reset.reset_password(
        db,
        throttles=throttles,
        market=market,
        token=token,
        new_password=new_password,
        ip=ip,
    )
    return out.MessageWithData(
        message="Password reset successfully",
        data=out.Note(message="Password has been reset. Please login with your new password."),
    )


class ResetFieldsMissing(Invalid):
    """/reset-password needs `{token, newPassword}`, or `{email}` to send a reset link."""

    code = "jobpsych.reset_fields_missing"


async def reset_or_send_link(
    db: AsyncSession,
    *,
    settings: Settings,
    throttles: Throttles,
    market: str,
    body: out.ResetPasswordIn,
    ip: str | None,
    defer: Defer,
) -> out.Message:
    """The seed set a new password for anyone who named an email. Now the emailed token is
    the proof: with it the password is reset; with only an email, a reset link is sent."""
    if body.token is not None and body.newPassword is not None:
        return await reset_password(
            db,
            throttles=throttles,
            market=market,
            token=body.token,
            new_password=body.newPassword,
            confirm_password=body.confirmPassword,
            ip=ip,
        )
    if body.token is None and body.email is not None:
        sent = await forgot_password(
            db,
            settings=settings,
            throttles=throttles,
            market=market,
            email=body.email,
            ip=ip,
            defer=defer,
        )
        return out.MessageWithData(
            message=sent.message,
            data=out.Note(message="Open the link in the email to choose the new password."),
        )
    raise ResetFieldsMissing("Send `token` and `newPassword`, or `email` for a reset link.")


async def change_password(
    db: AsyncSession,
    *,
    throttles: Throttles,
    caller: live.Principal,
    body: out.ChangePasswordIn,
    ip: str | None,
) -> out.MessageWithData:
    if body.confirmPassword != body.newPassword:
        raise PasswordsDiffer("New password and confirm password do not match.")
    await password.change_password(
        db,
        throttles=throttles,
        caller=caller,
        current_password=body.currentPassword,
        new_password=body.newPassword,
        ip=ip,
    )
    return out.MessageWithData(
        message="Password changed successfully",
        data=out.Note(
            message="Password has been changed. You have been logged out from other devices."
        ),
    )
