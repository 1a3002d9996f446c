"""Seed 004's upload-quota calls (`/api/auth/...`) and files (`/api/files/*`)."""

from typing import Annotated

from fastapi import APIRouter, Path, Request

from keyturn.compat.jobpsych import schemas as out
from keyturn.compat.jobpsych import uploads
from keyturn.compat.jobpsych.deps import JobPsychDb, JobPsychMarket
from keyturn.compat.jobpsych.errors import JobPsychRoute
from keyturn.deps import Caller, ClientIp, Db, OptionalClaims, SettingsDep
from keyturn.fields import Text
from keyturn.files.router import UPLOAD_BODY
from keyturn.files.storage import StorageDep

quota_router = APIRouter(prefix="/api/auth", tags=["jobpsych"], route_class=JobPsychRoute)
files_router = APIRouter(prefix="/api/files", tags=["jobpsych"], route_class=JobPsychRoute)

ACCESS = (
    "Answers the user's own bearer token, or a caller from `KEYTURN_JOBPSYCH__SERVICE_IPS` "
    "(the analysis service); anyone else gets 401."
)


@quota_router.get(
    "/user-uploads/{email}",
    summary="JobPsych: a user's upload count, by email (advisory)",
    description=ACCESS + " The increment is the real, atomic check.",
    responses={
        401: {"description": "Not the user, nor a service"},
        404: {"description": "No such user"},
    },
)
async def user_uploads(
    db: JobPsychDb,
    settings: SettingsDep,
    market: JobPsychMarket,
    claims: OptionalClaims,
    ip: ClientIp,
    email: Annotated[Text, Path(max_length=320)],
) -> out.UploadCount:
    return await uploads.upload_count(
        db, settings=settings, market=market, email=email, claims=claims, ip=ip
    )


@quota_router.post(
    "/increment-upload",
    summary="JobPsych: use one upload, atomically (429 at the limit, nothing used)",
    description=ACCESS,
    responses={
        401: {"description": "Not the user, nor a service"},
        404: {"description": "No such user"},
        429: {"description": "The upload limit is reached"},
    },
)
async def increment_upload(
    db: JobPsychDb,
    settings: SettingsDep,
    market: JobPsychMarket,
    claims: OptionalClaims,
    ip: ClientIp,
    body: out.EmailIn,
) -> out.UploadCount:
    return await uploads.increment_upload(
        db, settings=settings, market=market, email=body.email, claims=claims, ip=ip
    )


@quota_router.get("/upload-stats", summary="JobPsych: your upload statistics")
async def upload_stats(db: Db, settings: SettingsDep, caller: Caller) -> out.UploadStatsOut:
    return await uploads.upload_stats(db, settings=settings, user_id=caller.user_id)


async def _upload(
    request: Request, db: Db, caller: Caller, settings: SettingsDep, storage: StorageDep
) -> out.FileOut:
    return await uploads.upload_file(
        db,
        settings=settings,
        storage=storage,
        user_id=caller.user_id,
        role=caller.role,
        stream=request.stream(),
        content_type=request.headers.get("content-type"),
        content_length=request.headers.get("content-length"),
    )


for path in ("/upload", "/count"):  # the seed's documents say /upload, its code /count
    files_router.post(
        path,
        summary=f"JobPsych: upload a file (multipart `file`); uses one upload ({path})",
        openapi_extra=UPLOAD_BODY,
        responses={429: {"description": "The upload limit is reached"}},
    )(_upload)


@files_router.get("/stats", summary="JobPsych: your uploads and recent files")
async def file_stats(db: Db, settings: SettingsDep, caller: Caller) -> out.FileStatsOut:
    return await uploads.file_stats(db, settings=settings, user_id=caller.user_id)
