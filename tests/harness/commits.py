"""Counts the database commits of each API request, so every use case stays one transaction.

Every in-process test client wraps the app in `CountCommits`; a request that commits more
than once fails the test that sent it (see `docs/transactions.md`). `keyturn.db.end_read`
ends a read-only transaction and is not a use case's commit, so it is not counted.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from keyturn.db import ENDS_READ

MAX_COMMITS = 1
WATCHED: list[CountCommits] = []  # the wrappers made during the running test
_commits: ContextVar[list[int] | None] = ContextVar("keyturn_test_commits", default=None)


@event.listens_for(Session, "after_commit")
def _count(session: Session) -> None:
    counter = _commits.get()
    if counter is not None and not session.info.get(ENDS_READ):
        counter[0] += 1


@dataclass
class CountCommits:
    """ASGI wrapper: records each HTTP request's commits; `too_many` lists the offenders."""

    app: ASGIApp
    requests: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        WATCHED.append(self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counter = [0]
        token = _commits.set(counter)
        try:
            await self.app(scope, receive, send)
        finally:
            _commits.reset(token)
            self.requests.append((f"{scope['method']} {scope['path']}", counter[0]))

    @property
    def too_many(self) -> list[tuple[str, int]]:
        return [(request, n) for request, n in self.requests if n > MAX_COMMITS]


def offenders() -> list[tuple[str, int]]:
    """Requests of the running test that committed more than once."""
    return [offender for wrapper in WATCHED for offender in wrapper.too_many]
