"""The /app page and its assets are served in-process, with the page's security headers."""

import httpx

from keyturn.web.router import STATIC_DIR


async def test_app_page_is_html_that_may_only_run_its_own_scripts(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/app")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert '<script type="module" src="/app/static/app.js">' in response.text
    assert "<script>" not in response.text  # no inline scripts for the CSP to allow


async def test_app_scripts_and_styles_are_served_from_the_package(
    client: httpx.AsyncClient,
) -> None:
    for name, kind in [("app.js", "javascript"), ("api.js", "javascript"), ("app.css", "css")]:
        response = await client.get(f"/app/static/{name}")
        assert response.status_code == 200, name
        assert kind in response.headers["content-type"]
        assert response.content == (STATIC_DIR / name).read_bytes()
        assert response.headers["cache-control"] == "no-cache"  # revalidated, never stale
    missing = await client.get("/app/static/nope.js")
    assert missing.status_code == 404
