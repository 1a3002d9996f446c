from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from keyturn.cart.schemas import Quantity, RowId


class WishlistItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"product_id": 15}]})

    product_id: RowId


class WishlistItemRead(BaseModel):
    id: int
    product_id: int
    product_name: str
    added_at: datetime
    available: bool = Field(description="The product is still for sale")


class WishlistItemAdded(WishlistItemRead):
    already_present: bool = Field(description="True when the product was already in the list")


class WishlistRead(BaseModel):
    id: int
    items: list[WishlistItemRead]


class MoveToCart(BaseModel):
    """Which SKU to put in the cart; needed only when the product has several for sale."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"sku_id": 12, "quantity": 1}]}
    )

    sku_id: RowId | None = None
    quantity: Quantity = 1
