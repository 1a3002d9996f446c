"""What `keyturn serve` does before the first request: migrate the embedded databases,
create development secrets in the data dir, and give an empty embedded shop the demo catalog."""

from __future__ import annotations

from keyturn.auth.mfa.cipher import ensure_key as ensure_mfa_key
from keyturn.config import Settings
from keyturn.db import migrate
from keyturn.sessions.keys import ensure_dev_keyring, ensure_secret_key


def prepare(settings: Settings) -> None:
    """Runs once in the parent process, before workers start, so they share one keyring."""
    ensure_dev_keyring(settings)
    ensure_secret_key(settings)
    ensure_mfa_key(settings)
    urls = settings.database_urls()
    embedded = [code for code, url in urls.items() if url.startswith("sqlite")]
    if embedded:
        migrate(settings, embedded)
        if settings.load_demo_catalog:
            from keyturn.catalog.importer import load_demo_catalog

            load_demo_catalog(settings, embedded)
