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


def component(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


def has_example(spec: dict[str, Any], media: dict[str, Any]) -> bool:
    return "example" in media or "examples" in media or "examples" in component(spec, media.get("schema", {}))


def test_every_operation_shows_an_example_answer() -> None:
    spec = create_app().openapi()
    for name, op in operations(spec).items():
        successes = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        assert successes, name
        for code, response in successes.items():
            for media_type, media in response.get("content", {}).items():
                binary = media.get("schema", {}).get("format") == "binary"
                assert binary or has_example(spec, media), (name, code, media_type)
    job_options = spec["components"]["schemas"]["JobOptions"]
    assert job_options["examples"], "the resumable upload's job request has an example body"
    assert "example" in operations(spec)["create_job"]["requestBody"]["content"]["multipart/form-data"]


def test_errors_are_listed_per_operation_with_the_api_error_body() -> None:
    spec = create_app().openapi()
    ops = operations(spec)
    for name, op in ops.items():
        for code, response in op["responses"].items():
            if int(code) < 400:
                continue
            media = response["content"]["application/json"]
            expected = "HealthOut" if name in {"ready", "detailed"} else "ErrorOut"
            assert media["schema"] == {"$ref": f"#/components/schemas/{expected}"}, (name, code)
            assert expected == "HealthOut" or has_example(spec, media), (name, code)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    # Only what each can answer: no upload errors on reads, no 409 where nothing conflicts.
    assert "413" in ops["create_job"]["responses"] and "413" not in ops["get_job"]["responses"]
    assert "409" in ops["cancel_job"]["responses"] and "409" not in ops["list_jobs"]["responses"]
    assert "403" in ops["download_output"]["responses"] and "403" not in ops["create_job"]["responses"]
    assert set(ops["live"]["responses"]) == {"200"} and set(ops["client_config"]["responses"]) == {"200"}


def test_the_headers_clients_rely_on_are_documented() -> None:
    ops = operations(create_app().openapi())
    for name, op in ops.items():
        for code, response in op["responses"].items():
            assert "X-Request-ID" in response["headers"], (name, code)
            if code in {"429", "503"} and name not in {"ready", "detailed"}:
                assert "Retry-After" in response["headers"], (name, code)
    for name in ("create_job", "create_job_from_resumable_upload"):
        assert {"Location", "X-Request-ID"} <= set(ops[name]["responses"]["202"]["headers"]), name
    assert "ETag" in ops["get_job"]["responses"]["200"]["headers"]
    assert "ETag" in ops["get_job"]["responses"]["304"]["headers"]
    assert {p["name"] for p in ops["create_job"]["parameters"]} == {"idempotency-key"}
    assert "Location" in ops["download_output"]["responses"]["307"]["headers"]


def test_the_event_stream_and_downloads_have_schemas() -> None:
    ops = operations(create_app().openapi())
    stream = ops["job_events"]["responses"]["200"]["content"]
    assert set(stream) == {"text/event-stream"}
    assert "event: job" in stream["text/event-stream"]["example"]
    for name in ("download_output", "download_output_headers"):
        content = ops[name]["responses"]["200"]["content"]
        assert set(content) == {"application/octet-stream"}, name
        assert all(media["schema"] == {"type": "string", "format": "binary"} for media in content.values())
