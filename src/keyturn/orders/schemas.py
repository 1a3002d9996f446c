from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator

from keyturn.addresses.schemas import City, Country, FullName, Line, Phone, PostalCode, Region
from keyturn.db import MAX_ID
from keyturn.fields import MultilineText

Money = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]
Status = Literal["pending", "processing", "shipped", "delivered", "cancelled"]


class ShippingAddress(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: FullName
    phone: Phone
    line1: Line
    line2: Line | None = None
    city: City
    region: Region | None = None
    postal_code: PostalCode | None = None
    country: Country


class CheckoutIn(BaseModel):
    """Either a saved `address_id` or an inline `shipping_address`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"address_id": 1, "note": "Ring twice"},
                {
                    "shipping_address": {
                        "full_name": "Aida Bekova",
                        "phone": "+13125550100",
                        "line1": "1 Main St",
                        "city": "Chicago",
                        "postal_code": "60601",
                        "country": "US",
                    }
                },
            ]
        },
    )

    address_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    shipping_address: ShippingAddress | None = None
    note: MultilineText | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _one_address(self) -> "CheckoutIn":
        if (self.address_id is None) == (self.shipping_address is None):
            raise ValueError("give exactly one of address_id or shipping_address")
        return self


class OrderItemRead(BaseModel):
    sku_id: int
    product_id: int
    sku_code: str
    product_name: str
    quantity: int
    unit_price: Money
    line_total: Money


class OrderEventRead(BaseModel):
    status: Status
    at: datetime
    actor: str


class OrderRead(BaseModel):
    id: int
    order_number: str
    status: Status
    items: list[OrderItemRead]
    total_amount: Money
    currency: str
    item_count: int
    shipping_address: dict[str, Any]
    note: str | None
    created_at: datetime
    updated_at: datetime
    history: list[OrderEventRead]
    next_statuses: list[Status] = Field(
        description="Where the order may go next; customers may only cancel"
    )
    user_id: int


class OrderSummary(BaseModel):
    id: int
    order_number: str
    status: Status
    total_amount: Money
    currency: str
    item_count: int
    created_at: datetime
    user_id: int


class OrderList(BaseModel):
    items: list[OrderSummary]
    next_cursor: str | None


class StatusChange(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "processing"}]})

    status: Status
