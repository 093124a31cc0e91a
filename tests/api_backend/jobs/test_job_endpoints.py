"""Job endpoints and the job service in this process (the fast tier, see tests/support/inprocess.py):
history pages and filters, owners kept apart, cancel/delete/title/rerun rules, the progress
endpoint's dates, and create's idempotency and enqueue-after-commit. The same paths through real
processes are in test_job_lifecycle.py."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api_backend.jobs.models import Job, JobStatus
from tests.support.inprocess import InProcessApi
from tests.support.uploads import post_video

FIGURES = {
    "track_id": 1, "fighters": 1, "duration_s": 60.0, "punches": 30, "punches_per_minute": 30.0,
    "mean_speed": 4.5, "combos": 3, "combos_per_minute": 3.0,
}  # fmt: skip


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


def test_history_is_newest_first_in_pages_and_filters_by_status(api: InProcessApi) -> None:
    made = [api.add_job(JobStatus.succeeded, ago=timedelta(minutes=10 - n)) for n in range(5)]
    api.add_job(JobStatus.failed, ago=timedelta(minutes=30))
    newest_first = [str(job.id) for job in reversed(made)]

    first = api.client.get("/api/v1/jobs", params={"limit": 3, "status": "succeeded"}).json()
    second = api.client.get(
        "/api/v1/jobs", params={"limit": 3, "status": "succeeded", "cursor": first["next_cursor"]}
    ).json()

    assert [job["id"] for job in first["items"] + second["items"]] == newest_first
    assert second["next_cursor"] is None
    assert len(api.client.get("/api/v1/jobs").json()["items"]) == 6
    assert error_code(api.client.get("/api/v1/jobs", params={"cursor": "not-a-cursor"})) == "invalid_cursor"


def test_another_owners_job_is_not_found_whatever_is_asked(api: InProcessApi) -> None:
    theirs = api.add_job(JobStatus.succeeded, owner="someone-else")
    path = f"/api/v1/jobs/{theirs.id}"
    answers = [
        api.client.get(path), api.client.patch(path, json={"title": "mine"}), api.client.delete(path),
        api.client.post(f"{path}/cancel"), api.client.post(f"{path}/rerun", json={}),
    ]  # fmt: skip
    assert [(r.status_code, error_code(r)) for r in answers] == [(404, "job_not_found")] * 5
    assert api.client.get("/api/v1/jobs").json()["items"] == []
    api.session.refresh(theirs)
    assert theirs.title is None and theirs.status == "succeeded"


def test_a_queued_job_cancels_at_once_and_a_finished_one_refuses(api: InProcessApi) -> None:
    queued, done = api.add_job(JobStatus.queued), api.add_job(JobStatus.succeeded)

    cancelled = api.client.post(f"/api/v1/jobs/{queued.id}/cancel")
    refused = api.client.post(f"/api/v1/jobs/{done.id}/cancel")

    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["stage"]) == ("cancelled", "cancelled")
    assert cancelled.json()["finished_at"] is not None
    assert (refused.status_code, error_code(refused)) == (409, "job_finished")


def test_a_job_shows_where_its_time_went_and_how_its_webhook_fared(api: InProcessApi) -> None:
    timings = {"total_s": 12.5, "stages_s": {"analyzing": 10.0, "writing": 2.0}, "frames_per_second": 24.0}
    done = api.add_job(JobStatus.succeeded, timings=timings)
    hook = "https://coach.example.com/hook"
    hooked = api.add_job(JobStatus.succeeded, callback_url=hook, callback_status="failed",
                         callback_attempts=3, callback_error="HTTP 500")  # fmt: skip
    waiting = api.add_job(JobStatus.running, callback_url=hook)

    first, second, third = (
        api.client.get(f"/api/v1/jobs/{job.id}").json() for job in (done, hooked, waiting)
    )

    assert (first["timings"], first["webhook"]) == (timings, None)
    assert second["webhook"] == {"status": "failed", "attempts": 3, "error": "HTTP 500"}
    assert (third["timings"], third["webhook"]) == (None, {"status": "pending", "attempts": 0, "error": None})


def test_a_running_job_is_asked_to_stop_and_keeps_running_until_its_worker_does(api: InProcessApi) -> None:
    running = api.add_job(JobStatus.running)

    answer = api.client.post(f"/api/v1/jobs/{running.id}/cancel")

    assert answer.status_code == 200 and answer.json()["status"] == "running"
    api.session.expire_all()
    stored = api.session.get(Job, running.id)
    assert stored is not None and stored.cancel_requested and stored.status == "running"


def test_delete_takes_every_file_but_refuses_a_running_job(api: InProcessApi) -> None:
    done, running = api.add_job(JobStatus.succeeded), api.add_job(JobStatus.running)
    keys = [
        f"jobs/{done.id}/input.mp4",
        f"jobs/{done.id}/outputs/summary.json",
        f"jobs/{running.id}/input.mp4",
    ]
    for key in keys:
        api.store(key)

    refused = api.client.delete(f"/api/v1/jobs/{running.id}")
    deleted = api.client.delete(f"/api/v1/jobs/{done.id}")

    assert (refused.status_code, error_code(refused)) == (409, "job_running")
    assert deleted.status_code == 204
    assert api.client.get(f"/api/v1/jobs/{done.id}").status_code == 404
    assert list(api.stored()) == keys[2:]


@pytest.mark.parametrize(("sent", "kept"), [("  Bag work  ", "Bag work"), ("   ", None), (None, None)])
def test_a_title_is_trimmed_and_a_blank_one_clears_it(
    api: InProcessApi, sent: str | None, kept: str | None
) -> None:
    job = api.add_job(JobStatus.succeeded, title="old")
    answer = api.client.patch(f"/api/v1/jobs/{job.id}", json={"title": sent})
    assert answer.status_code == 200 and answer.json()["title"] == kept
    assert api.client.get(f"/api/v1/jobs/{job.id}").json()["title"] == kept
    assert api.client.patch(f"/api/v1/jobs/{job.id}", json={"title": "x" * 201}).status_code == 422


def test_rerun_needs_the_stored_video(api: InProcessApi) -> None:
    gone = api.add_job(JobStatus.succeeded, files_deleted_at=datetime.now(UTC))
    answer = api.client.post(f"/api/v1/jobs/{gone.id}/rerun", json={})
    assert (answer.status_code, error_code(answer)) == (410, "outputs_deleted")
    assert api.queue.sent == []


def test_rerun_copies_the_video_into_a_new_queued_job(api: InProcessApi) -> None:
    job = api.add_job(JobStatus.succeeded)
    api.store(job.input_key, b"video bytes")

    answer = api.client.post(f"/api/v1/jobs/{job.id}/rerun", json={"device": "cpu"})

    assert answer.status_code == 202, answer.text
    new = api.session.get(Job, answer.json()["id"])
    assert new is not None and new.status == "queued" and new.input_key != job.input_key
    assert api.stored()[new.input_key] == b"video bytes"
    assert [(task.job_id, task.queue) for task in api.queue.sent] == [(str(new.id), new.queue)]
    assert new.celery_task_id == api.queue.sent[0].id


def test_progress_lists_boxing_sessions_oldest_first_within_the_dates(api: InProcessApi) -> None:
    day = timedelta(days=1)
    now = datetime.now(UTC)
    old, recent = (api.add_job(JobStatus.succeeded, ago=ago, figures=FIGURES) for ago in (10 * day, day))
    api.add_job(JobStatus.succeeded, figures={**FIGURES, "fighters": 0})  # nobody boxed
    api.add_job(JobStatus.failed, figures=FIGURES)
    api.add_job(JobStatus.succeeded, figures=FIGURES, owner="someone-else")

    everything = api.client.get("/api/v1/sessions").json()
    since = api.client.get("/api/v1/sessions", params={"since": (now - 2 * day).date().isoformat()}).json()
    until = api.client.get("/api/v1/sessions", params={"until": (now - 5 * day).date().isoformat()}).json()

    assert [s["id"] for s in everything["sessions"]] == [str(old.id), str(recent.id)]
    assert everything["sessions"][0]["figures"] == FIGURES
    assert [s["id"] for s in since["sessions"]] == [str(recent.id)]
    assert [s["id"] for s in until["sessions"]] == [str(old.id)]
    capped = api.client.get("/api/v1/sessions", params={"limit": 1}).json()
    assert capped["truncated"] is True and [s["id"] for s in capped["sessions"]] == [str(recent.id)]
    assert api.client.get("/api/v1/sessions", params={"since": "last week"}).status_code == 422


def upload(api: InProcessApi, clip: Path, key: str | None = None, **fields: str) -> httpx.Response:
    return post_video(api.client, clip, idempotency_key=key, **fields)


def test_an_upload_is_committed_then_enqueued_once_per_idempotency_key(
    api: InProcessApi, real_clip: Path
) -> None:
    first = upload(api, real_clip, key="session-1")
    retry = upload(api, real_clip, key="session-1")
    other_options = upload(api, real_clip, key="session-1", device="gpu")

    assert (first.status_code, retry.status_code) == (202, 200)
    assert retry.json()["id"] == first.json()["id"]
    assert first.headers["location"].endswith(f"/api/v1/jobs/{first.json()['id']}")
    assert (other_options.status_code, error_code(other_options)) == (422, "idempotency_key_reused")
    job = api.session.get(Job, first.json()["id"])
    assert job is not None and job.status == "queued" and job.video is not None
    assert list(api.stored()) == [job.input_key]
    assert [(task.job_id, task.id) for task in api.queue.sent] == [(str(job.id), job.celery_task_id)]


def test_an_unreachable_queue_fails_the_job_and_answers_503(api: InProcessApi, real_clip: Path) -> None:
    api.queue.unreachable = True

    answer = upload(api, real_clip)

    assert (answer.status_code, error_code(answer)) == (503, "queue_unavailable")
    (job,) = api.client.get("/api/v1/jobs").json()["items"]
    assert (job["status"], job["error"]["code"]) == ("failed", "enqueue_failed")


def test_the_jobs_in_flight_limit_counts_queued_and_running_jobs(api: InProcessApi, real_clip: Path) -> None:
    limit = api.settings.max_jobs_in_flight = 3
    for n in range(limit):
        api.add_job(JobStatus.running if n % 2 else JobStatus.queued)
    api.add_job(JobStatus.succeeded)

    answer = upload(api, real_clip)

    assert (answer.status_code, error_code(answer)) == (429, "too_many_jobs")
    assert answer.headers["retry-after"] == "30"
    assert api.queue.sent == [] and api.stored() == {}


def test_a_slow_broker_never_holds_up_other_requests(api: InProcessApi, real_clip: Path) -> None:
    """The upload's database and broker calls run off the event loop: while one client's enqueue
    waits on the broker, every other request is answered at once."""
    api.queue.delay_s = 1.5

    async def upload_while_polling(client: httpx.AsyncClient) -> tuple[httpx.Response, list[float]]:
        with real_clip.open("rb") as video:
            files = {"file": (real_clip.name, video.read(), "video/mp4")}
        uploading = asyncio.create_task(client.post("/api/v1/jobs", files=files))
        waits = []
        while not uploading.done():
            start = time.monotonic()
            assert (await client.get("/health/live")).status_code == 200
            waits.append(time.monotonic() - start)
            await asyncio.sleep(0.05)
        return await uploading, waits

    answer, waits = api.client.run(upload_while_polling)

    assert answer.status_code == 202, answer.text
    assert len(waits) >= 10 and max(waits) < 0.5, waits
