from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    type: str
    payload: dict[str, Any]
    created_at: datetime


class EventList(BaseModel):
    items: list[EventRead]
    next_cursor: str | None


class EventTypeRead(BaseModel):
    type: str
    description: str
