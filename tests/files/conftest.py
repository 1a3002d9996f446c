"""File tests run on both storage backends: a local directory and S3 over real HTTP
(moto's standalone server on 127.0.0.1), on top of both databases."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from keyturn.config import FileSettings, Settings
from tests.harness.postgres import free_port

_buckets = itertools.count(1)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )


@pytest.fixture(params=["local", "s3"])
def storage_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(
    make_settings: Callable[..., Settings], storage_kind: str, request: pytest.FixtureRequest
) -> Settings:
    if storage_kind == "local":
        return make_settings()
    endpoint: str = request.getfixturevalue("s3_endpoint")
    bucket = f"keyturn-test-{next(_buckets)}"
    s3_client(endpoint).create_bucket(Bucket=bucket)
    return make_settings(
        files=FileSettings(
            backend="s3",
            s3_endpoint_url=endpoint,
            s3_bucket=bucket,
            s3_access_key="test",
            s3_secret_key="test",
        )
    )


@pytest.fixture
def stored_objects(settings: Settings) -> Callable[[], list[str]]:
    """What the storage backend holds right now, plus any upload spool left behind."""

    client = None
    if settings.files.backend == "s3":
        assert settings.files.s3_endpoint_url is not None
        client = s3_client(settings.files.s3_endpoint_url)

    def listing() -> list[str]:
        spool = sorted(p.name for p in (settings.data_dir / "tmp").glob("*"))
        if client is not None:
            answer = client.list_objects_v2(Bucket=settings.files.s3_bucket)
            return [o["Key"] for o in answer.get("Contents", [])] + spool
        root = settings.data_dir / "files"
        return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()] + spool

    return listing
