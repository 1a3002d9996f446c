"""Every router the app serves, in one list: add a domain here and nowhere else."""

from fastapi import APIRouter

from keyturn.config import API_PREFIX, Settings

# Routes whose handler streams the request body and bounds it itself; every other body is
# capped at `max_body_size` by the middleware (docs/security.md).
STREAMED_BODIES = frozenset(
    {
        ("POST", f"{API_PREFIX}/files"),
        ("POST", f"{API_PREFIX}/admin/catalog/import"),  # up to 5 MiB (catalog/upload.py)
    }
)
# The JobPsych API's uploads (KEYTURN_COMPAT=jobpsych) stream the same way.
JOBPSYCH_UPLOADS = frozenset({("POST", "/api/files/upload"), ("POST", "/api/files/count")})


def streamed_bodies(settings: Settings) -> frozenset[tuple[str, str]]:
    return STREAMED_BODIES | (JOBPSYCH_UPLOADS if settings.compat_on("jobpsych") else frozenset())


def routers(settings: Settings) -> list[tuple[APIRouter, str]]:
    """Every router with its path prefix, in the order a request is matched against them.

    FastAPI tries routes one by one (a few µs each), so the hottest come first: the probes,
    then `GET /profile` and `GET /cart`, then the rest of the API; the JWKS (cached by
    verifiers) and the web app's pages after them (measured: bench/README.md). No two routers
    serve the same path, so the order changes no answer.
    """
    from keyturn.auth.passkeys.router import wellknown_router as passkey_wellknown
    from keyturn.notices.router import page_router as notices_page
    from keyturn.sessions.router import wellknown_router
    from keyturn.system.router import router as system
    from keyturn.web.router import router as web

    return [
        (system, ""),
        *((router, API_PREFIX) for router in api_routers()),
        (wellknown_router, ""),
        (passkey_wellknown, ""),
        (web, ""),
        (notices_page, ""),
        *((router, "") for router in compat_routers(settings)),
    ]


def api_routers() -> list[APIRouter]:
    from keyturn.addresses.router import router as addresses
    from keyturn.audit.router import admin_router as admin_audit
    from keyturn.auth.linking.router import router as auth_link
    from keyturn.auth.mfa.router import admin_router as admin_mfa
    from keyturn.auth.mfa.router import profile_router as profile_mfa
    from keyturn.auth.mfa.router import router as auth_mfa
    from keyturn.auth.oauth.router import router as auth_oauth
    from keyturn.auth.passkeys.router import profile_router as profile_passkeys
    from keyturn.auth.passkeys.router import router as auth_passkeys
    from keyturn.auth.password.router import router as auth_password
    from keyturn.auth.phone.router import router as auth_phone
    from keyturn.auth.router import router as auth
    from keyturn.auth.stepup.router import router as auth_stepup
    from keyturn.cart.router import router as cart
    from keyturn.catalog.router import admin_router as admin_catalog
    from keyturn.catalog.router import router as catalog
    from keyturn.events.router import admin_router as admin_events
    from keyturn.files.router import router as files
    from keyturn.notices.router import router as notices
    from keyturn.notify.router import router as notify
    from keyturn.orders.router import admin_router as admin_orders
    from keyturn.orders.router import router as orders
    from keyturn.privacy.router import admin_router as admin_privacy
    from keyturn.privacy.router import router as privacy
    from keyturn.sessions.router import admin_router as admin_sessions
    from keyturn.sessions.router import router as sessions
    from keyturn.usage.router import admin_router as admin_usage
    from keyturn.usage.router import router as usage
    from keyturn.users.router import admin_router as admin_users
    from keyturn.users.router import router as users
    from keyturn.webhooks.router import router as admin_webhooks
    from keyturn.wishlist.router import router as wishlist

    return [
        users,  # GET /profile first: it is the route with the most traffic
        cart,
        auth_phone,
        auth,
        auth_password,
        auth_link,
        auth_passkeys,
        auth_stepup,
        auth_oauth,
        auth_mfa,
        sessions,
        profile_passkeys,
        profile_mfa,
        admin_users,
        privacy,
        admin_privacy,
        admin_sessions,
        admin_audit,
        admin_mfa,
        notify,
        catalog,
        admin_catalog,
        wishlist,
        addresses,
        orders,
        admin_orders,
        files,
        usage,
        admin_usage,
        notices,
        admin_events,
        admin_webhooks,
    ]


def compat_routers(settings: Settings) -> list[APIRouter]:
    """Seed-shaped APIs that `KEYTURN_COMPAT` switches on, at the seed's own paths."""
    if not settings.compat_on("jobpsych"):
        return []
    from keyturn.compat.jobpsych.auth_router import router as jobpsych_auth
    from keyturn.compat.jobpsych.tokens_router import tokens_router
    from keyturn.compat.jobpsych.uploads_router import files_router, quota_router

    return [
        jobpsych_auth,
        quota_router,
        files_router,
        tokens_router("/api/auth"),
        tokens_router(""),
    ]
