from pydantic import BaseModel, ConfigDict, Field

from keyturn.fields import Text


class SecureIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"token": "us.Zr1o1C8k0ZPp8aR4Kq0u2w0sYb8xX3mH1pWc6dN2fLk"}]
        }
    )

    token: Text = Field(min_length=1, max_length=128, description="From the notice's link")


class SecuredOut(BaseModel):
    success: bool = True
    message: str
    sessions_revoked: int
