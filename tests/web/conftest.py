"""Browser fixtures: Debian Chromium driven by Playwright, console errors collected per page, screenshots.

Playwright's own browser download does not work here, so the system Chromium is launched directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Page, sync_playwright

from boxing_sim import ClipConditions, simulate_clip
from shadow_trainer.documents.punches_document import Punch, PunchesDocument
from shadow_trainer.documents.summary_document import PunchSummary
from shadow_trainer.punches import classify_keypoints, summarize_punches
from tests.support.stack import PROJECT_ROOT, ServiceStack
from tests.support.uploads import submit_video

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "web"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
# Jobs of the real clip that a browser test uploaded and saw succeed; `punch_job` reuses one instead of
# analysing the clip a second time (2 shared cores: every job costs seconds).
UPLOADED_BY_BROWSER: list[str] = []


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# Package scope: Playwright's sync API keeps an event loop running in this thread while it is open,
# and `asyncio.run` in any later test would fail (test workers run files in any order).
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class WebPage:
    """A page on the running service, with everything the browser reported as an error."""

    page: Page
    context: BrowserContext
    base_url: str
    artifacts: Path
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def open(self, path: str) -> Page:
        self.page.goto(self.base_url + path)
        return self.page

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        path = self.artifacts / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def assert_no_console_errors(self, allowed: tuple[str, ...] = ()) -> None:
        unexpected = [e for e in self.errors if not any(re.search(pattern, e) for pattern in allowed)]
        assert not unexpected, unexpected


def open_context(browser: Browser, base_url: str, artifacts: Path, **options: Any) -> WebPage:
    context = browser.new_context(**{"viewport": DESKTOP, **options})
    context.set_default_timeout(20_000)
    page = context.new_page()
    web = WebPage(page, context, base_url, artifacts)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            web.errors.append(f"console: {message.text} @ {message.location.get('url', '')}")

    def on_page_error(error: Error) -> None:
        web.errors.append(f"pageerror: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("request", lambda request: web.requests.append(f"{request.method} {request.url}"))
    return web


@pytest.fixture
def web(browser: Browser, embedded_stack: ServiceStack, artifacts: Path) -> Iterator[WebPage]:
    """A desktop-sized page on the embedded stack; the test fails on any console error it did not expect."""
    page = open_context(browser, embedded_stack.base_url, artifacts)
    try:
        yield page
    finally:
        page.context.close()


def upload_via_api(stack: ServiceStack, video: Path) -> dict[str, Any]:
    with stack.client() as client:
        job = stack.wait_for_job(client, submit_video(client, video)["id"])
    assert job["status"] == "succeeded", (job, stack.logs())
    return job


def reuse_browser_upload(stack: ServiceStack) -> dict[str, Any] | None:
    for job_id in UPLOADED_BY_BROWSER:
        job: dict[str, Any] = httpx.get(f"{stack.base_url}/api/v1/jobs/{job_id}").json()
        if job.get("status") == "succeeded":
            return job
    return None


def simulated_punches(
    duration_s: float, fps: float, *, second_person: bool = False
) -> tuple[PunchesDocument, PunchSummary]:
    """punches.json and the punch part of summary.json of a simulated boxer (and a second one beside
    them, punching on their own, with ``second_person``), squeezed into `duration_s`."""
    conditions = ClipConditions(duration=8.0, fps=30.0, stance="orthodox", second_person=second_person)
    clip = simulate_clip(11, replace(conditions, view="front") if second_person else conditions)
    doc = classify_keypoints(clip.keypoints)
    source_s = clip.keypoints["frame_count"] / clip.keypoints["fps"]
    scale = duration_s / source_s
    punches: list[Punch] = []
    for punch in doc["punches"]:
        t = round(punch["t"] * scale, 3)
        frame = min(round(t * fps), max(int(duration_s * fps) - 1, 0))
        t_start, t_end = round(punch["t_start"] * scale, 3), round(punch["t_end"] * scale, 3)
        punches.append({**punch, "t": t, "t_start": t_start, "t_end": t_end, "frame": frame})
    punches_doc: PunchesDocument = {**doc, "fps": fps, "punches": punches}
    return punches_doc, summarize_punches(punches_doc, duration_s=duration_s)


@pytest.fixture(scope="session")
def boxing_job(embedded_stack: ServiceStack, boxing_clip: Path) -> dict[str, Any]:
    """A real boxer's session, analysed end to end (figures and still included)."""
    job = upload_via_api(embedded_stack, boxing_clip)
    assert job["figures"]["punches"] > 0 and job["thumbnail"], job
    return job


@pytest.fixture(scope="session")
def punch_job(embedded_stack: ServiceStack, real_clip: Path) -> dict[str, Any]:
    """A finished job whose punches.json and summary.json hold punches.

    No boxing footage exists offline and the real clip shows people walking, so its analysis finds
    no punches. The timeline and seek tests need punches: after the real job succeeds, its stored
    punches.json and summary.json (local storage folder of the embedded stack) are overwritten with
    the punches the real classifier finds in a simulated boxer, scaled in time to the real video's
    duration. The annotated video, keypoints and everything the API serves stay real.
    """
    job = reuse_browser_upload(embedded_stack) or upload_via_api(embedded_stack, real_clip)
    return with_simulated_punches(embedded_stack, job)


@pytest.fixture(scope="session")
def sparring_job(embedded_stack: ServiceStack, long_clip: Path) -> dict[str, Any]:
    """Like ``punch_job``, with two simulated fighters (a fighters table and a coaching tab each) over
    the 30 s of the long clip (several bins of the output chart)."""
    job = with_simulated_punches(
        embedded_stack, upload_via_api(embedded_stack, long_clip), second_person=True
    )
    assert len(job["summary"]["fighters"]) == 2, job["summary"]["fighters"]
    return job


def with_simulated_punches(
    stack: ServiceStack, job: dict[str, Any], *, second_person: bool = False
) -> dict[str, Any]:
    """The finished real ``job`` with a simulated session's punches.json and summary figures written
    over its stored outputs (see ``punch_job``)."""
    video = job["video"]
    punches_doc, punch_summary = simulated_punches(
        video["duration"], video["fps"], second_person=second_person
    )
    assert len(punches_doc["punches"]) >= 4, punches_doc
    outputs = stack.workdir / "data" / "storage" / "jobs" / job["id"] / "outputs"
    summary = json.loads((outputs / "summary.json").read_text())
    (outputs / "punches.json").write_text(json.dumps(punches_doc))
    (outputs / "summary.json").write_text(json.dumps({**summary, **punch_summary}))
    with httpx.Client(base_url=stack.base_url) as client:
        served = client.get(f"/api/v1/jobs/{job['id']}/outputs/punches.json").json()
    assert served == punches_doc, "the stack does not serve outputs from the folder the test wrote"
    return {**job, "punches": punches_doc["punches"], "summary": punch_summary}
