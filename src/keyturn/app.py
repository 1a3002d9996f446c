"""create_app(settings): routers, error handlers, middleware, lifespan — nothing else."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from keyturn import __version__, housekeeping, metrics
from keyturn.auth.mfa.cipher import TotpCipher
from keyturn.auth.oauth.clients import make_oauth
from keyturn.auth.phone.otp import Otp
from keyturn.auth.signin import SignInContext
from keyturn.auth.throttles import Throttles
from keyturn.config import ConfigError, Settings, load_settings
from keyturn.db import Databases
from keyturn.files.storage import make_storage
from keyturn.logs import configure_logging
from keyturn.markets import Markets
from keyturn.middleware import RequestContextMiddleware
from keyturn.notify.providers import make_sms_provider
from keyturn.problems import install_error_handlers
from keyturn.ratelimit import RateLimiter
from keyturn.routes import routers, streamed_bodies
from keyturn.sessions.issuer import TokenIssuer
from keyturn.sessions.keys import Keyring, ensure_dev_keyring, ensure_secret_key
from keyturn.sessions.tokens import TokenVerifier
from keyturn.webhooks.service import WebhookRules
from keyturn.worker import Worker

DESCRIPTION = """
Sign-in (phone + SMS code, email + password), per-device sessions, and the customer data
that must survive them: cart, wishlist, orders, files and usage quotas.

Send `Authorization: Bearer <access_token>` and, optionally, `X-Market: kg|us`.
Errors are `application/problem+json` with `type`, `title`, `status`, `detail` and `code`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    metrics.prepare(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # What start-up built lives as long as the process: frozen out of the collector's
        # sight, a full collection scans only what requests made since (docs/hot-path.md).
        gc.freeze()
        loops = [asyncio.create_task(metrics.flush_forever())]
        if settings.guests.sweep_every.total_seconds() > 0:
            loops.append(
                asyncio.create_task(
                    housekeeping.sweep_forever(
                        settings, app.state.databases, app.state.file_storage, app.state.oauth
                    )
                )
            )
        if settings.worker.in_serve:
            worker = Worker(settings, app.state.databases)
            loops.append(asyncio.create_task(worker.run_forever()))
        yield
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        await app.state.oauth.aclose()
        await app.state.databases.dispose()
        if app.state.tracer_provider is not None:
            app.state.tracer_provider.shutdown()  # sends the spans still batched

    app = FastAPI(
        title="keyturn",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # We export Prometheus metrics ourselves (middleware.py) and traces only when asked
        # (tracing.py); FastAPI's own OpenTelemetry layer would wrap every request a second
        # time, and with `logs` on it looks the OTel logger provider up on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.databases = Databases(settings)
    secret = ensure_secret_key(settings)
    app.state.markets = Markets(settings, app.state.databases)
    ensure_dev_keyring(settings)
    app.state.keyring = Keyring(settings)
    app.state.token_verifier = TokenVerifier(settings, app.state.keyring)
    app.state.issuer = TokenIssuer(settings.tokens, app.state.keyring)
    app.state.throttles = Throttles(RateLimiter(settings.redis_url, key_secret=secret), settings)
    app.state.sign_in = SignInContext(app.state.issuer, app.state.throttles, settings.mfa)
    app.state.sms = make_sms_provider(settings)
    app.state.otp = Otp(settings.otp, secret, app.state.sms)
    app.state.oauth = make_oauth(settings)
    app.state.file_storage = make_storage(settings)
    app.state.mfa_cipher = TotpCipher.from_settings(settings)
    app.state.webhook_rules = WebhookRules(
        master=secret, production=settings.env == "production", settings=settings.webhooks
    )

    install_error_handlers(app)
    for router, prefix in routers(settings):
        app.include_router(router, prefix=prefix)
    if settings.compat_on("mobile-v0"):
        from keyturn.compat import mobile

        app.add_middleware(mobile.MobileV0Middleware, settings=settings)
        mobile.document_user_fields(app)

    cors = {
        "allow_origins": settings.cors_origins,
        "allow_credentials": True,
        "allow_methods": ["GET", "POST", "PUT", "PATCH", "DELETE"],
        "allow_headers": [
            "Authorization",
            "Content-Type",
            "X-Market",
            "Idempotency-Key",
            "X-Refresh-Transport",
            "X-Request-ID",
        ],
    }
    access_log = logging.getLevelName(settings.log_level.upper()) <= logging.INFO
    app.add_middleware(
        RequestContextMiddleware,
        max_body_size=settings.max_body_size,
        cors=cors,
        access_log=access_log,
        streamed_bodies=streamed_bodies(settings),
    )
    app.state.tracer_provider = _tracing(app, settings)
    return app


def _tracing(app: FastAPI, settings: Settings) -> Any:
    """Traces when an OTLP endpoint is configured; otherwise nothing is imported."""
    endpoint = settings.traces_endpoint()
    if endpoint is None:
        return None
    try:
        from keyturn import tracing
    except ImportError as exc:
        raise ConfigError(
            f"tracing is configured but OpenTelemetry is not installed ({exc.name}); "
            "install keyturn[otel]"
        ) from None
    return tracing.install(app, app.state.databases, tracing.otlp_exporter(endpoint))
