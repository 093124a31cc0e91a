"""The OpenAPI document is one a client generator can use: unique, readable operation ids, the Bearer
scheme on the operations that take a key, the conditional and resumable parts described."""

from __future__ import annotations

from typing import Any

from api_backend.main import create_app


def operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for path in spec["paths"].values() for op in path.values()}


def test_operation_ids_are_unique_and_readable() -> None:
    spec = create_app().openapi()
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids)), ids
    assert {"create_job", "list_jobs", "get_job", "cancel_job", "job_events", "download_output",
            "download_output_headers"} <= set(ids)  # fmt: skip


def test_the_bearer_scheme_is_declared_where_keys_are_used() -> None:
    spec = create_app().openapi()
    assert spec["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http", "scheme": "bearer", "description": "an API key from `shadow-trainer keys create`",
    }  # fmt: skip
    ops = operations(spec)
    for name in ("create_job", "list_jobs", "get_job", "cancel_job", "job_events"):
        assert ops[name]["security"] == [{"HTTPBearer": []}], name


def test_conditional_requests_and_resumable_streams_are_documented() -> None:
    ops = operations(create_app().openapi())
    get_job = ops["get_job"]
    assert "304" in get_job["responses"]
    assert {p["name"] for p in get_job["parameters"] if p["in"] == "header"} == {"if-none-match"}
    assert {p["name"] for p in ops["job_events"]["parameters"] if p["in"] == "header"} == {"last-event-id"}
