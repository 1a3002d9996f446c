from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from keyturn.catalog import service, upload
from keyturn.catalog.schemas import (
    AdminProductList,
    AdminProductRead,
    AdminSkuRead,
    ProductCreate,
    ProductList,
    ProductRead,
    ProductUpdate,
    SkuCreate,
    SkuUpdate,
)
from keyturn.catalog.upload import ImportSummary
from keyturn.deps import Admin, Db, PathId, RequestMarket
from keyturn.fields import Cursor, Text

router = APIRouter(prefix="/products", tags=["catalog"])
admin_router = APIRouter(prefix="/admin", tags=["admin"])

Search = Annotated[
    Text | None, Query(max_length=100, description="Part of the product name, any case")
]
Limit = Annotated[int, Query(ge=1, le=100)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such product"}}


@router.get("", summary="Products for sale in this market, by id, with name search")
async def list_products(
    db: Db, q: Search = None, cursor: Cursor | None = None, limit: Limit = 20
) -> ProductList:
    return await service.list_products(db, q=q, cursor=cursor, limit=limit)


@router.get("/{product_id}", summary="One product with its SKUs for sale", responses=NOT_FOUND)
async def read_product(db: Db, product_id: PathId) -> ProductRead:
    return await service.read_product(db, product_id=product_id)


@admin_router.get("/products", summary="Every product, including deactivated ones")
async def admin_list_products(
    db: Db, _: Admin, q: Search = None, cursor: Cursor | None = None, limit: Limit = 20
) -> AdminProductList:
    return await service.admin_list_products(db, q=q, cursor=cursor, limit=limit)


@admin_router.get("/products/{product_id}", summary="One product, stock included")
async def admin_read_product(db: Db, _: Admin, product_id: PathId) -> AdminProductRead:
    return await service.admin_read_product(db, product_id=product_id)


@admin_router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    summary="Create a product with its SKUs (priced in the market's currency)",
    responses={409: {"description": "A SKU code is taken"}},
)
async def create_product(
    db: Db, _: Admin, market: RequestMarket, body: ProductCreate
) -> AdminProductRead:
    return await service.create_product(db, body=body, currency=market.currency)


@admin_router.patch(
    "/products/{product_id}",
    summary="Rename, describe, or (de)activate a product",
    responses=NOT_FOUND,
)
async def update_product(
    db: Db, _: Admin, product_id: PathId, body: ProductUpdate
) -> AdminProductRead:
    return await service.update_product(db, product_id=product_id, changes=body)


@admin_router.delete(
    "/products/{product_id}",
    summary="Deactivate a product (it stays in carts, wishlists and orders)",
    responses=NOT_FOUND,
)
async def deactivate_product(db: Db, _: Admin, product_id: PathId) -> AdminProductRead:
    return await service.update_product(
        db, product_id=product_id, changes=ProductUpdate(is_active=False)
    )


@admin_router.post(
    "/products/{product_id}/skus",
    status_code=status.HTTP_201_CREATED,
    summary="Add a SKU to a product",
    responses={**NOT_FOUND, 409: {"description": "The SKU code is taken"}},
)
async def add_sku(
    db: Db, _: Admin, market: RequestMarket, product_id: PathId, body: SkuCreate
) -> AdminSkuRead:
    return await service.add_sku(db, product_id=product_id, body=body, currency=market.currency)


@admin_router.patch(
    "/skus/{sku_id}",
    summary="Change a SKU's price, stock, attributes or active flag",
    responses={404: {"description": "No such SKU"}},
)
async def update_sku(db: Db, _: Admin, sku_id: PathId, body: SkuUpdate) -> AdminSkuRead:
    return await service.update_sku(db, sku_id=sku_id, changes=body)


@admin_router.post(
    "/catalog/import",
    summary="Import a catalog file (JSON or CSV, as the CLI does): all of it or nothing",
    description="The body is the file: `Content-Type: application/json` or `text/csv`, at "
    "most 5 MiB. Products and SKUs are upserted by SKU code, in the market's currency. "
    "`dry_run=true` checks the file and answers the counts without writing anything.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "example": {
                        "products": [
                            {
                                "name": "Cotton T-shirt",
                                "skus": [{"code": "TEE-M", "price": "19.99", "stock": 10}],
                            }
                        ]
                    },
                },
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "name,code,price,stock\nCotton T-shirt,TEE-M,19.99,10\n",
                },
            },
        }
    },
    responses={
        413: {"description": "The file is larger than 5 MiB"},
        415: {"description": "Not JSON or CSV"},
        422: {"description": "Bad lines: `errors` lists each as `line N: ...`"},
    },
)
async def import_catalog(
    request: Request,
    db: Db,
    admin: Admin,
    market: RequestMarket,
    dry_run: bool = False,
) -> ImportSummary:
    return await upload.import_catalog(
        db,
        stream=request.stream(),
        content_type=request.headers.get("content-type"),
        content_length=request.headers.get("content-length"),
        currency=market.currency,
        dry_run=dry_run,
        admin_id=admin.user_id,
    )
