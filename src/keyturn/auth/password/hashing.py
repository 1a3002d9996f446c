"""Password hashing: argon2id (at least OWASP's m=19 MiB, t=2, p=1), bcrypt verify-only for
imported hashes, re-hash on login. Hashing runs in a worker thread, off the event loop.
New passwords pass `strength` first and are hashed in NFC form."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

from keyturn.auth.password import strength
from keyturn.errors import Unavailable

_hasher = PasswordHash(
    (
        Argon2Hasher(memory_cost=19 * 1024, time_cost=2, parallelism=1),
        BcryptHasher(),
    )
)


# Hashing threads run at nice +10 (Linux sets it per thread): on a core that requests keep
# busy, the two of them get about a sixth of it, so a sign-in storm slows sign-ins, not every
# signed-in read. On an idle core they run at full speed (docs/hot-path.md, bench/README.md).
HASHING_NICE = 10
# Checks waiting for a hashing thread, per process, past which a sign-in is refused at once
# (503 + Retry-After) instead of queueing for longer than a client waits.
MAX_WAITING = 64


class HashingBusy(Unavailable):
    """Too many password checks are waiting (a sign-in storm); nothing changed, retry later."""

    code = "auth.busy"


def _below_requests() -> None:
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICE)


# At most two hashes run at once per process (argon2 releases the GIL).
_HASHING = ThreadPoolExecutor(
    max_workers=2, thread_name_prefix="argon2", initializer=_below_requests
)
_waiting = 0
T = TypeVar("T")


def refuse_if_busy() -> None:
    """503 now, before a sign-in takes anything (its throttle slot) that a refusal would waste."""
    if _waiting >= MAX_WAITING:
        raise HashingBusy("Too many sign-ins at once; try again in a few seconds.", retry_after=5)


async def _off_loop(work: Callable[..., T], *args: object) -> T:
    global _waiting
    refuse_if_busy()
    _waiting += 1
    try:
        return await asyncio.get_running_loop().run_in_executor(_HASHING, work, *args)
    finally:
        _waiting -= 1


# Verified against when the email is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash("keyturn-dummy-password-for-timing")


async def hash_password(password: str) -> str:
    return await _off_loop(_hasher.hash, password)


async def verify_password(
    password: str | bytes, stored_hash: str | None
) -> tuple[bool, str | None]:
    """(matches, new hash to store or None). A missing hash still costs one verification."""
    if stored_hash is None:
        await _off_loop(_hasher.verify, password, _DUMMY_HASH)
        return False, None
    return await _off_loop(_verify_and_update, password, stored_hash)


def _verify_and_update(password: str | bytes, stored_hash: str) -> tuple[bool, str | None]:
    try:
        return _hasher.verify_and_update(password, stored_hash)
    except Exception:  # an unreadable stored hash never matches
        return False, None


async def new_password_hash(password: str, *, personal: tuple[str | None, ...]) -> str:
    """Check the rules (422 saying why), then argon2id of the NFC form."""
    password = strength.normalize(password)
    strength.check(password, personal=personal)
    return await hash_password(password)


async def check_password(password: str, stored: str | None) -> tuple[bool, str | None]:
    """(matches, hash to store instead). A missing hash still costs one verification."""
    nfc = strength.normalize(password)
    ok, new_hash = await verify_password(nfc, stored)
    if ok or stored is None or not stored.startswith("$2"):
        return ok, new_hash
    # Imported bcrypt hashes were made from the raw text, cut at bcrypt's 72 bytes.
    raw = password.encode()
    if raw[:72] == nfc.encode():
        return False, None
    ok, _ = await verify_password(raw[:72], stored)
    return ok, (await hash_password(nfc)) if ok else None
