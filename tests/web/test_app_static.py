"""The /app and /admin pages and their assets are served in-process, with the pages' security
headers; every English text of the pages has its Russian translation."""

import json
import re

import httpx
import pytest

from keyturn.web.router import STATIC_DIR

SCRIPTS = sorted(p.relative_to(STATIC_DIR).as_posix() for p in STATIC_DIR.rglob("*.js"))


@pytest.mark.parametrize(("path", "entry"), [("/app", "app.js"), ("/admin", "admin.js")])
async def test_pages_are_html_that_may_only_run_their_own_scripts(
    client: httpx.AsyncClient, path: str, entry: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert f'<script type="module" src="/app/static/{entry}">' in response.text
    # No inline scripts, styles or handlers for the CSP to allow.
    assert "<script>" not in response.text and "<style" not in response.text
    assert not re.search(r"\son[a-z]+=", response.text) and "style=" not in response.text


async def test_scripts_and_styles_are_served_from_the_package(client: httpx.AsyncClient) -> None:
    for name in [*SCRIPTS, "app.css"]:
        response = await client.get(f"/app/static/{name}")
        assert response.status_code == 200, name
        kind = "css" if name.endswith(".css") else "javascript"
        assert kind in response.headers["content-type"]
        assert response.content == (STATIC_DIR / name).read_bytes()
        assert response.headers["cache-control"] == "no-cache"  # revalidated, never stale
    missing = await client.get("/app/static/nope.js")
    assert missing.status_code == 404


def english_texts() -> set[str]:
    """Every text the pages show through t()/tn(), section labels and data-i18n attributes."""
    texts: set[str] = set()
    patterns = [
        r'\bt\(\s*"((?:[^"\\]|\\.)*)"',
        r'\btn\(\s*[^,]+,\s*"((?:[^"\\]|\\.)*)"',
        r'\blabel: "([^"]+)"',
        r'\[\s*"\w+",\s*"([^"]+)",\s*\{',
    ]
    for name in SCRIPTS:
        if name == "i18n-ru.js":
            continue
        source = (STATIC_DIR / name).read_text()
        for pattern in patterns:
            texts.update(json.loads(f'"{m}"') for m in re.findall(pattern, source))
    problems = (STATIC_DIR / "i18n.js").read_text().split("const PROBLEMS", 1)[1].split("};")[0]
    texts.update(re.findall(r'^\s*"[a-z_.]+": "((?:[^"\\]|\\.)*)",', problems, re.M))
    for page in ("index.html", "admin.html"):
        html = (STATIC_DIR / page).read_text()
        texts.update(re.findall(r'data-i18n="([^"]+)"', html))
        texts.update(re.findall(r'data-i18n-attr="[\w-]+:([^"]+)"', html))
    return texts


def test_every_text_of_the_pages_has_a_russian_translation() -> None:
    source = (STATIC_DIR / "i18n-ru.js").read_text()
    russian = set(re.findall(r'^  ("(?:[^"\\]|\\.)*"):', source, re.M))
    translated = {json.loads(key) for key in russian}
    texts = english_texts()
    assert len(texts) > 250
    assert sorted(texts - translated) == []
