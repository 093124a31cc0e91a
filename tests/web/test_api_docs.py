"""/docs (Swagger UI) and /redoc render the API's operations with no network beyond the service:
their scripts and styles are served by the API itself (fastapi-offline), not by a CDN."""

from __future__ import annotations

from urllib.parse import urlparse

from playwright.sync_api import Route, expect

from tests.web.conftest import WebPage

# ReDoc's "powered by" footer shows a logo from its CDN; offline it is simply not shown.
DECORATION = ("https://cdn.redoc.ly/redoc/logo-mini.svg",)


def _offline(web: WebPage) -> None:
    """Refuse every request that would leave this machine, as a disconnected network would."""
    own = urlparse(web.base_url).netloc

    def route(r: Route) -> None:
        if urlparse(r.request.url).netloc in (own, ""):
            r.continue_()
        else:
            r.abort()

    web.context.route("**/*", route)


def _only_the_service(web: WebPage) -> None:
    urls = [r.split(" ", 1)[1] for r in web.requests if "://" in r]
    outside = [u for u in urls if urlparse(u).netloc != urlparse(web.base_url).netloc and u not in DECORATION]
    assert outside == [], outside


def test_swagger_ui_renders_the_operations_offline(web: WebPage) -> None:
    _offline(web)
    page = web.open("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Shadow Trainer")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() >= 8
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/jobs/{job_id}/cancel")).to_have_count(1)
    web.screenshot("10-api-docs-swagger")
    _only_the_service(web)
    web.assert_no_console_errors()


def test_redoc_renders_the_operations_offline(web: WebPage) -> None:
    _offline(web)
    page = web.open("/redoc")
    expect(page.locator("h1", has_text="Shadow Trainer")).to_be_visible()
    expect(page.get_by_text("/api/v1/jobs/{job_id}/cancel").first).to_be_attached()
    web.screenshot("11-api-docs-redoc")
    _only_the_service(web)
    web.assert_no_console_errors(allowed=(r"ERR_FAILED.*|Failed to load resource",))
