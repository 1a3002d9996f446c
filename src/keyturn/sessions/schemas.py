from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from keyturn.fields import Text


class SessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    auth_method: str
    device_name: str | None
    user_agent: str | None
    ip: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool = False


class SessionList(BaseModel):
    items: list[SessionRead]


class SessionsEnded(BaseModel):
    success: bool = True
    sessions_revoked: int


class VerifyTokenIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"token": "eyJhbGciOi..."}]})

    token: Text = Field(min_length=1, max_length=4096)


class Introspection(BaseModel):
    """RFC 7662-style: `active` is false for anything not currently usable."""

    active: bool
    sub: str | None = None
    sid: str | None = None
    mkt: str | None = None
    role: str | None = None
    iat: int | None = None
    exp: int | None = None
    jti: str | None = None
    iss: str | None = None
    aud: str | None = None
    auth_time: int | None = Field(
        default=None, description="When the person last proved who they are in this session"
    )
    amr: list[str] | None = Field(
        default=None, description="How (RFC 8176): `sms`, `pwd`, `hwk`/`swk` + `user`, `mfa`"
    )


class KeyInfo(BaseModel):
    kid: str
    alg: str
    fingerprint: str
    signing: bool
    activates_at: str | None = None
    retires_at: str | None = None


class JwtInfo(BaseModel):
    issuer: str
    audience: str
    algorithms: list[str]
    active_kid: str
    jwks_uri: str
    access_token_ttl: int
    keys: list[KeyInfo]


class RevokedSession(BaseModel):
    session_id: str
    market: str
    reason: str
    revoked_at: datetime
    expires_at: datetime = Field(
        description="After this no access token of the session can pass a verifier: forget it"
    )


class RevocationList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "session_id": "5f0c2b1e9a7d4c3b8e6f1a2d3c4b5a69",
                            "market": "us",
                            "reason": "logout",
                            "revoked_at": "2026-11-30T12:00:00Z",
                            "expires_at": "2026-11-30T12:16:00Z",
                        }
                    ],
                    "next_cursor": "kg:0:0:,us:812:44:",
                }
            ]
        }
    )

    items: list[RevokedSession] = Field(description="May repeat an item sent before")
    next_cursor: str = Field(description="Send it back as `since`")
