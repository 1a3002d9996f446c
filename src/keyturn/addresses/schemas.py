from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from keyturn.fields import Text


def _text(max_length: int, min_length: int = 1) -> object:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Label = Annotated[Text, _text(50)]
FullName = Annotated[Text, _text(200)]
Phone = Annotated[Text, _text(32, 3), Field(examples=["+13125550100"])]
Line = Annotated[Text, _text(200)]
City = Annotated[Text, _text(100)]
Region = Annotated[Text, _text(100)]
PostalCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9 -]{2,12}$")
]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), Field(examples=["US"])]
Flag = Annotated[bool, Field(strict=True)]

EXAMPLE: dict[str, Any] = {
    "label": "Home",
    "full_name": "Aida Bekova",
    "phone": "+13125550100",
    "line1": "1 Main St",
    "city": "Chicago",
    "region": "IL",
    "postal_code": "60601",
    "country": "US",
}


class AddressCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    label: Label | None = None
    full_name: FullName
    phone: Phone = Field(description="Read in `country` when it has no leading +")
    line1: Line
    line2: Line | None = None
    city: City
    region: Region | None = None
    postal_code: PostalCode | None = None
    country: Country = Field(description="ISO 3166-1 alpha-2, upper case")
    is_default: Flag = False


class AddressUpdate(BaseModel):
    """Omitted fields stay as they are; optional fields may be cleared with null."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"line2": "Apt 4"}]})

    label: Label | None = None
    full_name: FullName | None = None
    phone: Phone | None = None
    line1: Line | None = None
    line2: Line | None = None
    city: City | None = None
    region: Region | None = None
    postal_code: PostalCode | None = None
    country: Country | None = None
    is_default: Flag | None = None

    @field_validator("full_name", "phone", "line1", "city", "country", "is_default")
    @classmethod
    def _required_stays_set(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value


class AddressRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    label: str | None
    full_name: str
    phone: str
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str | None
    country: str
    is_default: bool
    created_at: datetime
    updated_at: datetime


class AddressList(BaseModel):
    items: list[AddressRead]
