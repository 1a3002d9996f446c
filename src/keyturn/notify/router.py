from typing import Annotated

from fastapi import APIRouter, Query

from keyturn.deps import Db, SettingsDep
from keyturn.errors import NotFound
from keyturn.fields import Text
from keyturn.notify import outbox
from keyturn.notify.schemas import OutboxRead

router = APIRouter(tags=["dev"])


@router.get(
    "/dev/outbox",
    summary="Messages the console providers sent (development only)",
    description="Newest first. The verification code or reset token is its own field, so a "
    "person or a test can finish a sign-in without a phone. 404 outside development.",
)
async def dev_outbox(
    db: Db,
    settings: SettingsDep,
    to: Annotated[Text, Query(min_length=3, max_length=320, description="Phone (E.164) or email")],
) -> OutboxRead:
    if not settings.is_development:
        raise NotFound("Not found.")
    return await outbox.read(db, to=to)
