from fastapi import APIRouter

from keyturn.deps import Admin, Caller, Db, PathId
from keyturn.users import service
from keyturn.users.schemas import AccountStatus, UserRead, UserUpdate

router = APIRouter(tags=["profile"])
admin_router = APIRouter(prefix="/admin/users", tags=["admin"])


@router.get("/profile", summary="The signed-in user's profile")
async def read_profile(db: Db, caller: Caller) -> UserRead:
    return await service.read_profile(db, user_id=caller.user_id)


@router.patch("/profile", summary="Change your name, picture, company, language or country")
async def update_profile(db: Db, caller: Caller, body: UserUpdate) -> UserRead:
    return await service.update_profile(db, user_id=caller.user_id, changes=body)


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
