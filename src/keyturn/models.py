"""Imports every domain's tables so `Base.metadata` is complete (Alembic, tests)."""

import importlib

DOMAIN_MODELS = [
    "keyturn.audit.models",
    "keyturn.auth.models",
    "keyturn.notify.models",
    "keyturn.sessions.models",
    "keyturn.users.models",
]


def load_all_models() -> None:
    for module in DOMAIN_MODELS:
        importlib.import_module(module)
