"""API keys, tenant isolation, signed links, limits, rate limiting and signed webhooks, against
the real service running with AUTH_MODE=api_key."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any, ClassVar

import av
import httpx
import numpy as np
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api_backend.auth.signing import sign_output
from api_backend.webhooks.address_check import CallbackAddressError, check_callback_url
from tests.api_backend.auth.conftest import SECRET, WEBHOOK_DEADLINE_S
from tests.support.hostile_media import growing_stream, pixel_bomb, raw_long_stream
from tests.support.receivers import QuietHandler, TricklingReceiver, serving
from tests.support.services import wait_until
from tests.support.stack import ServiceStack
from tests.support.uploads import post_video


def new_key(stack: ServiceStack, name: str) -> dict[str, str]:
    result = stack.cli("keys", "create", name)
    assert result.returncode == 0, result.stderr
    return {"Authorization": f"Bearer {result.stdout.strip()}"}


def submit(stack: ServiceStack, key: dict[str, str], video: Path, **fields: str) -> httpx.Response:
    with httpx.Client(base_url=stack.base_url, headers=key, timeout=120) as client:
        return post_video(client, video, **fields)


def wait_done(stack: ServiceStack, key: dict[str, str], job_id: str) -> dict[str, Any]:
    with httpx.Client(base_url=stack.base_url, headers=key, timeout=30) as client:
        return stack.wait_for_job(client, job_id)


def test_requests_without_a_valid_key_are_refused(secure_stack: ServiceStack) -> None:
    for headers in ({}, {"Authorization": "Bearer st_not-a-real-key-at-all"}, {"Authorization": "Basic abc"}):
        response = httpx.get(f"{secure_stack.base_url}/api/v1/jobs", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"
    assert httpx.get(f"{secure_stack.base_url}/health/live").status_code == 200  # probes need no key


def test_tenants_never_see_each_others_jobs(secure_stack: ServiceStack, real_clip: Path) -> None:
    alice, bob = new_key(secure_stack, "alice"), new_key(secure_stack, "bob")
    created = submit(secure_stack, alice, real_clip)
    assert created.status_code == 202, created.text
    job = wait_done(secure_stack, alice, created.json()["id"])
    assert job["status"] == "succeeded"
    base = f"{secure_stack.base_url}/api/v1/jobs/{job['id']}"
    for method, url in (("GET", base), ("POST", f"{base}/cancel"), ("GET", f"{base}/events"),
                        ("GET", f"{base}/outputs/summary.json")):  # fmt: skip
        response = httpx.request(method, url, headers=bob)
        assert response.status_code == 404, (method, url, response.text)
        assert response.json()["error"]["code"] == "job_not_found"
    bob_history = httpx.get(f"{secure_stack.base_url}/api/v1/jobs", headers=bob).json()["items"]
    assert job["id"] not in {item["id"] for item in bob_history}
    assert httpx.get(f"{base}/outputs/summary.json", headers=alice).status_code == 200


def test_tenants_never_touch_each_others_uploads(secure_stack: ServiceStack) -> None:
    alice, bob = new_key(secure_stack, "alice-uploads"), new_key(secure_stack, "bob-uploads")
    tus = {"Tus-Resumable": "1.0.0"}
    creation = {**tus, "Upload-Length": "4", "Upload-Metadata": "filename YS5tcDQ=,filetype dmlkZW8vbXA0"}
    assert httpx.post(f"{secure_stack.base_url}/api/v1/uploads", headers=creation).status_code == 401
    created = httpx.post(f"{secure_stack.base_url}/api/v1/uploads", headers={**creation, **alice})
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    chunk = {**tus, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    for response in (
        httpx.head(url, headers={**tus, **bob}),
        httpx.patch(url, headers={**chunk, **bob}, content=b"evil"),
        httpx.delete(url, headers={**tus, **bob}),
        httpx.post(f"{url}/job", headers=bob, json={}),
    ):
        assert response.status_code == 404, (response.request.method, response.text)
    assert httpx.head(url, headers={**tus, **alice}).headers["upload-offset"] == "0", "bob wrote nothing"
    assert httpx.patch(url, headers={**chunk, **alice}, content=b"mine").status_code == 204


def test_output_links_are_signed_and_expire(secure_stack: ServiceStack, real_clip: Path) -> None:
    alice = new_key(secure_stack, "alice-links")
    job = wait_done(secure_stack, alice, submit(secure_stack, alice, real_clip).json()["id"])
    link = job["outputs"]["keypoints.json"]
    assert "signature=" in link and "expires=" in link
    assert httpx.get(link).status_code == 200, "a signed link works without the key (e.g. for <video>)"
    tampered = link[:-1] + ("0" if link[-1] != "0" else "1")
    assert httpx.get(tampered).json()["error"]["code"] == "link_expired"
    # A correctly signed link whose time is past is refused too.
    past = sign_output(SECRET, uuid.UUID(job["id"]), "keypoints.json", expires_s=60, now=time.time() - 7200)
    expired = link.split("?")[0] + "?" + past
    assert httpx.get(expired).status_code == 403
    other = link.replace("keypoints.json", "summary.json")  # signature is per output
    assert httpx.get(other).status_code == 403


def test_revoked_key_stops_working(secure_stack: ServiceStack) -> None:
    key = new_key(secure_stack, "temp")
    assert httpx.get(f"{secure_stack.base_url}/api/v1/jobs", headers=key).status_code == 200
    prefix = key["Authorization"].split()[1][:11]
    assert secure_stack.cli("keys", "revoke", prefix).returncode == 0
    assert httpx.get(f"{secure_stack.base_url}/api/v1/jobs", headers=key).status_code == 401
    assert prefix in secure_stack.cli("keys", "list").stdout


def test_video_limits(secure_stack: ServiceStack, long_clip: Path, tmp_path: Path) -> None:
    key = new_key(secure_stack, "limits")
    too_long = submit(secure_stack, key, long_clip)  # 30 s, limit 5 s
    assert too_long.status_code == 422
    assert too_long.json()["error"]["code"] == "video_too_long"
    big = tmp_path / "big.mp4"
    with av.open(str(big), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        for _ in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((720, 1280, 3), np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    too_big = submit(secure_stack, key, big)
    assert too_big.status_code == 422
    assert too_big.json()["error"]["code"] == "resolution_too_high"
    bomb = submit(secure_stack, key, pixel_bomb(tmp_path / "bomb.mp4"))  # refused before decoding
    assert (bomb.status_code, bomb.json()["error"]["code"]) == (422, "resolution_too_high")


def test_limits_hold_for_streams_that_lie(secure_stack: ServiceStack, tmp_path: Path) -> None:
    """Raw streams carry no duration (12 s probes as 0.04 s) and may grow after a small first frame:
    the worker enforces both limits while decoding."""
    key = new_key(secure_stack, "liars")
    for video, code in ((raw_long_stream(tmp_path / "long", 12), "video_too_long"),
                        (growing_stream(tmp_path / "grow"), "resolution_too_high")):  # fmt: skip
        created = submit(secure_stack, key, video)
        assert created.status_code == 202, created.text
        job = wait_done(secure_stack, key, created.json()["id"])
        assert (job["status"], job["error"]["code"]) == ("failed", code), job
        assert job["outputs"] == {}


def test_jobs_in_flight_are_limited_per_key(secure_stack: ServiceStack, real_clip: Path) -> None:
    carol, dave = new_key(secure_stack, "carol"), new_key(secure_stack, "dave")
    queued = [submit(secure_stack, carol, real_clip, device="gpu") for _ in range(2)]  # no GPU worker: waits
    assert all(r.status_code == 202 for r in queued)
    third = submit(secure_stack, carol, real_clip, device="gpu")
    assert third.status_code == 429
    assert third.json()["error"]["code"] == "too_many_jobs"
    assert int(third.headers["retry-after"]) > 0
    assert submit(secure_stack, dave, real_clip, device="gpu").status_code == 202, (
        "other keys are not affected"
    )
    for response in queued:
        httpx.post(f"{secure_stack.base_url}/api/v1/jobs/{response.json()['id']}/cancel", headers=carol)
    assert submit(secure_stack, carol, real_clip, device="gpu").status_code == 202


def test_rate_limit_answers_429_with_retry_after(secure_stack: ServiceStack) -> None:
    key = new_key(secure_stack, "eager")
    statuses = []
    with httpx.Client(base_url=secure_stack.base_url, headers=key) as client:
        for _ in range(230):
            response = client.get("/api/v1/jobs", params={"limit": 1})
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert response.json()["error"]["code"] == "rate_limited"
                assert 1 <= int(response.headers["retry-after"]) <= 61
                break
    assert statuses[-1] == 429
    assert statuses.count(200) >= 150  # the limit is 200 a minute (a window may have just begun)


class Receiver(QuietHandler):
    calls: ClassVar[list[dict[str, Any]]] = []
    fail_first = 1

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.calls.append({"headers": dict(self.headers), "body": body})
        status = 503 if len(Receiver.calls) <= Receiver.fail_first else 204
        self.send_response(status)
        self.end_headers()


def test_webhook_is_signed_and_retried(secure_stack: ServiceStack, real_clip: Path) -> None:
    """Standard Webhooks, signed with the key's own secret: the library's verify() accepts it."""
    with serving(Receiver) as hook:
        created_key = secure_stack.cli("keys", "create", "hooks")
        key = {"Authorization": f"Bearer {created_key.stdout.strip()}"}
        secret = re.search(r"whsec_\S+", created_key.stderr)
        assert secret, created_key.stderr
        shown = secure_stack.cli("keys", "webhook-secret", created_key.stdout.strip()[:11]).stdout.strip()
        assert shown == secret.group(0)
        created = submit(secure_stack, key, real_clip, callback_url=hook)
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        assert wait_done(secure_stack, key, job_id)["status"] == "succeeded"
        wait_until(lambda: len(Receiver.calls) >= 2, 60, "webhook retried after a 503")
    first, second = Receiver.calls[0], Receiver.calls[1]
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]  # receivers drop repeats
    body = Webhook(secret.group(0)).verify(second["body"], second["headers"])
    assert body["type"] == "job.succeeded" and body["data"]["id"] == job_id
    assert body["data"]["url"] == f"{secure_stack.base_url}/api/v1/jobs/{job_id}"
    outputs = body["data"]["outputs"]
    assert set(outputs) == {"annotated.mp4", "keypoints.json", "punches.json", "summary.json"}
    assert httpx.get(outputs["summary.json"], timeout=30).status_code == 200  # absolute, signed links
    assert body["data"]["figures"] == wait_done(secure_stack, key, job_id)["figures"]  # people walking: 0
    with pytest.raises(WebhookVerificationError):  # another key's secret, or SECRET_KEY, does not verify
        Webhook(secure_stack.cli("keys", "webhook-secret").stdout.strip()).verify(
            second["body"], second["headers"]
        )


def test_a_slow_webhook_receiver_never_delays_analysis(secure_stack: ServiceStack, real_clip: Path) -> None:
    with serving(TricklingReceiver) as hook:
        key = new_key(secure_stack, "slow-hooks")
        hooked = submit(secure_stack, key, real_clip, callback_url=hook)
        assert wait_done(secure_stack, key, hooked.json()["id"])["status"] == "succeeded"
        held = TricklingReceiver.held_s
        wait_until(lambda: len(held) >= 1, 30, "the first delivery attempt to end")
        # The attempt was cut at its deadline, not held for the minute the receiver trickles.
        assert held[0] < WEBHOOK_DEADLINE_S + 2, held
        # Meanwhile (retries keep trickling) analysis goes on at its usual pace.
        start = time.monotonic()
        other = submit(secure_stack, key, real_clip)
        assert wait_done(secure_stack, key, other.json()["id"])["status"] == "succeeded"
        assert time.monotonic() - start < 30


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/x",
        "http://10.1.2.3/",
        "http://[::1]/",
        "ftp://x/",
        # IPv4 inside IPv6: NAT64 (64:ff9b::/96 and the local-use /48), mapped, 6to4, Teredo.
        "http://[64:ff9b::a00:1]/",
        "http://[64:ff9b:1::7f00:1]/",
        "http://[::ffff:192.168.0.1]/",
        "http://[2002:a9fe:a9fe::]/",
        "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/",
    ],
)
def test_callbacks_to_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(CallbackAddressError):
        check_callback_url(url, allow_private=False)


def test_public_addresses_behind_nat64_are_allowed() -> None:
    check_callback_url("http://[64:ff9b::808:808]/hook", allow_private=False)  # 8.8.8.8


def test_links_never_outlive_their_expiry() -> None:
    job_id, expires_s = uuid.uuid4(), 3600
    for now in (1_000_000_000.0, 1_000_000_599.9, 1_000_000_600.0):
        query = sign_output(SECRET, job_id, "summary.json", expires_s, now=now)
        expires = int(query.split("&")[0].removeprefix("expires="))
        assert now + expires_s - 600 < expires <= now + expires_s
    short = int(sign_output(SECRET, job_id, "summary.json", 60, now=1_000_000_059.0).split("&")[0][8:])
    assert 1_000_000_059 + 30 < short <= 1_000_000_059 + 60


def test_private_callbacks_can_be_allowed() -> None:
    check_callback_url("http://127.0.0.1:9/hook", allow_private=True)
