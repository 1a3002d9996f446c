"""The error catalogue: every `AppError` the service can raise, and `docs/errors.md` rendered
from them. Codes are a public contract (clients branch on them): add codes, never rename one.

Regenerate the page after adding or changing an error:
    .venv/bin/python -m keyturn.catalogue > docs/errors.md
"""

from __future__ import annotations

import importlib
import pkgutil

import keyturn
from keyturn.errors import AppError
from keyturn.problems import HTTP_CODES

HEADER = """\
# Error codes

Generated from the `AppError` classes by `python -m keyturn.catalogue > docs/errors.md`;
`tests/system/test_error_catalogue.py` fails when this page is stale. Do not edit by hand.

Every error is `application/problem+json` with `type`, `title`, `status`, `detail` and a stable
`code` (see `docs/errors-and-logging.md`). Codes are a public contract: clients branch on
them, so a code is never renamed or reused for another meaning. The generic codes (`not_found`,
`invalid`, `auth.unauthorized`, ...) are raised directly where no more specific error exists.
"""


def app_errors() -> list[type[AppError]]:
    """Every `AppError` subclass in the package (importing every module to find them)."""
    for module in pkgutil.walk_packages(keyturn.__path__, "keyturn."):
        if not module.name.startswith("keyturn.migrations"):
            importlib.import_module(module.name)
    found: list[type[AppError]] = []
    pending = AppError.__subclasses__()
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: (cls.code, cls.__name__))


def _row(code: str, status: int | str, when: str, source: str) -> str:
    return f"| `{code}` | {status} | {when} | {source} |"


def render() -> str:
    table = ["| code | status | when | defined in |", "| --- | --- | --- | --- |"]
    lines = [HEADER, *table]
    for cls in app_errors():
        when = " ".join((cls.__doc__ or "").split()).replace("|", "\\|")
        lines.append(_row(cls.code, cls.status, when, f"`{cls.__module__}.{cls.__name__}`"))
    problems = "`keyturn.problems`"
    lines += [
        "",
        "## Answered by the framework, not raised by a service",
        "",
        *table,
        _row(
            "request.invalid",
            422,
            "The body, query or path failed validation; `errors` lists each field.",
            problems,
        ),
        *(
            _row(code, status, f"{title}.", problems)
            for status, (code, title) in HTTP_CODES.items()
        ),
        _row(
            "http_error", "any", "Any other HTTP error status the framework answers with.", problems
        ),
        _row(
            "internal",
            500,
            "An unexpected failure; `request_id` identifies it in the logs.",
            "`keyturn.middleware`",
        ),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
