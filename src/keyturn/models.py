"""Imports every domain's tables so `Base.metadata` is complete (Alembic, tests)."""

import importlib

DOMAIN_MODELS = [
    "keyturn.notify.models",
]


def load_all_models() -> None:
    for module in DOMAIN_MODELS:
        importlib.import_module(module)
