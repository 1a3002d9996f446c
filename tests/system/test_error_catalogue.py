"""The error catalogue: each code once, explained in one line, and on `docs/errors.md`."""

import re
from collections import Counter
from pathlib import Path

from keyturn.catalogue import app_errors, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
CODE = re.compile(r"^[a-z_]+(\.[a-z_]+)?$")


def test_docs_errors_page_is_generated_from_the_code() -> None:
    assert DOC.read_text() == render(), (
        "docs/errors.md is stale: run `.venv/bin/python -m keyturn.catalogue > docs/errors.md`"
    )


def test_every_error_has_its_own_code_and_a_one_line_reason() -> None:
    errors = app_errors()
    assert len(errors) > 50
    for cls in errors:
        where = f"{cls.__module__}.{cls.__name__}"
        assert "code" in vars(cls), f"{where} must set its own `code` (else it reuses its parent's)"
        assert CODE.match(cls.code), f"{where}: code {cls.code!r} is not `domain.reason`"
        assert 400 <= cls.status <= 599, where
        doc = (cls.__doc__ or "").strip()
        assert doc and "\n" not in doc, f"{where} needs a one-line docstring saying when"
    duplicated = [c for c, n in Counter(cls.code for cls in errors).items() if n > 1]
    assert not duplicated, f"codes defined twice: {duplicated}"
    names = [n for n, k in Counter(cls.__name__ for cls in errors).items() if k > 1]
    assert not names, f"error classes defined twice under one name: {names}"


def test_every_code_is_documented() -> None:
    page = DOC.read_text()
    missing = [cls.code for cls in app_errors() if f"| `{cls.code}` |" not in page]
    assert not missing
