"""Imports every domain's tables so `Base.metadata` is complete (Alembic, tests)."""

import importlib

DOMAIN_MODELS = [
    "keyturn.addresses.models",
    "keyturn.audit.models",
    "keyturn.auth.models",
    "keyturn.cart.models",
    "keyturn.catalog.models",
    "keyturn.events.models",
    "keyturn.files.models",
    "keyturn.notices.models",
    "keyturn.notify.models",
    "keyturn.orders.models",
    "keyturn.sessions.models",
    "keyturn.usage.models",
    "keyturn.users.models",
    "keyturn.webhooks.models",
    "keyturn.wishlist.models",
]


def load_all_models() -> None:
    for module in DOMAIN_MODELS:
        importlib.import_module(module)
