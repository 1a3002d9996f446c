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

_hasher = PasswordHash(
    (
        Argon2Hasher(memory_cost=19 * 1024, time_cost=2, parallelism=1),
        BcryptHasher(),
    )
)


def _below_requests() -> None:
    """Hashing threads run at nice +5 (Linux sets it per thread): on a saturated core two of
    them get at most ~40 % of it, so a sign-in storm slows sign-ins, not every other request.
    On an idle core they run at full speed."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 5)


# At most two hashes run at once per process (argon2 releases the GIL): a storm of sign-ins
# queues here instead of taking the core from every other request (bench/README.md).
_HASHING = ThreadPoolExecutor(
    max_workers=2, thread_name_prefix="argon2", initializer=_below_requests
)
T = TypeVar("T")


async def _off_loop(work: Callable[..., T], *args: object) -> T:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, work, *args)


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
    try:
        return await _off_loop(_hasher.verify_and_update, password, stored_hash)
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
