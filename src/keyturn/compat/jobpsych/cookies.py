"""The seed's refresh cookie: `refreshToken`, HttpOnly, SameSite=Strict, `Path=/api/auth`,
`Secure` whenever keyturn's own cookie would be (auth.cookies). It holds keyturn's opaque
refresh token, and a refresh by cookie passes the same `Origin` check."""

from __future__ import annotations

from fastapi import Request, Response

from keyturn.auth import cookies

NAME = "refreshToken"
PATH = "/api/auth"


def read(request: Request) -> str | None:
    return request.cookies.get(NAME) or None


def deliver(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        NAME,
        token,
        max_age=max_age,
        path=PATH,
        secure=cookies.spec(request).secure,
        httponly=True,
        samesite="strict",
    )


def clear(request: Request, response: Response) -> None:
    response.delete_cookie(
        NAME,
        path=PATH,
        secure=cookies.spec(request).secure,
        httponly=True,
        samesite="strict",
    )


def clearing_header(request: Request) -> str:
    response = Response()
    clear(request, response)
    return response.headers["set-cookie"]
