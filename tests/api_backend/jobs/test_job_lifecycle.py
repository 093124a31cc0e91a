"""Upload → queue → real worker → stored outputs, on both stacks, through the public API only."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import cv2
import httpx
import numpy as np

from tests.support.stack import ServiceStack
from tests.support.uploads import post_video, submit_video

OUTPUTS = {"annotated.mp4", "keypoints.json", "punches.json", "summary.json"}


def fetch_output(client: httpx.Client, url: str) -> bytes:
    response = client.get(url, follow_redirects=True)
    assert response.status_code == 200, response.text
    return response.content


def test_upload_runs_to_success_and_outputs_download(
    stack: ServiceStack, real_clip: Path, tmp_path: Path
) -> None:
    with stack.client() as client:
        created = post_video(client, real_clip)
        assert created.status_code == 202, created.text
        job = created.json()
        assert job["status"] == "queued"
        assert job["queue"] == "cpu"
        assert job["video"]["frames"] == 20
        assert (job["video"]["width"], job["video"]["height"]) == (768, 576)
        assert created.headers["location"] == f"/api/v1/jobs/{job['id']}"

        done = stack.wait_for_job(client, job["id"])
        assert done["status"] == "succeeded", (done, stack.logs())
        assert done["progress"] == 1.0
        assert done["error"] is None
        assert done["started_at"] and done["finished_at"]
        assert set(done["outputs"]) == OUTPUTS

        keypoints = json.loads(fetch_output(client, done["outputs"]["keypoints.json"]))
        assert keypoints["frame_count"] == 20
        assert len(keypoints["frames"]) == 20
        assert any(frame["people"] for frame in keypoints["frames"]), "vtest.avi shows people walking"
        punches = json.loads(fetch_output(client, done["outputs"]["punches.json"]))
        # People walking, not boxing: no punches, no stance, and the summary says nobody boxes.
        assert punches["stance"] == "unknown" and punches["punches"] == [] and punches["fighters"] == []
        summary = json.loads(fetch_output(client, done["outputs"]["summary.json"]))
        assert summary["model"] == "yolo11n-pose"
        assert summary["boxer_found"] is False

        video = tmp_path / "annotated.mp4"
        video.write_bytes(fetch_output(client, done["outputs"]["annotated.mp4"]))
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            assert sum(1 for _ in container.decode(stream)) == 20


def test_outputs_come_from_storage_as_signed_urls_on_s3(
    distributed_stack: ServiceStack, real_clip: Path
) -> None:
    with distributed_stack.client() as client:
        job = distributed_stack.wait_for_job(client, submit_video(client, real_clip)["id"])
        response = client.get(job["outputs"]["annotated.mp4"])
        assert response.status_code == 307
        assert "X-Amz-Signature=" in response.headers["location"]
        assert httpx.get(response.headers["location"]).status_code == 200
        # JSON outputs stream through the API, so the web app's fetch() needs no CORS on the bucket.
        summary = client.get(job["outputs"]["summary.json"])
        assert summary.status_code == 200
        assert summary.json()["model"] == "yolo11n-pose"


def test_events_stream_until_the_job_ends(stack: ServiceStack, real_clip: Path) -> None:
    with stack.client() as client:
        job_id = submit_video(client, real_clip)["id"]
        events: list[tuple[str, dict]] = []
        with client.stream("GET", f"/api/v1/jobs/{job_id}/events", timeout=300) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            event = ""
            for line in response.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    events.append((event, json.loads(line[6:])))
        job_events = [data for name, data in events if name == "job"]
        assert events[-1] == ("end", {"status": "succeeded"})
        assert job_events[-1]["status"] == "succeeded"
        progress = [data["progress"] for data in job_events]
        assert progress == sorted(progress), "progress never goes backwards"


def test_clients_poll_cheaply_and_resume_streams(stack: ServiceStack, real_clip: Path) -> None:
    """ETag / If-None-Match on the job, HEAD on downloads, Last-Event-ID on the event stream."""
    with stack.client() as client:
        job = stack.wait_for_job(client, submit_video(client, real_clip)["id"])
        first = client.get(f"/api/v1/jobs/{job['id']}")
        etag = first.headers["etag"]
        again = client.get(f"/api/v1/jobs/{job['id']}", headers={"If-None-Match": f'"other", {etag}'})
        assert (again.status_code, again.headers["etag"], again.content) == (304, etag, b"")
        assert (
            client.get(f"/api/v1/jobs/{job['id']}", headers={"If-None-Match": '"other"'}).status_code == 200
        )
        for name, url in first.json()["outputs"].items():
            head = client.head(url)
            assert head.status_code in (200, 307) and head.content == b"", name
            if head.status_code == 200:
                assert int(head.headers["content-length"]) == len(fetch_output(client, url)), name
        # Reconnecting with the id of the last event seen: no repeat of that state, only the end.
        lines = []
        with client.stream(
            "GET", f"/api/v1/jobs/{job['id']}/events", headers={"Last-Event-ID": etag}
        ) as events:
            lines = [line for line in events.iter_lines() if line.startswith(("event:", "id:"))]
        assert lines == ["event: end"], lines
        with client.stream("GET", f"/api/v1/jobs/{job['id']}/events") as events:
            lines = [line for line in events.iter_lines() if line.startswith(("event:", "id:"))]
        assert lines == [f"id: {etag}", "event: job", "event: end"], lines


def test_history_is_newest_first_with_cursor_pages(stack: ServiceStack, real_clip: Path) -> None:
    with stack.client() as client:
        ids = [
            submit_video(client, real_clip, device="gpu")["id"] for _ in range(3)
        ]  # no GPU worker: stay queued
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, str | int] = {"limit": 2, "status": "queued"}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/api/v1/jobs", params=params).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen[:3] == ids[::-1]
        for job_id in ids:
            assert client.post(f"/api/v1/jobs/{job_id}/cancel").json()["status"] == "cancelled"
        statuses = {
            item["id"]: item["status"]
            for item in client.get("/api/v1/jobs", params={"limit": 100}).json()["items"]
        }
        assert all(statuses[job_id] == "cancelled" for job_id in ids)


def test_device_routes_to_queues(stack: ServiceStack, real_clip: Path) -> None:
    with stack.client() as client:
        gpu_job = submit_video(client, real_clip, device="gpu")
        assert gpu_job["queue"] == "gpu"
        cpu_job = submit_video(client, real_clip, device="cpu")
        assert cpu_job["queue"] == "cpu"
        client.post(f"/api/v1/jobs/{gpu_job['id']}/cancel")
        assert stack.wait_for_job(client, cpu_job["id"])["status"] == "succeeded"


def test_cancel_a_running_job_stops_it_without_outputs(stack: ServiceStack, long_clip: Path) -> None:
    with stack.client() as client:
        job_id = submit_video(client, long_clip)["id"]
        while (job := client.get(f"/api/v1/jobs/{job_id}").json())["status"] == "queued":
            time.sleep(0.05)
        assert job["status"] == "running", job
        cancelled = client.post(f"/api/v1/jobs/{job_id}/cancel")
        assert cancelled.status_code == 200
        final = stack.wait_for_job(client, job_id, timeout_s=120)
        assert final["status"] == "cancelled", final
        assert final["outputs"] == {}
        again = client.post(f"/api/v1/jobs/{job_id}/cancel")
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "job_finished"


def test_idempotency_key_returns_the_same_job(stack: ServiceStack, real_clip: Path, tmp_path: Path) -> None:
    with stack.client() as client:
        first = post_video(client, real_clip, device="gpu", idempotency_key="retry-42")
        second = post_video(client, real_clip, device="gpu", idempotency_key="retry-42")
        assert first.status_code == 202
        assert second.status_code == 200
        assert first.json()["id"] == second.json()["id"]
        # The same key for another request is the client's mistake, not a retry: said, not hidden.
        other_file = tmp_path / "other.mp4"
        other_file.write_bytes(real_clip.read_bytes()[:-1] + b"\0")
        for reused in (post_video(client, other_file, device="gpu", idempotency_key="retry-42"),
                       post_video(client, real_clip, device="cpu", idempotency_key="retry-42")):  # fmt: skip
            assert reused.status_code == 422, reused.text
            assert reused.json()["error"]["code"] == "idempotency_key_reused"
        client.post(f"/api/v1/jobs/{first.json()['id']}/cancel")


def test_bad_requests_get_clear_errors(stack: ServiceStack, tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with stack.client() as client:
        cases = [
            (post_video(client, text), 422, "invalid_video"),
            (post_video(client, empty), 422, "invalid_video"),
            (
                client.post("/api/v1/jobs", data={"model": "x"}, files={"other": ("a", b"b")}),
                422,
                "missing_file",
            ),
            (client.post("/api/v1/jobs", json={"file": "x"}), 415, "unsupported_media_type"),
            (client.get("/api/v1/jobs/not-a-uuid"), 404, "job_not_found"),
            (client.get("/api/v1/jobs/00000000-0000-0000-0000-000000000000"), 404, "job_not_found"),
            (client.get("/api/v1/jobs", params={"cursor": "garbage!"}), 400, "invalid_cursor"),
            (client.get("/api/v1/jobs", params={"status": "sleeping"}), 422, "validation_error"),
            (client.get("/api/v1/jobs", params={"limit": 0}), 422, "validation_error"),
        ]
        for response, status, code in cases:
            assert response.status_code == status, (response.request.url, response.text)
            assert response.json()["error"]["code"] == code, response.text
            assert response.json()["error"]["message"]


def test_invalid_form_fields_are_refused(stack: ServiceStack, real_clip: Path) -> None:
    with stack.client() as client:
        for fields in ({"device": "tpu"}, {"model": "../../etc/passwd"}, {"callback_url": "not a url"}):
            response = post_video(client, real_clip, **fields)
            assert response.status_code == 422, (fields, response.text)
            assert response.json()["error"]["code"] == "validation_error"


def test_oversize_upload_is_refused_while_streaming(stack: ServiceStack) -> None:
    def body():  # type: ignore[no-untyped-def]
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n\r\n'
        for _ in range(10):
            yield b"\0" * (1024 * 1024)
        yield b"\r\n--b--\r\n"

    with stack.client() as client:
        response = client.post("/api/v1/jobs", content=body(),
                               headers={"Content-Type": "multipart/form-data; boundary=b"})  # fmt: skip
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "upload_too_large"


def test_output_errors(stack: ServiceStack, real_clip: Path) -> None:
    with stack.client() as client:
        job = submit_video(client, real_clip, device="gpu")
        not_ready = client.get(f"/api/v1/jobs/{job['id']}/outputs/summary.json")
        assert not_ready.status_code == 404
        assert not_ready.json()["error"]["code"] == "output_not_ready"
        unknown = client.get(f"/api/v1/jobs/{job['id']}/outputs/passwd")
        assert unknown.json()["error"]["code"] == "output_not_found"
        client.post(f"/api/v1/jobs/{job['id']}/cancel")


def test_health_and_metrics(stack: ServiceStack) -> None:
    with stack.client() as client:
        assert client.get("/health/live").json() == {"status": "ok"}
        ready = client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        detailed = client.get("/health/detailed").json()
        assert detailed["checks"]["database"]["status"] == "healthy"
        assert detailed["checks"]["storage"]["status"] == "healthy"
        assert detailed["checks"]["workers"]["queues"]["cpu"] >= 1
        assert "yolo11n-pose" in detailed["checks"]["models"]["available"]
        assert detailed["status"] == "degraded"  # no GPU worker here
        metrics = client.get("/metrics").text
        assert 'http_requests_total{method="GET",route="/health/live",status="200"}' in metrics
        assert client.get("/openapi.json").json()["paths"]["/api/v1/jobs"]["post"]["requestBody"]


def test_upload_memory_is_not_spent_on_the_body(stack: ServiceStack) -> None:
    # A 7 MB body under the 8 MB limit: accepted as far as the probe, which refuses it as not a video.
    response = httpx.post(f"{stack.base_url}/api/v1/jobs",
                          files={"file": ("noise.mp4", io.BytesIO(b"\1" * 7 * 1024 * 1024))})  # fmt: skip
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_video"


def test_a_job_can_be_titled_rerun_and_deleted_with_its_files(stack: ServiceStack, real_clip: Path) -> None:
    with stack.client() as client:
        first = stack.wait_for_job(client, submit_video(client, real_clip)["id"])
        assert first["status"] == "succeeded", stack.logs()
        url = f"/api/v1/jobs/{first['id']}"
        titled = client.patch(url, json={"title": "  Bag work, round 3  "})
        assert titled.status_code == 200 and titled.json()["title"] == "Bag work, round 3"
        assert client.get(url).json()["title"] == "Bag work, round 3"
        assert client.patch(url, json={"title": "x" * 201}).status_code == 422

        again = client.post(f"{url}/rerun", json={"device": "cpu"})
        assert again.status_code == 202, again.text
        second = again.json()
        assert second["id"] != first["id"] and again.headers["location"] == f"/api/v1/jobs/{second['id']}"
        assert (second["filename"], second["size"], second["video"], second["title"]) == (
            first["filename"], first["size"], first["video"], "Bag work, round 3",
        )  # fmt: skip
        done = stack.wait_for_job(client, second["id"])
        assert done["status"] == "succeeded", (done, stack.logs())  # the stored video was really copied
        assert (
            client.post(f"{url}/rerun", json={"model": "no-such-model"}).json()["error"]["code"]
            == "unknown_model"
        )

        output = first["outputs"]["summary.json"]
        assert client.delete(url).status_code == 204
        assert client.get(url).status_code == 404
        assert client.get(output, follow_redirects=True).status_code == 404  # its files went with it
        assert client.delete(url).status_code == 404
        assert client.get(f"/api/v1/jobs/{second['id']}").json()["status"] == "succeeded"  # the rerun stays


def test_a_boxing_session_keeps_its_figures_and_a_still_for_the_list_and_progress(
    distributed_stack: ServiceStack, boxing_clip: Path, real_clip: Path
) -> None:
    """A real boxer: the job's figures are the summary's (read from the database, no storage read),
    the still is a JPEG of the annotated video (from S3 here; the browser tests see it on the
    embedded stack), and the session shows on the progress endpoint; people walking are no session."""
    stack = distributed_stack
    with stack.client() as client:
        walking = stack.wait_for_job(client, submit_video(client, real_clip)["id"])
        assert walking["figures"]["fighters"] == 0 and walking["figures"]["punches"] == 0
        done = stack.wait_for_job(client, submit_video(client, boxing_clip)["id"])
        assert done["status"] == "succeeded", (done, stack.logs())
        assert set(done["outputs"]) == OUTPUTS  # the still is not one of the fixed outputs
        summary = json.loads(fetch_output(client, done["outputs"]["summary.json"]))
        main = next(f for f in summary["fighters"] if f["track_id"] == summary["main_track_id"])
        figures = done["figures"]
        assert figures["punches"] == main["total_punches"] > 0, summary
        assert figures["punches_per_minute"] == main["punches_per_minute"]
        assert figures["combos"] == len(main["combos"]) and figures["fighters"] == len(summary["fighters"])
        assert figures["duration_s"] == round(summary["duration"], 2)

        still = client.get(done["thumbnail"], follow_redirects=True)
        assert still.status_code == 200 and still.headers["content-type"] == "image/jpeg"
        image = cv2.imdecode(np.frombuffer(still.content, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[1] == 320 and image.std() > 10  # a picture, not a blank

        listed = client.get("/api/v1/jobs", params={"limit": 5}).json()["items"]
        assert next(job for job in listed if job["id"] == done["id"])["figures"] == figures
        today = datetime.now(UTC).date()
        sessions = client.get("/api/v1/sessions", params={"since": str(today - timedelta(days=1))}).json()
        assert sessions["truncated"] is False
        point = next(point for point in sessions["sessions"] if point["id"] == done["id"])
        assert point["figures"] == figures and point["name"] == boxing_clip.name
        assert all(point["id"] != walking["id"] for point in sessions["sessions"])
        created = [point["created_at"] for point in sessions["sessions"]]
        assert created == sorted(created)  # oldest first, for plotting
        later = client.get("/api/v1/sessions", params={"since": str(today + timedelta(days=1))}).json()
        earlier = client.get("/api/v1/sessions", params={"until": str(today - timedelta(days=1))}).json()
        assert later["sessions"] == earlier["sessions"] == []
        assert client.get("/api/v1/sessions", params={"since": "yesterday"}).status_code == 422
