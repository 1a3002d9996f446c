"""A running seed system to import from: the shop backend's PostgreSQL database built from
the schema and sample rows of seeds 000-003 (user 19, cart 5, wishlist 8, orders #1001 and
#1002), and the JobPsych API's users collection (seed 004) as a JSON export."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import asyncpg
import bcrypt

from tests.harness.postgres import PostgresCluster

SCHEMA = """
CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    phone_number VARCHAR(20) UNIQUE NOT NULL,
    full_name VARCHAR(255),
    profile_image_url VARCHAR(500),
    is_active BOOLEAN DEFAULT TRUE,
    is_verified BOOLEAN DEFAULT FALSE,
    last_login TIMESTAMP,
    market VARCHAR(10) DEFAULT 'kg',
    language VARCHAR(10) DEFAULT 'ru',
    country VARCHAR(100) DEFAULT 'Kyrgyzstan',
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
);
CREATE TABLE skus (
    id SERIAL PRIMARY KEY,
    product_id INTEGER NOT NULL,
    sku_code VARCHAR(64),
    product_name VARCHAR(255),
    price NUMERIC(10, 2) NOT NULL,
    stock_quantity INTEGER DEFAULT 0,
    size VARCHAR(20),
    color VARCHAR(30),
    is_active BOOLEAN DEFAULT TRUE
);
CREATE TABLE carts (id SERIAL PRIMARY KEY, user_id INTEGER REFERENCES users (id));
CREATE TABLE cart_items (
    id SERIAL PRIMARY KEY,
    cart_id INTEGER REFERENCES carts (id),
    sku_id INTEGER REFERENCES skus (id),
    quantity INTEGER NOT NULL
);
CREATE TABLE wishlists (id SERIAL PRIMARY KEY, user_id INTEGER REFERENCES users (id));
CREATE TABLE wishlist_items (
    id SERIAL PRIMARY KEY,
    wishlist_id INTEGER REFERENCES wishlists (id),
    product_id INTEGER NOT NULL
);
CREATE TABLE orders (
    id SERIAL PRIMARY KEY,
    order_number VARCHAR(20) UNIQUE,
    user_id INTEGER REFERENCES users (id),
    status VARCHAR(20),
    total_amount NUMERIC(10, 2),
    order_date TIMESTAMP
);
CREATE TABLE order_items (
    id SERIAL PRIMARY KEY,
    order_id INTEGER REFERENCES orders (id),
    sku_id INTEGER REFERENCES skus (id),
    quantity INTEGER,
    unit_price NUMERIC(10, 2)
);
"""

ROWS = """
INSERT INTO users (id, phone_number, full_name, is_active, is_verified, last_login, market,
                   language, country)
VALUES (19, '+13128059851', NULL, TRUE, TRUE, '2025-10-24 12:30:00', 'us', 'en',
        'United States'),
       -- logged out in the seed (is_active = false meant "logged out" there)
       (20, '+13128059852', 'Jane Roe', FALSE, TRUE, '2025-10-23 16:25:00', 'us', 'en',
        'United States');
INSERT INTO skus (id, product_id, sku_code, product_name, price, stock_quantity, size, color)
VALUES (42, 15, 'LAPTOP-PRO-16', 'Laptop Pro 16', 5999.99, 7, NULL, 'silver'),
       (88, 27, 'PHONE-X-128', 'Phone X', 2499.99, 3, '128GB', 'black');
INSERT INTO carts (id, user_id) VALUES (5, 19);
INSERT INTO cart_items (id, cart_id, sku_id, quantity) VALUES (101, 5, 42, 2), (102, 5, 88, 1);
INSERT INTO wishlists (id, user_id) VALUES (8, 19);
INSERT INTO wishlist_items (id, wishlist_id, product_id) VALUES (201, 8, 15), (202, 8, 27);
INSERT INTO orders (id, order_number, user_id, status, total_amount, order_date)
VALUES (1001, '#1001', 19, 'delivered', 5999.99, '2025-10-20 10:00:00'),
       (1002, '#1002', 19, 'processing', 2499.99, '2025-10-22 09:30:00');
INSERT INTO order_items (id, order_id, sku_id, quantity, unit_price)
VALUES (5001, 1001, 42, 1, 5999.99), (5002, 1002, 88, 1, 2499.99);
SELECT setval('users_id_seq', 20);
"""

JOHN_PASSWORD = "securePassword123"
_names = itertools.count(1)


async def build_shop(pg: PostgresCluster) -> str:
    """A fresh seed shop database; its postgresql:// URL (as an operator would pass it)."""
    url = pg.create_database(f"seed_shop_{next(_names)}")
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(SCHEMA)
        await conn.execute(ROWS)
    finally:
        await conn.close()
    return dsn


async def execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def jobpsych_users(path: Path) -> Path:
    """The JobPsych `users` collection as its JSON export (Drizzle's field names)."""
    rows = [
        {
            "id": 1,
            "name": "John Doe",
            "email": "john@example.com",
            "company_name": "Acme Corp",
            "password": bcrypt.hashpw(JOHN_PASSWORD.encode(), bcrypt.gensalt(10)).decode(),
            "refreshToken": "$2b$12$" + "x" * 53,
            "filesUploaded": 3,
            "created_at": "2025-09-28T10:00:00.000Z",
            "updated_at": "2025-10-03T05:00:00.000Z",
        }
    ]
    path.write_text(json.dumps(rows, indent=2))
    return path
