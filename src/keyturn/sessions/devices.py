"""A signed-in device: what it says it is, and whether this account has seen it before."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.sessions.models import Session


@dataclass(frozen=True)
class Device:
    """What a sign-in request tells about the device it comes from."""

    name: str | None = None
    user_agent: str | None = None
    ip: str | None = None
    # A seed client signing in through its compatible API (`jobpsych`): see sessions.tokens.
    compat: str | None = None


def _same_device(device: Device) -> ColumnElement[bool]:
    """What recognises a device: the name the app gives it, else its user agent."""
    if device.name:
        return Session.device_name == device.name[:100]
    if device.user_agent:
        return Session.user_agent == device.user_agent[:512]
    return false()


def device_label(device: Device) -> str:
    return (device.name or device.user_agent or "unknown device")[:80]


@dataclass(frozen=True)
class DeviceHistory:
    signed_in_before: bool  # the account had a session before (any device)
    on_this_device: bool  # ... on this device


async def device_history(db: AsyncSession, *, user_id: int, device: Device) -> DeviceHistory:
    """Whether the user signed in before, and from this device (any session, even ended)."""
    here = func.coalesce(func.max(case((_same_device(device), 1), else_=0)), 0)
    seen, on_device = (
        await db.execute(select(func.count(Session.id), here).where(Session.user_id == user_id))
    ).one()
    return DeviceHistory(signed_in_before=seen > 0, on_this_device=on_device == 1)


async def device_name(db: AsyncSession, *, session_id: str) -> str | None:
    """The name the device gave when it signed in to this session, if any."""
    name: str | None = await db.scalar(select(Session.device_name).where(Session.id == session_id))
    return name
