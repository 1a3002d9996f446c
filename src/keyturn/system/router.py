"""Process and readiness probes, metrics, and the service index."""

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from keyturn import __version__
from keyturn.deps import DatabasesDep, SettingsDep
from keyturn.system import service

router = APIRouter(tags=["system"])


@router.get("/", summary="Service name, version and links")
async def index() -> dict[str, object]:
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
    }


@router.get("/health", summary="The process is up")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Every market database (and Redis, when configured) answers",
    responses={503: {"description": "Something named in `unavailable` does not answer"}},
)
async def ready(settings: SettingsDep, databases: DatabasesDep) -> JSONResponse:
    checks = await service.readiness(settings, databases)
    down = [name for name, ok in checks.items() if not ok]
    body = {"status": "unavailable" if down else "ready", "checks": checks, "unavailable": down}
    return JSONResponse(body, status_code=503 if down else 200)


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=True)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
