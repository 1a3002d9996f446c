"""HTTP for the person's rights over their data: delete the account, export everything."""

from fastapi import APIRouter

from keyturn.deps import (
    STEP_UP_RESPONSES,
    Admin,
    ClientIp,
    Db,
    OAuthDep,
    PathId,
    RequestMarket,
    SettingsDep,
    StepUp,
)
from keyturn.files.storage import StorageDep
from keyturn.privacy import export as exporting
from keyturn.privacy import service
from keyturn.privacy.schemas import DataExport

router = APIRouter(tags=["profile"])
admin_router = APIRouter(prefix="/admin/users", tags=["admin"])


@router.delete(
    "/profile",
    status_code=204,
    summary="Delete your account (recent sign-in needed)",
    responses=STEP_UP_RESPONSES,
    description="Ends every session; deletes cart, wishlist, addresses, files, sign-in "
    "methods and counters; keeps orders for accounting with name, phone, email and address "
    "removed; revokes Apple's token. The same phone or email may sign up again afterwards "
    "as a new person (docs/privacy.md).",
)
async def delete_profile(db: Db, oauth: OAuthDep, storage: StorageDep, caller: StepUp) -> None:
    # No client address: an account deleted by its owner is audited without one
    # (docs/privacy.md); an administrator's deletion records the administrator's.
    await service.delete_account(
        db, oauth, storage, user_id=caller.user_id, session_id=caller.session_id
    )


@router.get(
    "/profile/export",
    summary="Everything keyturn holds about you, as one JSON document (recent sign-in needed)",
    responses=STEP_UP_RESPONSES,
    description="Field by field in docs/privacy.md. No secrets: no password hash, no token.",
)
async def export_profile(
    db: Db, settings: SettingsDep, caller: StepUp, market: RequestMarket
) -> DataExport:
    return await exporting.export(db, caller=caller, market=market, usage_rules=settings.usage)


@admin_router.delete(
    "/{user_id}",
    status_code=204,
    summary="Delete a customer's account, as DELETE /profile does",
    responses={404: {"description": "No such user in this market"}},
)
async def delete_user(
    db: Db, oauth: OAuthDep, storage: StorageDep, admin: Admin, ip: ClientIp, user_id: PathId
) -> None:
    await service.delete_account(db, oauth, storage, user_id=user_id, admin_id=admin.user_id, ip=ip)
