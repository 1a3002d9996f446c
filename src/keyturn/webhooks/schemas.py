from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from keyturn.events.service import TYPES
from keyturn.fields import Text


def _known_pattern(pattern: str) -> str:
    """`*`, a type (`order.created`) or a family (`order.*`) that exists."""
    if pattern == "*" or pattern in TYPES:
        return pattern
    if pattern.endswith(".*") and any(t.startswith(pattern[:-1]) for t in TYPES):
        return pattern
    raise ValueError(f"unknown event type {pattern!r}; see GET /api/v1/admin/event-types")


EventPattern = Annotated[str, Field(max_length=64), AfterValidator(_known_pattern)]
EventPatterns = Annotated[list[EventPattern], Field(min_length=1, max_length=50)]
WebhookUrl = Annotated[Text, Field(min_length=8, max_length=2048)]
Description = Annotated[Text, Field(max_length=200)]

EXAMPLE_URL = "https://hooks.example.com/keyturn"


class WebhookCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": EXAMPLE_URL,
                    "event_types": ["order.*", "user.deleted"],
                    "description": "Fulfilment",
                }
            ]
        }
    )

    url: WebhookUrl = Field(description="`https://` (also `http://` in development)")
    event_types: EventPatterns = Field(description="Types, families (`order.*`) or `*`")
    enabled: bool = True
    description: Description | None = None


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"enabled": False}, {"event_types": ["session.*"]}]}
    )

    url: WebhookUrl | None = None
    event_types: EventPatterns | None = None
    enabled: bool | None = None
    description: Description | None = None


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    description: str | None
    event_types: list[str]
    enabled: bool
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the secret before the last rotation signs too"
    )
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Shown once: verify signatures with it (Standard Webhooks)")


class WebhookList(BaseModel):
    items: list[WebhookRead]


class SecretRotate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"overlap_seconds": 86400}]})

    overlap_seconds: int | None = Field(
        default=None,
        ge=0,
        le=7 * 86400,
        description="How long the old secret keeps signing too (default "
        "`KEYTURN_WEBHOOKS__SECRET_OVERLAP`, 24 h)",
    )


class SecretRotated(BaseModel):
    secret: str = Field(description="The new secret, shown once")
    previous_secret_expires_at: datetime | None


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt: int = Field(validation_alias="number")
    outcome: Literal["sending", "succeeded", "failed", "lost"]
    response_code: int | None
    duration_ms: int | None
    error: str | None
    started_at: datetime
    finished_at: datetime | None


class DeliveryRead(BaseModel):
    id: int
    event_id: int
    event_type: str
    webhook_id: str = Field(description="The `webhook-id` header of every attempt")
    status: Literal["pending", "delivered", "failed"]
    attempt: int = Field(description="Attempts made so far")
    response_code: int | None = Field(description="Of the last finished attempt")
    duration_ms: int | None = Field(description="Of the last finished attempt")
    next_attempt_at: datetime | None = Field(description="While pending")
    give_up_at: datetime
    created_at: datetime
    finished_at: datetime | None
    attempts: list[AttemptRead]


class DeliveryList(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None
