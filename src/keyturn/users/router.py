from typing import Annotated

from fastapi import APIRouter, Query

from keyturn.deps import Admin, Caller, Db, PathId, SignedIn
from keyturn.fields import Cursor, Text
from keyturn.routing import SignedInRead
from keyturn.users import service
from keyturn.users.schemas import AccountStatus, AdminUserList, AdminUserRead, UserRead, UserUpdate

router = APIRouter(tags=["profile"])
admin_router = APIRouter(prefix="/admin/users", tags=["admin"])


async def read_profile(bearer: SignedIn) -> UserRead:
    return await service.read_profile(bearer.market, claims=bearer.claims)


router.add_api_route(
    "/profile",
    read_profile,
    methods=["GET"],
    summary="The signed-in user's profile",
    route_class_override=SignedInRead,
)


@router.patch("/profile", summary="Change your name, picture, company, language or country")
async def update_profile(db: Db, caller: Caller, body: UserUpdate) -> UserRead:
    return await service.update_profile(db, user_id=caller.user_id, changes=body)


@admin_router.get("", summary="Find accounts by id, part of an email or part of a phone number")
async def search_users(
    db: Db,
    _: Admin,
    q: Annotated[
        Text | None, Query(min_length=1, max_length=100, examples=["ada@example.com", "+1312555"])
    ] = None,
    cursor: Cursor | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AdminUserList:
    return await service.search_users(db, q=q, cursor=cursor, limit=limit)


@admin_router.get(
    "/{user_id}",
    summary="One account: profile, sign-in methods, live session count",
    responses={404: {"description": "No such user in this market"}},
)
async def admin_read_user(db: Db, _: Admin, user_id: PathId) -> AdminUserRead:
    return await service.admin_read_user(db, user_id=user_id)


@admin_router.post("/{user_id}/disable", summary="Disable an account and end all its sessions")
async def disable_user(db: Db, admin: Admin, user_id: PathId) -> AccountStatus:
    return await service.set_account_enabled(
        db, user_id=user_id, enabled=False, admin_id=admin.user_id
    )


@admin_router.post("/{user_id}/enable", summary="Enable a disabled account")
async def enable_user(db: Db, admin: Admin, user_id: PathId) -> AccountStatus:
    return await service.set_account_enabled(
        db, user_id=user_id, enabled=True, admin_id=admin.user_id
    )
