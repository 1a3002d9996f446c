from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from keyturn.auth.mfa.schemas import RecoveryCodeField, TotpCode
from keyturn.auth.oauth.schemas import IdToken
from keyturn.auth.passkeys.schemas import CREDENTIAL_EXAMPLE, AuthenticationCredential
from keyturn.auth.schemas import AnyPassword
from keyturn.fields import Text


class PasswordProof(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"method": "password", "password": "correct horse"}]}
    )

    method: Literal["password"]
    password: AnyPassword


class SmsProof(BaseModel):
    """A code texted to the account's own phone (`POST /auth/send-verification` with it)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"method": "sms", "verification_code": "123456"}]}
    )

    method: Literal["sms"]
    verification_code: str = Field(pattern=r"^[0-9]{4,8}$")


class PasskeyProof(BaseModel):
    """An answer to `POST /auth/reauthenticate/passkey/options` from one of your passkeys."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"method": "passkey", "credential": CREDENTIAL_EXAMPLE}]}
    )

    method: Literal["passkey"]
    credential: AuthenticationCredential


class TotpProof(BaseModel):
    """A code from the account's authenticator app (a second factor)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"method": "totp", "code": "492039"}]}
    )

    method: Literal["totp"]
    code: TotpCode


class RecoveryCodeProof(BaseModel):
    """One of the account's unused recovery codes; it is spent."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"method": "recovery_code", "recovery_code": "abcd-efgh-ijkm-npqr"}]
        }
    )

    method: Literal["recovery_code"]
    recovery_code: RecoveryCodeField


class ProviderProof(BaseModel):
    """A fresh id_token from the Apple or Google account linked to yours (as for sign-in)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"method": "apple", "id_token": "eyJraWQiOi...", "nonce": "c2f4b1e0"}]
        }
    )

    method: Literal["apple", "google"]
    id_token: str = IdToken
    nonce: Text | None = Field(default=None, min_length=1, max_length=256)


Proof = PasswordProof | SmsProof | PasskeyProof | TotpProof | RecoveryCodeProof | ProviderProof
ReauthenticateIn = Annotated[Proof, Field(discriminator="method")]


class ReauthenticatedOut(BaseModel):
    success: bool = True
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int
    session_id: str
    auth_time: int = Field(description="Now: the proof just given (Unix seconds)")
    amr: list[str] = Field(description="The methods it used (RFC 8176)")
