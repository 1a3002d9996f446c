"""Uploaded files (where they live) and the usage counters with their allowances."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator


class FileSettings(BaseModel):
    backend: Literal["local", "s3"] = "local"
    max_size: int = 10 * 1024 * 1024
    allowed_types: list[str] = [
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "text/plain",
        "image/png",
        "image/jpeg",
    ]
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str = "us-east-1"
    # Local backend directory; default: `<data_dir>/files`. Uploads spool to `<data_dir>/tmp`.
    local_dir: Path | None = None
    # Stored objects without a file row are removed by the sweep once this old (an upload in
    # flight has stored its bytes but not yet committed its row).
    orphan_grace: timedelta = timedelta(hours=1)

    @model_validator(mode="after")
    def _s3_needs_bucket(self) -> FileSettings:
        if self.backend == "s3" and not self.s3_bucket:
            raise ValueError("KEYTURN_FILES__S3_BUCKET is required when KEYTURN_FILES__BACKEND=s3")
        return self


class UsageSettings(BaseModel):
    """Plan defaults, copied into a user's counter when it is first used (see
    docs/files-and-quotas.md); an admin may then change that user's limit."""

    limits: dict[str, int] = {"uploads": 10}
    # Optional reset period per counter name; counters without one never reset.
    periods: dict[str, timedelta] = {}
    # Retry-After for an exhausted counter that has no period.
    retry_after_without_period: int = Field(default=3600, ge=1)

    @model_validator(mode="after")
    def _check_counters(self) -> UsageSettings:
        if "uploads" not in self.limits:
            raise ValueError("KEYTURN_USAGE__LIMITS must include 'uploads' (file uploads use it)")
        for name, limit in self.limits.items():
            if not re.fullmatch(r"[a-z][a-z0-9_.-]{0,63}", name) or limit < 0:
                raise ValueError(f"usage limit {name!r}: lowercase name and a limit >= 0 needed")
        if any(period.total_seconds() < 1 for period in self.periods.values()):
            raise ValueError("usage periods must be at least one second")
        return self
