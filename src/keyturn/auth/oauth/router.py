"""HTTP for Sign in with Apple / Google and the identities linked to an account."""

from fastapi import APIRouter, Request, Response

from keyturn.auth import cookies
from keyturn.auth.mfa.schemas import MfaRequiredOut
from keyturn.auth.oauth import manage, service
from keyturn.auth.oauth.schemas import (
    IdentityLinkIn,
    IdentityList,
    IdentityRead,
    OAuthSignInIn,
    ProviderName,
)
from keyturn.auth.schemas import TokenResponse
from keyturn.deps import (
    STEP_UP_RESPONSES,
    Caller,
    ClientIp,
    Db,
    OAuthDep,
    RequestMarket,
    SignInDep,
    StepUp,
    UserAgent,
)
from keyturn.deps import OptionalClaims as BearerClaims
from keyturn.sessions.devices import Device

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/oauth/{provider}",
    summary="Sign in with Apple or Google: the id_token the app's SDK returned",
    description="Verified against the provider's keys; `aud` must be one of our client ids "
    "and the nonce the one the sign-in started with. A new Apple/Google account links to an "
    "existing account only when both emails are verified (docs/social-sign-in.md). Same "
    "token response as every sign-in; a guest's bearer token merges its cart and wishlist. "
    "An account with an authenticator app answers `{mfa_required, mfa_token, methods}` "
    "instead: finish with `POST /auth/mfa/verify` (docs/second-factors.md).",
    responses={
        401: {"description": "The id_token is invalid, expired, for another app or nonce"},
        403: {"description": "The account is disabled"},
        404: {"description": "This provider is not enabled here"},
        503: {"description": "The provider's keys cannot be fetched right now"},
    },
)
async def oauth_sign_in(
    request: Request,
    response: Response,
    db: Db,
    context: SignInDep,
    oauth: OAuthDep,
    market: RequestMarket,
    ip: ClientIp,
    guest: BearerClaims,
    provider: ProviderName,
    body: OAuthSignInIn,
    user_agent: UserAgent = None,
) -> TokenResponse | MfaRequiredOut:
    tokens = await service.sign_in(
        db,
        context,
        oauth,
        provider=provider,
        market=market,
        id_token=body.id_token,
        nonce=body.nonce,
        full_name=body.full_name,
        authorization_code=body.authorization_code,
        device=Device(name=body.device_name, user_agent=user_agent, ip=ip),
        guest_claims=guest,
    )
    return cookies.respond(request, response, tokens, body.refresh_transport)


@router.get(
    "/profile/identities",
    summary="The Apple and Google accounts linked to yours",
    tags=["profile"],
)
async def list_identities(db: Db, caller: Caller) -> IdentityList:
    return await manage.list_identities(db, user_id=caller.user_id)


@router.post(
    "/profile/identities/{provider}",
    summary="Link an Apple or Google account to yours (recent sign-in needed)",
    tags=["profile"],
    responses={
        **STEP_UP_RESPONSES,
        409: {"description": "It signs in to another account, or one is already linked"},
    },
)
async def link_identity(
    db: Db,
    oauth: OAuthDep,
    caller: StepUp,
    ip: ClientIp,
    provider: ProviderName,
    body: IdentityLinkIn,
) -> IdentityRead:
    return await manage.link(
        db,
        oauth,
        caller=caller,
        provider=provider,
        id_token=body.id_token,
        nonce=body.nonce,
        full_name=body.full_name,
        authorization_code=body.authorization_code,
        ip=ip,
    )


@router.delete(
    "/profile/identities/{provider}",
    summary="Unlink an Apple or Google account (recent sign-in needed)",
    status_code=204,
    tags=["profile"],
    responses={
        **STEP_UP_RESPONSES,
        404: {"description": "No account of this provider is linked"},
        409: {"description": "It is the account's last way to sign in"},
    },
)
async def unlink_identity(db: Db, caller: StepUp, ip: ClientIp, provider: ProviderName) -> None:
    await manage.unlink(db, caller=caller, provider=provider, ip=ip)
