"""Refresh-token cookie transport for browsers (docs/passwords-and-browser-sessions.md).

A client opts in with `"refresh_transport": "cookie"` in the body of register, login,
verify-code or refresh (or the header `X-Refresh-Transport: cookie`). The refresh token then
travels only in an HttpOnly, SameSite=Strict cookie and the JSON `refresh_token` is null:
- over HTTPS: `__Host-keyturn_refresh`, `Secure`, `Path=/` (the `__Host-` prefix demands
  `Path=/` and no `Domain`, so the cookie is bound to this exact host);
- on plain http, only in development on localhost / 127.0.0.1 / ::1 or when
  `KEYTURN_COOKIE_SECURE=false`: `keyturn_refresh`, no `Secure`, `Path=/api/v1/auth`.
A refresh that reads the cookie must come from an allowed origin (`cors_origins`) or the
API's own origin: browsers attach the `Origin` header, a cross-site form cannot forge it.
Which cookie is the deployment's (`Settings`, read from the request's app): routes pass only
the request and the response.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import overload

from fastapi import Request, Response

from keyturn.auth.mfa.schemas import MfaRequiredOut
from keyturn.auth.schemas import TokenResponse
from keyturn.config import API_PREFIX, Settings
from keyturn.errors import Forbidden

SECURE_NAME = "__Host-keyturn_refresh"
DEV_NAME = "keyturn_refresh"
DEV_PATH = f"{API_PREFIX}/auth"
TRANSPORT_HEADER = "x-refresh-transport"
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


class CrossSiteRefresh(Forbidden):
    """A cookie refresh came from an origin that is neither allowed nor our own."""

    code = "auth.cross_site"


@dataclass(frozen=True)
class CookieSpec:
    name: str
    path: str
    secure: bool


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def is_https(request: Request) -> bool:
    """HTTPS as the browser sees it (`X-Forwarded-Proto` only from a trusted proxy)."""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return peer in _settings(request).trusted_proxies and forwarded == "https"


def spec(request: Request) -> CookieSpec:
    settings = _settings(request)
    local_dev = settings.is_development and request.url.hostname in _LOCAL_HOSTS
    if not is_https(request) and (not settings.cookie_secure or local_dev):
        return CookieSpec(DEV_NAME, DEV_PATH, secure=False)
    return CookieSpec(SECURE_NAME, "/", secure=True)


def wants_cookie(request: Request, choice: str | None) -> bool:
    if choice is not None:
        return choice == "cookie"
    return request.headers.get(TRANSPORT_HEADER, "").strip().lower() == "cookie"


@overload
def respond(
    request: Request,
    response: Response,
    tokens: TokenResponse,
    choice: str | None,
) -> TokenResponse: ...


@overload
def respond(
    request: Request,
    response: Response,
    tokens: TokenResponse | MfaRequiredOut,
    choice: str | None,
) -> TokenResponse | MfaRequiredOut: ...


def respond(
    request: Request,
    response: Response,
    tokens: TokenResponse | MfaRequiredOut,
    choice: str | None,
) -> TokenResponse | MfaRequiredOut:
    """The token response, with the refresh token moved to the cookie if the client asked.
    A sign-in waiting for its second factor has no tokens yet: it passes unchanged."""
    if isinstance(tokens, TokenResponse) and wants_cookie(request, choice):
        return deliver(request, response, tokens)
    return tokens


def read(request: Request) -> str | None:
    return request.cookies.get(SECURE_NAME) or request.cookies.get(DEV_NAME) or None


def deliver(request: Request, response: Response, tokens: TokenResponse) -> TokenResponse:
    """Move the refresh token from the JSON body into the cookie."""
    assert tokens.refresh_token is not None
    cookie = spec(request)
    response.set_cookie(
        cookie.name,
        tokens.refresh_token,
        max_age=tokens.refresh_expires_in,
        path=cookie.path,
        secure=cookie.secure,
        httponly=True,
        samesite="strict",
    )
    return tokens.model_copy(update={"refresh_token": None})


def clear(request: Request, response: Response) -> None:
    cookie = spec(request)
    response.delete_cookie(
        cookie.name, path=cookie.path, secure=cookie.secure, httponly=True, samesite="strict"
    )


def clearing_header(request: Request) -> str:
    """The `Set-Cookie` value that clears the cookie, for error responses."""
    response = Response()
    clear(request, response)
    return response.headers["set-cookie"]


def check_origin(request: Request) -> None:
    """A cookie-authenticated request must come from an allowed origin or our own."""
    origin = (request.headers.get("origin") or "").rstrip("/").lower()
    allowed = {o.rstrip("/").lower() for o in _settings(request).cors_origins}
    scheme = "https" if is_https(request) else "http"
    own = f"{scheme}://{request.headers.get('host', '')}".lower()
    if origin and origin != "null" and (origin in allowed or origin == own):
        return
    raise CrossSiteRefresh(
        "Refreshing with the cookie needs an `Origin` this service allows; "
        "cross-site requests are refused."
    )
