from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status

from keyturn.deps import Caller, DatabasesDep, Db, KeyringDep, SettingsDep
from keyturn.fields import Text
from keyturn.sessions import introspect
from keyturn.sessions import service as sessions
from keyturn.sessions.schemas import (
    Introspection,
    JwtInfo,
    SessionList,
    SessionRead,
    VerifyTokenIn,
)

router = APIRouter(prefix="/auth", tags=["sessions"])
wellknown_router = APIRouter(tags=["sessions"])


@router.get("/sessions", summary="Your signed-in devices; `current` marks this one")
async def list_sessions(db: Db, caller: Caller) -> SessionList:
    rows = await sessions.live_sessions(db, user_id=caller.user_id)
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
    await sessions.end_session(db, user_id=caller.user_id, session_id=session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/verify-token",
    summary="Introspect an access token (session revocation included)",
    description="For other services: `active` is true only while the signature is valid, "
    "the token is unexpired and its session is live.",
)
async def verify_token(
    databases: DatabasesDep, settings: SettingsDep, keyring: KeyringDep, body: VerifyTokenIn
) -> Introspection:
    return await introspect.introspect(databases, settings, keyring, token=body.token)


@router.get(
    "/jwt-info",
    summary="Issuer, audience, algorithms and key fingerprints (never key material)",
)
async def jwt_info(settings: SettingsDep, keyring: KeyringDep) -> JwtInfo:
    return introspect.jwt_info(settings, keyring)


@wellknown_router.get("/.well-known/jwks.json", summary="Public keys that verify our tokens")
async def jwks(keyring: KeyringDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return keyring.jwks()
