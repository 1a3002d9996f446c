from datetime import datetime

from pydantic import BaseModel, ConfigDict


class OutboxMessage(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    to: str
    kind: str
    body: str
    code: str | None
    token: str | None
    created_at: datetime


class OutboxRead(BaseModel):
    items: list[OutboxMessage]
