"""HTTP for passkeys: sign in with one, manage yours (`/profile/passkeys`), and the files that
let native apps share them (`/.well-known/...`)."""

from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from keyturn.auth import cookies
from keyturn.auth.passkeys import manage, service, wellknown
from keyturn.auth.passkeys.schemas import (
    PasskeyCreate,
    PasskeyList,
    PasskeyLoginIn,
    PasskeyRead,
    PasskeyUpdate,
)
from keyturn.auth.schemas import TokenResponse
from keyturn.deps import (
    STEP_UP_RESPONSES,
    Caller,
    ClientIp,
    Db,
    Market,
    PathId,
    RelyingParty,
    SignInDep,
    StepUp,
    ThrottlesDep,
    UserAgent,
)
from keyturn.deps import OptionalClaims as BearerClaims
from keyturn.errors import NotFound
from keyturn.sessions.devices import Device

router = APIRouter(prefix="/auth/passkeys", tags=["passkeys"])
profile_router = APIRouter(prefix="/profile/passkeys", tags=["passkeys"])
wellknown_router = APIRouter(tags=["passkeys"])

REFUSED: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "The answer was refused; `code` says why (`passkey.origin_not_allowed`, "
        "`passkey.rp_id_mismatch`, `passkey.challenge_invalid`, `passkey.challenge_expired`, "
        "`passkey.user_verification_required`, `passkey.not_recognized`, "
        "`passkey.counter_regressed`, `passkey.invalid`)"
    }
}
OPTIONS_NOTE = (
    " Pass the answer to `PublicKeyCredential.parse...OptionsFromJSON()` (or the iOS/Android "
    "passkey API) and send back what it returns."
)


@router.post(
    "/login/options",
    summary="Start a passkey sign-in: request options for any passkey the device holds",
    description="A fresh challenge (single use, 5 minutes) and an empty `allowCredentials`, "
    "so the browser or phone offers its passkeys for this site, also as autofill "
    "(`mediation: 'conditional'`)." + OPTIONS_NOTE,
    responses={429: {"description": "Too many requests from this address (Retry-After)"}},
)
async def login_options(
    db: Db, rp: RelyingParty, throttles: ThrottlesDep, market: Market, ip: ClientIp
) -> dict[str, Any]:
    return await service.login_options(db, rp=rp, throttles=throttles, market=market, ip=ip)


@router.post(
    "/login",
    summary="Sign in with a passkey alone: opens a session on this device",
    description="The same token response as every sign-in (send a guest session's bearer "
    "token to keep its cart). Browsers: `refresh_transport: cookie`.",
    responses={**REFUSED, 403: {"description": "The account is disabled"}},
)
async def login(
    request: Request,
    response: Response,
    db: Db,
    rp: RelyingParty,
    context: SignInDep,
    market: Market,
    ip: ClientIp,
    guest: BearerClaims,
    body: PasskeyLoginIn,
    user_agent: UserAgent = None,
) -> TokenResponse:
    tokens = await service.login(
        db,
        context=context,
        rp=rp,
        market=market,
        credential=body.credential.model_dump(exclude_none=True),
        device=Device(name=body.device_name, user_agent=user_agent, ip=ip),
        guest_claims=guest,
    )
    return cookies.respond(request, response, tokens, body.refresh_transport)


@profile_router.post(
    "/options",
    summary="Start adding a passkey: creation options for this account (step-up)",
    description="Discoverable credential, user verification required, your existing passkeys "
    "excluded." + OPTIONS_NOTE,
    responses={**STEP_UP_RESPONSES, 409: {"description": "The account has 20 passkeys already"}},
)
async def registration_options(db: Db, rp: RelyingParty, caller: StepUp) -> dict[str, Any]:
    return await manage.registration_options(db, rp=rp, caller=caller)


@profile_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add the passkey your device just created (step-up)",
    responses={**REFUSED, **STEP_UP_RESPONSES, 409: {"description": "Already registered"}},
)
async def register(
    db: Db, rp: RelyingParty, caller: StepUp, ip: ClientIp, body: PasskeyCreate
) -> PasskeyRead:
    return await manage.register(
        db,
        rp=rp,
        caller=caller,
        credential=body.credential.model_dump(exclude_none=True),
        name=body.name,
        ip=ip,
    )


@profile_router.get("", summary="Your passkeys")
async def list_passkeys(db: Db, caller: Caller) -> PasskeyList:
    return await manage.list_passkeys(db, caller=caller)


@profile_router.patch(
    "/{passkey_id}",
    summary="Rename one of your passkeys",
    responses={404: {"description": "No passkey of yours has this id"}},
)
async def rename(db: Db, caller: Caller, passkey_id: PathId, body: PasskeyUpdate) -> PasskeyRead:
    return await manage.rename(db, caller=caller, passkey_id=passkey_id, name=body.name)


@profile_router.delete(
    "/{passkey_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove one of your passkeys (step-up)",
    responses={**STEP_UP_RESPONSES, 404: {"description": "No passkey of yours has this id"}},
)
async def remove(db: Db, caller: StepUp, ip: ClientIp, passkey_id: PathId) -> Response:
    await manage.remove(db, caller=caller, passkey_id=passkey_id, ip=ip)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@wellknown_router.get(
    "/.well-known/apple-app-site-association",
    summary="iOS apps that share this site's passkeys (webcredentials)",
    responses={404: {"description": "No iOS app is configured"}},
)
async def apple_app_site_association(rp: RelyingParty) -> JSONResponse:
    return _association(wellknown.apple_app_site_association(rp))


@wellknown_router.get(
    "/.well-known/assetlinks.json",
    summary="Android apps that share this site's passkeys (Digital Asset Links)",
    responses={404: {"description": "No Android app is configured"}},
)
async def asset_links(rp: RelyingParty) -> JSONResponse:
    return _association(wellknown.asset_links(rp))


def _association(document: Any) -> JSONResponse:
    if document is None:
        raise NotFound("Nothing is configured here.")
    return JSONResponse(document, headers={"Cache-Control": "public, max-age=3600"})
