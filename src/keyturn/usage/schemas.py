from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

COUNTER_NAME = r"^[a-z][a-z0-9_.-]{0,63}$"


class CounterRead(BaseModel):
    name: str
    used: int
    limit: int
    remaining: int
    resets_at: datetime | None


class UsageRead(BaseModel):
    counters: list[CounterRead]


class ConsumeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"amount": 1}]})

    amount: Annotated[StrictInt, Field(ge=1, le=1000)] = 1


class LimitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"limit": 20}]})

    limit: Annotated[StrictInt, Field(ge=0, le=1_000_000_000)]
