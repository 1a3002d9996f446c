from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from keyturn.auth.schemas import RefreshTransport

TotpCode = Annotated[
    str, Field(pattern=r"^[0-9]{6}$", description="The 6 digits the authenticator app shows")
]
RecoveryCodeField = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9 -]{16,40}$",
        description="One of the recovery codes (`xxxx-xxxx-xxxx-xxxx`; case, spaces and "
        "dashes do not matter)",
    ),
]


class TotpEnrolmentOut(BaseModel):
    secret: str = Field(description="Base32, for typing into the app when the QR cannot be read")
    otpauth_uri: str = Field(description="`otpauth://totp/...`: what the QR code holds")
    qr_svg: str = Field(description="The QR code as an SVG document (`<img src=data:...>`)")
    expires_in: int = Field(description="Seconds left to confirm with a code from the app")


class TotpConfirmIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "492039"}]})

    code: TotpCode


class RecoveryCodesOut(BaseModel):
    success: bool = True
    message: str
    recovery_codes: list[str] = Field(
        description="Shown this once: each signs in once in place of the app's code"
    )


class MfaStatusOut(BaseModel):
    totp_enabled: bool
    totp_pending: bool = Field(description="An enrolment waits for its first code")
    enabled_at: datetime | None
    last_used_at: datetime | None
    recovery_codes_remaining: int
    methods: list[str] = Field(description="What the second step at sign-in accepts")


class MfaRequiredOut(BaseModel):
    """A sign-in whose first factor was right, waiting for the second: no tokens yet."""

    mfa_required: Literal[True] = True
    mfa_token: str = Field(description="For `POST /auth/mfa/verify`; single-use, 5 minutes")
    methods: list[str] = Field(description="`totp` (`code`) and `recovery_code`")
    expires_in: int
    message: str


class MfaVerifyIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"mfa_token": "from-the-sign-in-answer-xxxxxxxxxxxxxxxxxxxxxx", "code": "492039"},
                {
                    "mfa_token": "from-the-sign-in-answer-xxxxxxxxxxxxxxxxxxxxxx",
                    "recovery_code": "abcd-efgh-ijkm-npqr",
                },
            ]
        }
    )

    mfa_token: str = Field(pattern=r"^[A-Za-z0-9_-]{20,200}$")
    code: TotpCode | None = None
    recovery_code: RecoveryCodeField | None = None
    refresh_transport: RefreshTransport = None

    @model_validator(mode="after")
    def _one_factor(self) -> "MfaVerifyIn":
        if (self.code is None) == (self.recovery_code is None):
            raise ValueError("send exactly one of `code` and `recovery_code`")
        return self


class MfaResetOut(BaseModel):
    success: bool = True
    message: str
    user_id: int
    removed: bool = Field(description="False if the account had no second factor")
