from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from keyturn.deps import Caller, Db, PathId, SettingsDep
from keyturn.fields import Cursor
from keyturn.files import service
from keyturn.files.schemas import FileList, FileRead
from keyturn.files.storage import StorageDep

router = APIRouter(prefix="/files", tags=["files"])

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a file (multipart field `file`); uses one `uploads` unit",
    description="PDF, DOCX, TXT, PNG or JPEG, judged by content; at most `files.max_size` "
    "bytes (413 before the rest is read). 415 for other content, 429 when the `uploads` "
    "counter is used up.",
    openapi_extra=UPLOAD_BODY,
)
async def upload_file(
    request: Request, db: Db, caller: Caller, settings: SettingsDep, storage: StorageDep
) -> FileRead:
    # The body is read here, as a stream, by the service; FastAPI never parses it.
    return await service.upload_file(
        db,
        user_id=caller.user_id,
        role=caller.role,
        settings=settings,
        storage=storage,
        stream=request.stream(),
        content_type=request.headers.get("content-type"),
        content_length=request.headers.get("content-length"),
    )


@router.get("", summary="Your files, newest first")
async def list_files(
    db: Db,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Cursor | None = None,
) -> FileList:
    return await service.list_files(db, user_id=caller.user_id, limit=limit, cursor=cursor)


@router.get("/{file_id}", summary="One of your files' metadata")
async def read_file(db: Db, caller: Caller, file_id: PathId) -> FileRead:
    return await service.read_file(db, user_id=caller.user_id, file_id=file_id)


@router.get(
    "/{file_id}/content",
    summary="Download one of your files (always as an attachment)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download_file(
    db: Db, caller: Caller, file_id: PathId, storage: StorageDep
) -> StreamingResponse:
    download = await service.download_file(
        db, user_id=caller.user_id, file_id=file_id, storage=storage
    )
    meta = download.file
    media_type = meta.content_type + (
        "; charset=utf-8" if meta.content_type == "text/plain" else ""
    )
    # `X-Content-Type-Options: nosniff` is set on every response by RequestContextMiddleware.
    return StreamingResponse(
        download.chunks,
        media_type=media_type,
        headers={
            "Content-Disposition": attachment(meta.filename),
            "Content-Length": str(meta.size),
        },
    )


@router.delete("/{file_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a file")
async def delete_file(db: Db, caller: Caller, file_id: PathId, storage: StorageDep) -> Response:
    await service.delete_file(db, user_id=caller.user_id, file_id=file_id, storage=storage)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def attachment(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact name in RFC 5987 form."""
    fallback = "".join(
        ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\;' else "_" for ch in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
