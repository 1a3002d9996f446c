"""The data export (`GET /profile/export`): one document, every field described here and in
docs/privacy.md. Secrets are never part of it: no password hash, no token, no code."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from keyturn.addresses.schemas import AddressRead
from keyturn.auth.mfa.schemas import MfaStatusOut
from keyturn.auth.oauth.schemas import IdentityRead
from keyturn.auth.passkeys.schemas import PasskeyRead
from keyturn.cart.schemas import CartRead
from keyturn.files.schemas import FileRead
from keyturn.orders.schemas import OrderRead
from keyturn.sessions.schemas import SessionRead
from keyturn.usage.schemas import UsageRead
from keyturn.users.schemas import UserRead
from keyturn.wishlist.schemas import WishlistRead


class SignInMethods(BaseModel):
    """How the account can sign in, without any secret."""

    email: str | None = Field(description="The account's email address, if any")
    email_verified: bool = Field(description="Whether its owner proved the mailbox")
    has_password: bool = Field(description="Whether a password is set (never the hash)")
    phone_number: str | None = Field(description="The phone that signs in by SMS code (E.164)")
    phone_verified: bool
    identities: list[IdentityRead] = Field(description="Linked Apple and Google accounts")
    passkeys: list[PasskeyRead] = Field(description="Passkeys (no key material)")
    second_factor: MfaStatusOut = Field(description="The authenticator app (never its secret)")


class AuditEventRead(BaseModel):
    """A security event recorded about the account (sign-ins, logouts, changes)."""

    event: str
    session_id: str | None
    ip: str | None
    details: dict[str, Any]
    created_at: datetime


class DataExport(BaseModel):
    """Everything keyturn holds about the caller in this market."""

    format: Literal["keyturn.export/1"] = "keyturn.export/1"
    generated_at: datetime
    market: str
    profile: UserRead
    sign_in_methods: SignInMethods
    sessions: list[SessionRead] = Field(description="Every session, ended ones included")
    addresses: list[AddressRead]
    cart: CartRead | None = Field(description="null when no cart was ever used")
    wishlist: WishlistRead | None = Field(description="null when no wishlist was ever used")
    orders: list[OrderRead] = Field(description="Every order, newest first, with its history")
    files: list[FileRead] = Field(
        description="Uploaded files' metadata (content: GET /files/{id}/content)"
    )
    usage: UsageRead
    audit_events: list[AuditEventRead] = Field(description="Oldest first")
