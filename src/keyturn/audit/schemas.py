from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from keyturn.db import MAX_ID
from keyturn.fields import Moment


class AuditFilter(BaseModel):
    """Which events: all of them when nothing is given. `until` is exclusive."""

    user_id: int | None = Field(default=None, ge=1, le=MAX_ID, examples=[42])
    event: str | None = Field(
        default=None,
        pattern=r"^[a-z_]+(\.[a-z_]+)*$",
        max_length=48,
        description="An event name (`login.failed`) or its first part (`login`)",
        examples=["login.failed"],
    )
    since: Moment = Field(
        default=None, description="ISO 8601; without a zone, UTC", examples=["2026-11-01T00:00:00Z"]
    )
    until: Moment = Field(default=None, description="ISO 8601, exclusive; without a zone, UTC")


AuditFilterQuery = Annotated[AuditFilter, Query()]
ExportFormat = Literal["csv", "ndjson"]


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event: str
    user_id: int | None
    session_id: str | None
    ip: str | None
    details: dict[str, Any]
    created_at: datetime


class AuditEventList(BaseModel):
    items: list[AuditEventRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for older events")


class AuditEventTypes(BaseModel):
    items: list[str]
