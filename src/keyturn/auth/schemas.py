from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from keyturn.fields import Text
from keyturn.users.schemas import UserRead

RefreshTransport = Annotated[
    Literal["body", "cookie"] | None,
    Field(
        description="`cookie`: browsers get the refresh token only as an HttpOnly cookie "
        "(the JSON `refresh_token` is null). Default: body. Header `X-Refresh-Transport` "
        "works too."
    ),
]


class SendVerificationIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"phone": "+13125550100"}]})

    phone: Text = Field(min_length=3, max_length=32, description="E.164, e.g. +13125550100")


class SendVerificationOut(BaseModel):
    success: bool = True
    message: str
    expires_in: int = Field(description="Seconds the code stays valid")
    resend_after: int = Field(description="Seconds before another code may be requested")


class VerifyCodeIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"phone": "+13125550100", "verification_code": "123456", "device_name": "Pixel 8"}
            ]
        }
    )

    phone: Text = Field(min_length=3, max_length=32)
    verification_code: str = Field(pattern=r"^[0-9]{4,8}$")
    device_name: Text | None = Field(default=None, max_length=100)
    refresh_transport: RefreshTransport = None


class RefreshIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"refresh_token": "k3J..."}]})

    # Any string is accepted here: one that is not a live token is a 401 like any other
    # invalid token (clients treat 401 as "sign in again"); only a non-string is a 422.
    refresh_token: str | None = Field(
        default=None, description="Omit when the browser sends the refresh cookie instead"
    )
    refresh_transport: RefreshTransport = None


class LogoutIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"scope": "current"}]})

    scope: Literal["current", "others", "all"] = "current"


class GuestIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"device_name": "Pixel 8"}]})

    device_name: Text | None = Field(default=None, max_length=100)


class TokenResponse(BaseModel):
    success: bool = True
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int
    refresh_token: str | None = Field(
        description="Null when the refresh token was set as an HttpOnly cookie"
    )
    refresh_expires_in: int
    session_id: str
    user: UserRead
    is_new_user: bool | None = Field(default=None, description="Set by sign-in endpoints")


class MessageOut(BaseModel):
    success: bool = True
    message: str


# Login and current passwords are bounded loosely (old passwords may break today's rules);
# new passwords are checked by `auth.password.strength` so the refusal says why.
AnyPassword = Annotated[Text, Field(min_length=1, max_length=1024)]
NewPassword = Annotated[
    Text, Field(max_length=1024, description="8-128 characters, any Unicode but controls")
]
EmailField = Annotated[Text, Field(min_length=3, max_length=320, examples=["alice@example.com"])]


class RegisterIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "alice@example.com",
                    "password": "correct horse battery",
                    "full_name": "Alice",
                    "company": "Acme",
                }
            ]
        }
    )

    email: EmailField
    password: NewPassword
    full_name: Text | None = Field(default=None, max_length=200)
    company: Text | None = Field(default=None, max_length=200)
    device_name: Text | None = Field(default=None, max_length=100)
    refresh_transport: RefreshTransport = None


class LoginIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "alice@example.com", "password": "correct horse battery"}]
        }
    )

    email: EmailField
    password: AnyPassword
    device_name: Text | None = Field(default=None, max_length=100)
    refresh_transport: RefreshTransport = None


class ForgotPasswordIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "ada@example.com"}]})

    email: EmailField


class ResetPasswordIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": "from-the-reset-email-xxxxxxxx",
                    "new_password": "correct horse battery staple",
                }
            ]
        }
    )

    token: Text = Field(min_length=20, max_length=200, description="From the reset email")
    new_password: NewPassword


class ChangePasswordIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "current_password": "old passphrase here",
                    "new_password": "correct horse battery staple",
                }
            ]
        }
    )

    current_password: AnyPassword
    new_password: NewPassword


class PasswordChangedOut(MessageOut):
    sessions_revoked: int = Field(description="Sessions ended by this change")


class LinkEmailIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "alice@example.com", "password": "correct horse battery"}]
        }
    )

    email: EmailField
    password: NewPassword


class EmailProofSent(MessageOut):
    expires_in: int = Field(description="Seconds the emailed code stays valid")


class EmailProofIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "12345678"}]})

    code: str = Field(pattern=r"^[0-9]{4,10}$", description="The code emailed to the address")


class LinkPhoneVerifyIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phone": "+13125550100", "verification_code": "123456"}]}
    )

    phone: Text = Field(min_length=3, max_length=32)
    verification_code: str = Field(pattern=r"^[0-9]{4,8}$")
