"""Seed 004's `/verify-token` and `/jwt-info`, under `/api/auth` (where its code served them)
and at the root (where its troubleshooting guide names them)."""

from fastapi import APIRouter

from keyturn.compat.jobpsych import schemas as out
from keyturn.compat.jobpsych import tokens
from keyturn.compat.jobpsych.errors import JobPsychRoute
from keyturn.deps import IssuerDep, MarketsDep, SettingsDep, VerifierDep


def tokens_router(prefix: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["jobpsych"], route_class=JobPsychRoute)

    @router.post(
        "/verify-token",
        summary="JobPsych: is this token valid (signature, expiry, session still live)?",
        responses={401: {"description": "Invalid, expired or logged out"}},
    )
    async def verify_token(
        markets: MarketsDep, verifier: VerifierDep, issuer: IssuerDep, body: out.TokenIn
    ) -> out.VerifiedOut:
        return await tokens.verify_token(markets, verifier, issuer, token=body.token)

    @router.get("/jwt-info", summary="JobPsych: token settings and key fingerprints (no secret)")
    async def jwt_info(settings: SettingsDep, issuer: IssuerDep) -> out.JwtInfoOut:
        return tokens.jwt_info(issuer, environment=settings.env)

    return router
