"""HTTP for sessions that are not a sign-in method: guest, refresh, logout."""

from typing import Any

from fastapi import APIRouter, Request, Response, status

from keyturn.auth import cookies, service
from keyturn.auth.schemas import GuestIn, LogoutIn, MessageOut, RefreshIn, TokenResponse
from keyturn.deps import (
    Caller,
    ClientIp,
    Db,
    IssuerDep,
    MarketsDep,
    RequestedMarket,
    RequestMarket,
    ThrottlesDep,
    UserAgent,
)
from keyturn.errors import Unauthorized
from keyturn.sessions.devices import Device

router = APIRouter(prefix="/auth", tags=["auth"])

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, invalid, expired or revoked token"}
}


@router.post(
    "/guest",
    status_code=status.HTTP_201_CREATED,
    summary="Start a guest session that can shop before signing in",
)
async def start_guest(
    db: Db,
    issuer: IssuerDep,
    throttles: ThrottlesDep,
    market: RequestMarket,
    ip: ClientIp,
    body: GuestIn | None = None,
    user_agent: UserAgent = None,
) -> TokenResponse:
    device = Device(name=body.device_name if body else None, user_agent=user_agent, ip=ip)
    return await service.start_guest(
        db, issuer=issuer, throttles=throttles, market=market, device=device
    )


@router.post(
    "/refresh",
    summary="Trade a refresh token for a new pair (the old one is rotated out)",
    description="A retry with the same token after a lost response works. Presenting a "
    "token the session has moved past ends the session (token theft). Browsers using "
    "cookie transport send no body token: the refresh cookie is read instead, the request's "
    "`Origin` must be allowed (else 403), and the new token goes back into the cookie.",
    responses={
        **UNAUTHORIZED,
        403: {"description": "Cookie refresh from an origin that is not allowed"},
    },
)
async def refresh(
    request: Request,
    response: Response,
    markets: MarketsDep,
    issuer: IssuerDep,
    requested: RequestedMarket,
    ip: ClientIp,
    body: RefreshIn | None = None,
) -> TokenResponse:
    token = body.refresh_token if body else None
    from_cookie = token is None
    if token is None:
        token = cookies.read(request)
        if token is None:
            raise Unauthorized("Send `refresh_token`, or the refresh cookie.")
        cookies.check_origin(request)
    try:
        tokens = await service.refresh(
            markets,
            issuer=issuer,
            requested=requested,
            refresh_token=token,
            ip=ip,
        )
    except Unauthorized as refused:
        if from_cookie:  # a dead cookie is of no use to the browser
            refused.headers["Set-Cookie"] = cookies.clearing_header(request)
        raise
    if from_cookie or cookies.wants_cookie(request, body.refresh_transport if body else None):
        return cookies.deliver(request, response, tokens)
    return tokens


@router.post(
    "/logout",
    summary="End this session (`current`), every other one (`others`) or all of them",
    description="Clears the browser's refresh cookie unless the scope is `others`.",
    responses=UNAUTHORIZED,
)
async def logout(
    request: Request,
    response: Response,
    db: Db,
    caller: Caller,
    ip: ClientIp,
    body: LogoutIn | None = None,
) -> MessageOut:
    scope = body.scope if body else "current"
    result = await service.logout(db, caller=caller, scope=scope, ip=ip)
    if scope != "others" and cookies.read(request) is not None:
        cookies.clear(request, response)
    return result
