"""Process and readiness probes, metrics, and the service index."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from keyturn import __version__
from keyturn.deps import DatabasesDep, SettingsDep
from keyturn.files.storage import StorageDep
from keyturn.system import service

router = APIRouter(tags=["system"])


@router.get(
    "/",
    summary="Service name, version and links",
    description="`oauth_providers`: the Apple/Google sign-ins configured here (a provider "
    "with client ids), so a page or an app offers only those (docs/social-sign-in.md).",
)
async def index(settings: SettingsDep) -> dict[str, object]:
    return {
        "name": "keyturn",
        "version": __version__,
        "links": {
            "docs": "/docs",
            "openapi": "/openapi.json",
            "app": "/app",
            "health": "/health",
            "ready": "/ready",
            "metrics": "/metrics",
            "jwks": "/.well-known/jwks.json",
        },
        "oauth_providers": [p for p in ("apple", "google") if settings.oauth.client_ids(p)],
    }


@router.get("/health", summary="The process is up")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Every dependency answers: market databases, Redis, file storage, SMS provider",
    description="`checks` has one entry per dependency. A failing database, Redis or storage "
    "is listed in `unavailable` (503); an SMS provider refusing our configuration is listed "
    "in `degraded` (200: password sign-in, refresh and signed-in requests still work). "
    "`problems` says what is wrong with each.",
    responses={503: {"description": "Something named in `unavailable` does not answer"}},
)
async def ready(
    request: Request, settings: SettingsDep, databases: DatabasesDep, storage: StorageDep
) -> JSONResponse:
    checks = await service.readiness(settings, databases, storage, request.app.state.sms)
    down = [c.name for c in checks if not c.ok and c.required]
    degraded = [c.name for c in checks if not c.ok and not c.required]
    body = {
        "status": "unavailable" if down else "degraded" if degraded else "ready",
        "checks": {c.name: c.ok for c in checks},
        "unavailable": down,
        "degraded": degraded,
        "problems": {c.name: c.problem for c in checks if not c.ok},
    }
    return JSONResponse(body, status_code=503 if down else 200)


@router.get("/metrics", summary="Prometheus metrics (docs/metrics.md)", include_in_schema=True)
async def metrics() -> Response:
    return Response(service.exposition(), media_type=CONTENT_TYPE_LATEST)
