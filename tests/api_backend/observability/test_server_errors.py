"""An unexpected error is a 500 in the API's error shape that carries the request's id (so a user's
report can be found in the logs), logged once with its traceback."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from api_backend.main import create_app


def test_a_500_carries_the_request_id_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/boom", headers={"X-Request-ID": "report-1234"})

    with caplog.at_level(logging.ERROR, logger="api_backend.errors"):
        response = asyncio.run(call())
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "report-1234"
    assert response.json() == {
        "error": {"code": "internal_error", "message": "unexpected server error; it has been logged"}
    }
    logged = [r for r in caplog.records if r.name == "api_backend.errors"]
    assert len(logged) == 1 and logged[0].exc_info and "a bug" in str(logged[0].exc_info[1])
