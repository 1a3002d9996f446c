from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from keyturn.auth.schemas import RefreshTransport
from keyturn.fields import Text


def _b64url(max_length: int) -> Any:
    return StringConstraints(pattern=r"^[A-Za-z0-9_-]*={0,2}$", max_length=max_length)


CredentialId = Annotated[str, _b64url(1400), Field(min_length=1)]
Transport = Annotated[str, StringConstraints(pattern=r"^[a-z-]{1,32}$")]
PasskeyName = Annotated[Text, Field(min_length=1, max_length=100)]


class AttestationResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    clientDataJSON: Annotated[str, _b64url(4096)]
    attestationObject: Annotated[str, _b64url(16384)]
    transports: list[Transport] | None = Field(default=None, max_length=8)


class AssertionResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    clientDataJSON: Annotated[str, _b64url(4096)]
    authenticatorData: Annotated[str, _b64url(4096)]
    signature: Annotated[str, _b64url(2048)]
    userHandle: Annotated[str, _b64url(128)] | None = None


class RegistrationCredential(BaseModel):
    """What `navigator.credentials.create()` returned, as `PublicKeyCredential.toJSON()`
    (or an iOS/Android passkey API) encodes it: base64url fields."""

    model_config = ConfigDict(extra="ignore")

    id: CredentialId
    rawId: CredentialId
    type: Literal["public-key"]
    response: AttestationResponse
    authenticatorAttachment: Literal["platform", "cross-platform"] | None = None


class AuthenticationCredential(BaseModel):
    """What `navigator.credentials.get()` returned, as `PublicKeyCredential.toJSON()`."""

    model_config = ConfigDict(extra="ignore")

    id: CredentialId
    rawId: CredentialId
    type: Literal["public-key"]
    response: AssertionResponse
    authenticatorAttachment: Literal["platform", "cross-platform"] | None = None


CREDENTIAL_EXAMPLE: dict[str, Any] = {
    "id": "hY3...",
    "rawId": "hY3...",
    "type": "public-key",
    "response": {
        "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0Ii...",
        "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ",
        "signature": "MEUCIQ...",
        "userHandle": "Xy2...",
    },
}


class PasskeyLoginIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"credential": CREDENTIAL_EXAMPLE, "device_name": "Mac"}]}
    )

    credential: AuthenticationCredential
    device_name: Text | None = Field(default=None, max_length=100)
    refresh_transport: RefreshTransport = None


class PasskeyCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "credential": {
                        "id": "hY3...",
                        "rawId": "hY3...",
                        "type": "public-key",
                        "response": {
                            "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIi...",
                            "attestationObject": "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YV...",
                            "transports": ["internal", "hybrid"],
                        },
                    },
                    "name": "My iPhone",
                }
            ]
        }
    )

    credential: RegistrationCredential
    name: PasskeyName | None = Field(
        default=None,
        description="Default: the provider's name (e.g. iCloud Keychain), else this device's",
    )


class PasskeyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Work"}]})

    name: PasskeyName


class PasskeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    authenticator: str | None = Field(
        description="The passkey provider, where its AAGUID is known (e.g. Google Password Manager)"
    )
    aaguid: str
    backup_eligible: bool = Field(description="A synced passkey (usable on the user's devices)")
    backed_up: bool = Field(description="Currently backed up / synced by its provider")
    created_at: datetime
    last_used_at: datetime | None


class PasskeyList(BaseModel):
    items: list[PasskeyRead]
