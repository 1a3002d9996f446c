from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from keyturn.deps import Db, PathId, WebhookRulesDep, get_admin
from keyturn.fields import Cursor
from keyturn.webhooks import service
from keyturn.webhooks.schemas import (
    DeliveryList,
    DeliveryRead,
    SecretRotate,
    SecretRotated,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookRead,
    WebhookUpdate,
)

# Administrators only: every route below (none of them needs to know which one).
router = APIRouter(
    prefix="/admin/webhooks", tags=["admin: events and webhooks"], dependencies=[Depends(get_admin)]
)

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such webhook in this market (`webhook.not_found`)"}
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a webhook endpoint; its signing secret is in this answer only",
    description="Events of the subscribed types are POSTed to `url`, signed per the Standard "
    "Webhooks spec (`webhook-id`, `webhook-timestamp`, `webhook-signature`; verify with the "
    "`standardwebhooks` package and the `secret`). `https://` only in production; local, "
    "private and reserved addresses are refused (422 `webhook.url_not_allowed`).",
)
async def create_webhook(db: Db, rules: WebhookRulesDep, body: WebhookCreate) -> WebhookCreated:
    return await service.create_webhook(db, rules=rules, body=body)


@router.get("", summary="Webhook endpoints of this market (never their secrets)")
async def list_webhooks(db: Db) -> WebhookList:
    return await service.list_webhooks(db)


@router.get("/{webhook_id}", summary="One webhook endpoint", responses=NOT_FOUND)
async def read_webhook(db: Db, webhook_id: PathId) -> WebhookRead:
    return await service.read_webhook(db, webhook_id=webhook_id)


@router.patch(
    "/{webhook_id}",
    summary="Change the URL, the event types, the description, or turn it off and on",
    responses=NOT_FOUND,
)
async def update_webhook(
    db: Db, rules: WebhookRulesDep, webhook_id: PathId, body: WebhookUpdate
) -> WebhookRead:
    return await service.update_webhook(db, rules=rules, webhook_id=webhook_id, body=body)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an endpoint with its delivery log",
    responses=NOT_FOUND,
)
async def delete_webhook(db: Db, webhook_id: PathId) -> Response:
    await service.delete_webhook(db, webhook_id=webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/rotate-secret",
    summary="A new signing secret (shown once); the old one keeps signing for the overlap",
    description="During the overlap every delivery carries two signatures, one per secret, "
    "so receivers switch secrets whenever they like.",
    responses=NOT_FOUND,
)
async def rotate_secret(
    db: Db, rules: WebhookRulesDep, webhook_id: PathId, body: SecretRotate
) -> SecretRotated:
    overlap = None if body.overlap_seconds is None else timedelta(seconds=body.overlap_seconds)
    return await service.rotate_secret(db, rules=rules, webhook_id=webhook_id, overlap=overlap)


@router.get(
    "/{webhook_id}/deliveries",
    summary="The delivery log, newest first: status, attempts, response codes, durations",
    responses=NOT_FOUND,
)
async def list_deliveries(
    db: Db,
    webhook_id: PathId,
    status: Literal["pending", "delivered", "failed"] | None = None,
    cursor: Cursor | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> DeliveryList:
    return await service.list_deliveries(
        db, webhook_id=webhook_id, status=status, cursor=cursor, limit=limit
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a delivery again (same `webhook-id`), now, with a fresh retry period",
    responses={
        404: {"description": "No such webhook or delivery"},
        409: {"description": "An attempt is in flight (`webhook.delivery_in_flight`)"},
    },
)
async def replay_delivery(
    db: Db, rules: WebhookRulesDep, webhook_id: PathId, delivery_id: PathId
) -> DeliveryRead:
    return await service.replay(db, rules=rules, webhook_id=webhook_id, delivery_id=delivery_id)
