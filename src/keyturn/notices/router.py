""" "This wasn't me": the API an app calls, and the page a notice's link opens."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse

from keyturn.deps import ClientIp, DatabasesDep
from keyturn.notices import messages, page, service, wasnt_me
from keyturn.notices.schemas import SecuredOut, SecureIn

router = APIRouter(prefix="/auth", tags=["security notices"])
page_router = APIRouter(tags=["security notices"])


@router.post(
    "/wasnt-me",
    summary='"This wasn\'t me": end every session of the account a notice was about',
    description="The token comes from a security notice's link (single use, 24 h). Every "
    "session and password-reset link of the account ends; the person signs in again.",
    responses={400: {"description": "Unknown, expired or used link (`notice.link_invalid`)"}},
)
async def secure_account(databases: DatabasesDep, ip: ClientIp, body: SecureIn) -> SecuredOut:
    market = service.token_market(body.token)
    if market is None or market not in databases.urls:
        raise wasnt_me.LinkInvalid("This link is invalid, expired or already used.")
    async with databases.session(market) as db:
        return await wasnt_me.secure_account(db, token=body.token, ip=ip)


Token = Annotated[str, Query(max_length=128)]


@page_router.get("/wasnt-me", include_in_schema=False)
async def wasnt_me_page(databases: DatabasesDep, token: Token = "") -> HTMLResponse:
    market = service.token_market(token)
    if market is None or market not in databases.urls:
        return page.render("en", page.INVALID)
    async with databases.session(market) as db:
        notice = await wasnt_me.find_link(db, token=token)
    if notice is None:
        return page.render("en", page.INVALID)
    return page.render(
        notice.language,
        page.CONFIRM,
        token=html.escape(token, quote=True),
        effect=messages.link_effect(notice.language, notice.details or {}),
    )


@page_router.post("/wasnt-me", include_in_schema=False)
async def wasnt_me_form(
    databases: DatabasesDep, ip: ClientIp, token: Annotated[str, Form(max_length=128)]
) -> HTMLResponse:
    market = service.token_market(token)
    if market is None or market not in databases.urls:
        return page.render("en", page.INVALID, status=400)
    async with databases.session(market) as db:
        notice = await wasnt_me.find_link(db, token=token)
        language = notice.language if notice else "en"
        try:
            await wasnt_me.secure_account(db, token=token, ip=ip)
        except wasnt_me.LinkInvalid:
            return page.render(language, page.INVALID, status=400)
    return page.render(language, page.DONE)
