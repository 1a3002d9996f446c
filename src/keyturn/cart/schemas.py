from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from keyturn.cart.models import MAX_QUANTITY
from keyturn.catalog.schemas import Money
from keyturn.db import MAX_ID

# Strict: "2", 2.0 and true are refused rather than coerced (a client bug should be loud).
Quantity = Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)]
RowId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]


class CartItemCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"sku_id": 42, "quantity": 2}]}
    )

    sku_id: RowId
    quantity: Quantity = 1


class CartItemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"quantity": 3}]})

    quantity: Quantity


class CartLine(BaseModel):
    id: int
    sku_id: int
    sku_code: str
    product_id: int
    product_name: str
    quantity: int
    unit_price: Money
    line_total: Money
    in_stock: bool = Field(
        description="The SKU is for sale and the stock covers this line's quantity"
    )


class CartRead(BaseModel):
    id: int
    items: list[CartLine]
    subtotal: Money
    currency: str
    item_count: int = Field(description="Units in the cart (the sum of quantities)")
