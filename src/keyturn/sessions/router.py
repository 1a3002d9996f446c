from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from keyturn.deps import (
    Admin,
    Caller,
    DatabasesDep,
    Db,
    IssuerDep,
    KeyringDep,
    MarketsDep,
    PathId,
    Service,
    SettingsDep,
    VerifierDep,
)
from keyturn.fields import Text
from keyturn.sessions import ending, introspect, live, revocations
from keyturn.sessions.schemas import (
    Introspection,
    JwtInfo,
    RevocationList,
    SessionList,
    SessionRead,
    SessionsEnded,
    VerifyTokenIn,
)

router = APIRouter(prefix="/auth", tags=["sessions"])
wellknown_router = APIRouter(tags=["sessions"])
admin_router = APIRouter(prefix="/admin/users/{user_id}/sessions", tags=["admin"])
SessionId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]
NO_USER: dict[int | str, dict[str, Any]] = {404: {"description": "No such user in this market"}}


@router.get("/sessions", summary="Your signed-in devices; `current` marks this one")
async def list_sessions(db: Db, caller: Caller) -> SessionList:
    rows = await live.live_sessions(db, user_id=caller.user_id)
    return SessionList(
        items=[
            SessionRead.model_validate(s).model_copy(update={"current": s.id == caller.session_id})
            for s in rows
        ]
    )


@router.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign one of your devices out",
    responses={404: {"description": "No such live session of yours"}},
)
async def revoke_session(
    db: Db, caller: Caller, session_id: Annotated[Text, Path(max_length=64)]
) -> Response:
    await ending.end_session(db, user_id=caller.user_id, session_id=session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/verify-token",
    summary="Introspect an access token (session revocation included)",
    description="For other services: `active` is true only while the signature is valid, "
    "the token is unexpired and its session is live.",
)
async def verify_token(
    markets: MarketsDep, verifier: VerifierDep, issuer: IssuerDep, body: VerifyTokenIn
) -> Introspection:
    return await introspect.introspect(markets, verifier, issuer, token=body.token)


@router.get(
    "/revocations",
    summary="Revoked sessions, for services that verify tokens locally (service token)",
    description="Without `since`: every session revoked recently enough that one of its "
    "tokens may still be live. With `since` (the last `next_cursor`): what was revoked after "
    "it, answering as soon as there is something, or after `wait` seconds with nothing. A "
    "service refuses a token whose `sid` is listed until the item's `expires_at` "
    "(`keyturn.client.RevocationFeed` does this; docs/revocation-feed.md).",
    dependencies=[Service],
    responses={401: {"description": "No valid service token"}},
)
async def list_revocations(
    settings: SettingsDep,
    databases: DatabasesDep,
    since: Annotated[str | None, Query(max_length=1024, description="A `next_cursor`")] = None,
    wait: Annotated[float, Query(ge=0, le=60, description="Seconds to wait for news")] = 0,
) -> RevocationList:
    wait = min(wait, settings.revocations.max_wait.total_seconds())
    return await revocations.follow(settings, databases, since=since, wait=wait)


@router.get(
    "/jwt-info",
    summary="Issuer, audience, algorithms and key fingerprints (never key material)",
)
async def jwt_info(issuer: IssuerDep) -> JwtInfo:
    return introspect.jwt_info(issuer)


@wellknown_router.get("/.well-known/jwks.json", summary="Public keys that verify our tokens")
async def jwks(keyring: KeyringDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return keyring.jwks()


@admin_router.get("", summary="A user's signed-in devices", responses=NO_USER)
async def admin_list_sessions(db: Db, _: Admin, user_id: PathId) -> SessionList:
    rows = await ending.admin_list_sessions(db, user_id=user_id)
    return SessionList(items=[SessionRead.model_validate(s) for s in rows])


@admin_router.delete(
    "/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign one of a user's devices out",
    responses={404: {"description": "No such user, or no such live session of theirs"}},
)
async def admin_end_session(
    db: Db, admin: Admin, user_id: PathId, session_id: SessionId
) -> Response:
    await ending.admin_end_session(
        db, user_id=user_id, session_id=session_id, admin_id=admin.user_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@admin_router.delete("", summary="Sign every device of a user out", responses=NO_USER)
async def admin_end_all_sessions(db: Db, admin: Admin, user_id: PathId) -> SessionsEnded:
    revoked = await ending.admin_end_all_sessions(db, user_id=user_id, admin_id=admin.user_id)
    return SessionsEnded(sessions_revoked=revoked)
