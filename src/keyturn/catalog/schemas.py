from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
)

from keyturn.fields import MultilineText, Text, Url, has_control_characters

# Money out: an exact decimal string with two places ("5999.99"), never a float.
Money = Annotated[Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str)]
# Money in: a string or a number, at most 2 decimal places, below 10^8, so that 99 of a unit
# (a cart line) fits an order line and many lines fit an order total (docs/orders.md).
Price = Annotated[
    Decimal, Field(ge=0, max_digits=10, decimal_places=2, allow_inf_nan=False, examples=["5999.99"])
]
Stock = Annotated[int, Field(strict=True, ge=0, le=1_000_000_000)]
SkuCode = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$", examples=["TSHIRT-M"])
]
Name = Annotated[Text, Field(min_length=1, max_length=200), AfterValidator(str.strip)]
Description = Annotated[MultilineText, Field(max_length=10_000)]
# JSON cannot hold NaN or infinity; integers stay within 64 bits like every other number.
AttrValue = (
    str
    | Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
    | Annotated[float, Field(allow_inf_nan=False)]
    | bool
)


def check_attributes(value: dict[str, AttrValue]) -> dict[str, AttrValue]:
    """Small flat maps only: up to 30 keys of 1 to 40 chars, string values up to 200 chars,
    no control characters in either."""
    if len(value) > 30:
        raise ValueError("at most 30 attributes")
    for key, item in value.items():
        if not 1 <= len(key) <= 40 or has_control_characters(key):
            raise ValueError("attribute names are 1 to 40 characters, no control characters")
        if isinstance(item, str) and (len(item) > 200 or has_control_characters(item)):
            raise ValueError("attribute values are at most 200 characters, no control characters")
    return value


Attributes = Annotated[dict[str, AttrValue], AfterValidator(check_attributes)]


class SkuRead(BaseModel):
    id: int
    code: str
    price: Money
    currency: str
    in_stock: bool
    attributes: dict[str, Any]


class ProductRead(BaseModel):
    id: int
    name: str
    description: str | None
    image_url: str | None
    skus: list[SkuRead]


class ProductList(BaseModel):
    items: list[ProductRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )


class AdminSkuRead(SkuRead):
    product_id: int
    stock: int
    is_active: bool
    updated_at: datetime


class AdminProductRead(BaseModel):
    id: int
    name: str
    description: str | None
    image_url: str | None
    is_active: bool
    skus: list[AdminSkuRead]
    created_at: datetime
    updated_at: datetime


class AdminProductList(BaseModel):
    items: list[AdminProductRead]
    next_cursor: str | None


class SkuCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "TEE-RED-M",
                    "price": "19.99",
                    "stock": 25,
                    "attributes": {"color": "red", "size": "M"},
                }
            ]
        },
    )

    code: SkuCode
    price: Price
    stock: Stock = 0
    attributes: Attributes = {}


class ProductCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Cotton T-shirt",
                    "description": "Soft and plain.",
                    "skus": [{"code": "TSHIRT-M", "price": "19.99", "stock": 10}],
                }
            ]
        },
    )

    name: Name
    description: Description | None = None
    image_url: Url | None = None
    skus: list[SkuCreate] = Field(min_length=1, max_length=100)

    @field_validator("skus")
    @classmethod
    def _codes_unique(cls, skus: list[SkuCreate]) -> list[SkuCreate]:
        codes = [s.code for s in skus]
        if len(set(codes)) != len(codes):
            raise ValueError("SKU codes must be unique")
        return skus


class ProductUpdate(BaseModel):
    """Omitted fields stay as they are; `is_active: false` hides the product from the shop."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "Classic Tee", "is_active": True}]}
    )

    name: Name | None = None
    description: Description | None = None
    image_url: Url | None = None
    is_active: bool | None = Field(default=None, strict=True)


class SkuUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"price": "17.99", "stock": 40}]}
    )

    price: Price | None = None
    stock: Stock | None = None
    is_active: bool | None = Field(default=None, strict=True)
    attributes: Attributes | None = None
