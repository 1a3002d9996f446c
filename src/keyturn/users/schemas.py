from contextvars import ContextVar
from datetime import datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from keyturn.fields import Text, Url

# Set for the request by keyturn.compat.mobile when `KEYTURN_COMPAT` includes `mobile-v0`:
# every `user` object then also carries the seed app's names `phone` and `name`.
SEED_USER_FIELDS: ContextVar[bool] = ContextVar("seed_user_fields", default=False)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    phone_number: str | None
    email: str | None
    full_name: str | None
    profile_image_url: str | None
    company: str | None
    role: str
    is_active: bool
    is_verified: bool
    email_verified: bool
    market: str
    language: str | None
    country: str | None
    last_login: datetime | None
    created_at: datetime

    @model_serializer(mode="wrap")
    def _seed_fields(self, handler: SerializerFunctionWrapHandler):
        # No return annotation: the OpenAPI schema stays the fields' own.
        data: dict[str, Any] = handler(self)
        if SEED_USER_FIELDS.get():
            data["phone"] = self.phone_number
            data["name"] = self.full_name
        return data


class UserUpdate(BaseModel):
    """Fields a person may change about themselves; omitted fields stay as they are."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"full_name": "Ada Lovelace", "company": "Analytical Engines", "language": "en"}
            ]
        },
    )

    full_name: Text | None = Field(default=None, min_length=1, max_length=200)
    profile_image_url: Url | None = Field(default=None)
    company: Text | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class AccountStatus(BaseModel):
    success: bool = True
    user: UserRead
    sessions_revoked: int = 0


class AdminUserRead(UserRead):
    """What staff see about an account: the profile and how its owner can sign in."""

    sign_in_methods: list[str] = Field(
        description="`phone`, `password`, `passkey`, `apple`, `google`, and `totp` when an "
        "authenticator app is the second step"
    )
    live_sessions: int
    updated_at: datetime


class AdminUserList(BaseModel):
    items: list[UserRead]
    next_cursor: str | None
