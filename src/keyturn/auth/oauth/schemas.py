from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from keyturn.auth.schemas import RefreshTransport
from keyturn.fields import Text

ProviderName = Literal["apple", "google"]

# An id_token is a JWT of a few hundred bytes to a few KiB; anything larger is not one.
IdToken = Field(
    min_length=20, max_length=8192, pattern=r"^[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*$"
)


class OAuthSignInIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id_token": "eyJraWQiOi...",
                    "nonce": "c2f4b1e0-8d7e-4a61-9a73-2f5d3f0c6b11",
                    "full_name": "Ada Lovelace",
                    "authorization_code": "c8a1...",
                    "device_name": "iPhone 16",
                }
            ]
        },
    )

    id_token: str = IdToken
    nonce: Text | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="The nonce the app started the sign-in with (Apple: the raw value whose "
        "SHA-256 the app gave Apple)",
    )
    full_name: Text | None = Field(
        default=None,
        max_length=200,
        description="Apple gives the app the name only at the first sign-in: send it then",
    )
    authorization_code: Text | None = Field(
        default=None,
        max_length=1024,
        description="Apple only: the app's authorization code, exchanged for the refresh "
        "token keyturn revokes when the account is deleted",
    )
    device_name: Text | None = Field(default=None, max_length=100)
    refresh_transport: RefreshTransport = None


class IdentityLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_token: str = IdToken
    nonce: Text | None = Field(default=None, min_length=1, max_length=256)
    full_name: Text | None = Field(default=None, max_length=200)
    authorization_code: Text | None = Field(default=None, max_length=1024)


class IdentityRead(BaseModel):
    """A linked Apple or Google account, as the person may see it (no tokens)."""

    model_config = ConfigDict(from_attributes=True)

    provider: str
    email: str | None = Field(description="The email the provider showed when last seen")
    email_verified: bool
    private_relay: bool = Field(description="Apple's Hide My Email relay address")
    full_name: str | None
    created_at: datetime
    last_used_at: datetime | None


class IdentityList(BaseModel):
    items: list[IdentityRead]
