"""Request and response bodies of the JobPsych API, in its own (camelCase) field names."""

from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from keyturn.auth.schemas import AnyPassword, EmailField, NewPassword
from keyturn.fields import Text

Company = Field(
    default=None,
    max_length=200,
    validation_alias=AliasChoices("company_name", "company", "companyName"),
)


class RegisterIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "John Doe",
                    "email": "john@example.com",
                    "password": "correct horse battery",
                    "company_name": "Acme Corp",
                }
            ]
        }
    )

    name: Text = Field(min_length=1, max_length=200)
    email: EmailField
    password: NewPassword
    company_name: Text | None = Company


class LoginIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "john@example.com", "password": "secret"}]}
    )

    email: EmailField
    password: AnyPassword


class EmailIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "john@example.com"}]})

    email: EmailField


class ResetPasswordIn(BaseModel):
    """The seed's `{email, newPassword}` only starts a reset now; `{token, newPassword}`
    (the token from the emailed link) completes it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"token": "from-the-reset-email-xxxxxxxx", "newPassword": "a new passphrase"}
            ]
        }
    )

    email: EmailField | None = None
    token: Text | None = Field(default=None, min_length=20, max_length=200)
    newPassword: NewPassword | None = None
    confirmPassword: NewPassword | None = None


class ResetWithTokenIn(BaseModel):
    token: Text = Field(min_length=20, max_length=200)
    newPassword: NewPassword
    confirmPassword: NewPassword | None = None


class ChangePasswordIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "currentPassword": "old passphrase",
                    "newPassword": "a new passphrase",
                    "confirmPassword": "a new passphrase",
                }
            ]
        }
    )

    currentPassword: AnyPassword
    newPassword: NewPassword
    confirmPassword: NewPassword


class TokenIn(BaseModel):
    token: Text = Field(min_length=1, max_length=4096)


class Message(BaseModel):
    success: bool = True
    message: str


class Note(BaseModel):
    message: str


class MessageWithData(Message):
    data: Note


class JobPsychUser(BaseModel):
    id: str
    name: str | None
    email: str | None
    company_name: str | None
    filesUploaded: int


class Profile(JobPsychUser):
    createdAt: datetime


class SignedIn(BaseModel):
    accessToken: str
    user: JobPsychUser


class AuthOut(Message):
    """`accessToken` and `user` at the top level, as the seed documents them, and again
    under `data`, where the seed's code put them."""

    accessToken: str
    user: JobPsychUser
    data: SignedIn


class AccessToken(BaseModel):
    accessToken: str


class RefreshOut(Message):
    accessToken: str
    data: AccessToken


class ProfileOut(Message):
    data: Profile
    user: Profile


class UploadCount(Message):
    email: str
    filesUploaded: int
    limit: int
    remaining: int


class UploadStats(BaseModel):
    email: str | None
    name: str | None
    totalUploads: int
    limit: int
    remaining: int
    percentage: float
    canUpload: bool


class UploadStatsOut(BaseModel):
    success: bool = True
    stats: UploadStats


class FileInfo(BaseModel):
    fileId: int
    filename: str
    size: int
    mimeType: str
    sha256: str
    filesUploaded: int
    remaining: int


class FileOut(Message):
    data: FileInfo


class RecentFile(BaseModel):
    id: int
    filename: str
    uploadedAt: datetime
    size: int


class FileStats(BaseModel):
    totalFiles: int
    limit: int
    remaining: int
    recentFiles: list[RecentFile]


class FileStatsOut(Message):
    data: FileStats


class TokenInfo(BaseModel):
    algorithm: str
    expiresIn: str


class VerifiedOut(Message):
    decoded: dict[str, Any]
    tokenInfo: TokenInfo


class JwtInfo(BaseModel):
    """No secret length or characters (the seed printed both): fingerprints only."""

    algorithm: str
    accessTokenExpiry: str
    refreshTokenExpiry: str
    issuer: str
    audience: str
    activeKid: str
    fingerprints: list[str]
    jwksUri: str
    environment: str
    timestamp: datetime


class JwtInfoOut(Message):
    jwtInfo: JwtInfo
    note: str
