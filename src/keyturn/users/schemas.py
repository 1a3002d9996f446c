from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from keyturn.fields import Text, Url


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
