"""What `keyturn serve` does before the first request: migrate the embedded databases and
create development secrets in the data dir."""

from __future__ import annotations

from keyturn.config import Settings
from keyturn.db import migrate


def prepare(settings: Settings) -> None:
    urls = settings.database_urls()
    embedded = [code for code, url in urls.items() if url.startswith("sqlite")]
    if embedded:
        migrate(settings, embedded)
