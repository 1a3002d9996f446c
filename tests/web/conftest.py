from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.web.browser import launch


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch()
