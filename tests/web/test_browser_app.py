"""The browser app in real (headless Debian) Chromium against the real running service."""

from __future__ import annotations

import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, Route, expect

from tests.support.hostile_media import growing_stream
from tests.support.stack import ServiceStack
from tests.web.conftest import PHONE, UPLOADED_BY_BROWSER, WebPage, open_context

UPLOAD_THROUGHPUT = 96 * 1024  # bytes/s: slow enough that the progress bar visibly moves


def throttle_upload(web: WebPage, bytes_per_s: int) -> None:
    cdp = web.context.new_cdp_session(web.page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": bytes_per_s},
    )


def record_upload_progress(page: Page) -> None:
    page.add_init_script(
        "window.__progress = []; document.addEventListener('upload-progress',"
        " e => window.__progress.push(e.detail.loaded / e.detail.total));"
    )


def choose_file(page: Page, path: Path) -> None:
    expect(page.locator("#upload-form")).to_have_attribute("data-ready", "1")
    page.set_input_files("#file-input", str(path))


def wait_until_playing(page: Page) -> dict[str, Any]:
    page.evaluate("document.querySelector('#annotated-video').play()")
    page.wait_for_function(
        "() => { const v = document.querySelector('#annotated-video');"
        " return v.readyState >= 2 && v.currentTime > 0.3; }",
        timeout=20_000,
    )
    state: dict[str, Any] = page.evaluate(
        "(() => { const v = document.querySelector('#annotated-video');"
        " return {readyState: v.readyState, currentTime: v.currentTime, duration: v.duration,"
        " width: v.videoWidth, height: v.videoHeight}; })()"
    )
    return state


def test_upload_progress_live_list_and_result_page(
    web: WebPage, embedded_stack: ServiceStack, real_clip: Path
) -> None:
    page = web.page
    record_upload_progress(page)
    web.open("/")
    expect(page.get_by_role("heading", name="Analyse a boxing video")).to_be_visible()
    expect(page.locator("#limit-hint")).to_contain_text("up to 8 MB")
    throttle_upload(web, UPLOAD_THROUGHPUT)
    choose_file(page, real_clip)
    expect(page.locator("#chosen-file")).to_contain_text("people.mp4")

    page.click("#upload-button")
    bar = page.locator("#upload-progress [role=progressbar]")
    expect(bar).to_be_visible()
    page.wait_for_function("() => window.__progress.some(f => f > 0.2 && f < 0.9)")
    web.screenshot("01-upload-progress")
    notice = page.locator(".notice.success")
    expect(notice).to_contain_text("queued for analysis", timeout=60_000)
    progress: list[float] = page.evaluate("window.__progress")
    middle = [f for f in progress if 0 < f < 1]
    assert len(middle) >= 3 and middle == sorted(middle), progress  # it moved, forwards
    assert progress[-1] == 1.0, progress

    job_id = page.locator("#open-result").get_attribute("href").rsplit("/", 1)[-1]  # type: ignore[union-attr]
    item = page.locator(f"#job-list li[data-job-id='{job_id}']")
    expect(item).to_be_visible()
    assert page.locator("#job-list li").first.get_attribute("data-job-id") == job_id  # newest first
    seen: list[tuple[str | None, str | None]] = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        observed = (
            item.get_attribute("data-status"),
            item.locator("[role=progressbar]").get_attribute("aria-valuenow"),
        )
        if not seen or seen[-1] != observed:
            seen.append(observed)
            if observed[0] == "running" and len(seen) == 2:
                web.screenshot("02-job-list-running")
        if observed[0] in {"succeeded", "failed", "cancelled"}:
            break
        time.sleep(0.1)
    if seen[-1][0] != "succeeded":
        job = httpx.get(f"{embedded_stack.base_url}/api/v1/jobs/{job_id}").json()
        raise AssertionError(f"job ended {seen[-1]}: {job['error']}\n{embedded_stack.logs()}")
    assert any(s in {"queued", "running"} for s, _ in seen[:-1]), seen  # updated live, without a reload
    UPLOADED_BY_BROWSER.append(job_id)
    assert any(f"/api/v1/jobs/{job_id}/events" in r for r in web.requests), "no SSE stream was opened"
    web.screenshot("03-job-list-done")

    item.get_by_role("link", name="View result").click()
    expect(page).to_have_url(f"{embedded_stack.base_url}/jobs/{job_id}")
    expect(page.locator("#results")).to_have_attribute("data-ready", "1")
    state = wait_until_playing(page)
    assert state["readyState"] >= 2 and state["currentTime"] > 0.3, state
    assert (state["width"], state["height"]) == (768, 576), state
    expect(page.locator("#timeline svg")).to_be_visible()
    expect(page.locator("#stat-total")).to_have_text("0")  # people walking: no punches...
    expect(page.locator("#no-boxer")).to_contain_text("No boxer was found")  # ...and the page says why
    expect(page.locator("#stat-stance")).to_have_text("Unknown")
    links = page.locator(".downloads a[data-output]")
    expect(links).to_have_count(4)
    web.screenshot("04-result-no-punches")
    web.assert_no_console_errors()


def test_timeline_renders_and_a_punch_click_seeks_the_video(web: WebPage, punch_job: dict[str, Any]) -> None:
    page = web.page
    punches = sorted(punch_job["punches"], key=lambda p: p["t_start"])
    web.open(f"/jobs/{punch_job['id']}")
    expect(page.locator("#results")).to_have_attribute("data-ready", "1")
    marks = page.locator("#timeline g.punch")
    expect(marks).to_have_count(len(punches))
    for hand in ("left", "right"):
        expected = sum(1 for p in punches if p["hand"] == hand)
        expect(page.locator(f"#timeline g.punch[data-hand='{hand}']")).to_have_count(expected)
    expect(page.locator("#stat-total")).to_have_text(str(len(punches)))
    stance = punch_job["summary"]["stance"]
    expected_stance = "Unknown" if stance == "unknown" else f"{stance.capitalize()} ("
    expect(page.locator("#stat-stance")).to_contain_text(expected_stance)
    expect(page.locator("#no-boxer")).to_have_count(0)
    wait_until_playing(page)
    page.evaluate("document.querySelector('#annotated-video').pause()")

    target = len(punches) - 1
    marks.nth(target).click()
    page.wait_for_function(
        "t => Math.abs(document.querySelector('#annotated-video').currentTime - t) < 0.06",
        arg=punches[target]["t_start"],
    )
    # Keyboard: the focused punch moves with the arrow keys and Enter seeks to it.
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "t => Math.abs(document.querySelector('#annotated-video').currentTime - t) < 0.06",
        arg=punches[1]["t_start"],
    )
    focused = page.evaluate("document.activeElement.getAttribute('data-index')")
    assert focused == "1"
    expect(page.locator("#timeline g.punch.current").first).to_be_attached()
    web.screenshot("05-result-timeline")
    web.assert_no_console_errors()


def test_coaching_figures_come_from_the_summary(web: WebPage, punch_job: dict[str, Any]) -> None:
    summary = punch_job["summary"]
    page = web.page
    web.open(f"/jobs/{punch_job['id']}")
    expect(page.locator("#results")).to_have_attribute("data-ready", "1")
    bins = page.locator("#output-chart g.bin")
    expect(bins).to_have_count(len(summary["timeline"]))
    assert [int(t) for t in bins.evaluate_all("gs => gs.map(g => g.dataset.total)")] == [
        b["total"] for b in summary["timeline"]
    ]
    expect(page.locator("#rounds-table tbody tr")).to_have_count(len(summary["rounds"]))
    top = summary["top_combos"]
    assert top, "the simulated boxer throws combinations"
    expect(page.locator("#top-combos li")).to_have_count(len(top))
    expect(page.locator("#top-combos li").first).to_contain_text(f"× {top[0]['count']}")
    jab = summary["speed"]["by_type"]["jab"]
    expect(page.locator("#speed-table tr[data-type='jab'] td").nth(0)).to_have_text(str(jab["count"]))
    expect(page.locator("#guard-drops")).to_contain_text("No dropped guard")  # simulated boxers keep it up
    csv = page.locator("#punches-csv")
    with page.expect_download() as download:
        csv.click()
    rows = Path(download.value.path()).read_text().splitlines()
    assert rows[0].startswith("t,t_start,t_end,track_id") and len(rows) == len(punch_job["punches"]) + 1
    page.locator("#coaching").scroll_into_view_if_needed()
    web.screenshot("12-result-coaching")
    web.assert_no_console_errors()


def failing_job(stack: ServiceStack, client: httpx.Client, tmp: Path) -> dict[str, Any]:
    """A job that really fails, fast, in the worker: its frames grow to 8K after a small first one."""
    video = growing_stream(tmp / "grow")
    with video.open("rb") as handle:
        created = client.post("/api/v1/jobs", files={"file": (video.name, handle, "video/mp4")})
    assert created.status_code == 202, created.text
    job = stack.wait_for_job(client, created.json()["id"], timeout_s=120)
    assert job["status"] == "failed" and job["error"]["code"] == "resolution_too_high", job
    return job


def test_failed_job_explains_what_to_do(web: WebPage, embedded_stack: ServiceStack, tmp_path: Path) -> None:
    """A real failure: the worker finds frames over the resolution limit (`resolution_too_high`)."""
    with embedded_stack.client() as client:
        job = failing_job(embedded_stack, client, tmp_path)
    page = web.open(f"/jobs/{job['id']}")
    error = page.locator("#job-problem .error-box")
    expect(error).to_have_attribute("data-code", "resolution_too_high")
    expect(error).to_contain_text("larger than this server accepts")
    expect(error).to_contain_text("'grow.h264': 7680×4320")  # the user's file name, not the worker's copy
    expect(page.locator("#job-problem").get_by_role("link", name="Upload a video")).to_be_visible()
    expect(page.locator("#results")).to_be_hidden()
    web.screenshot("11-result-failed")
    web.open("/jobs")
    item = page.locator(f"#job-list li[data-job-id='{job['id']}']")
    expect(item.locator(".error-box")).to_contain_text("Export it at 1080p")
    web.assert_no_console_errors()


def test_job_list_loads_older_pages_with_the_cursor(
    web: WebPage, embedded_stack: ServiceStack, punch_job: dict[str, Any], tmp_path: Path
) -> None:
    with embedded_stack.client() as client:
        if len(client.get("/api/v1/jobs", params={"limit": 2}).json()["items"]) < 2:
            failing_job(embedded_stack, client, tmp_path)  # run alone: a second job, cheaply
        history = client.get("/api/v1/jobs", params={"limit": 2}).json()["items"]
    page = web.open("/jobs?limit=1")
    items = page.locator("#job-list li")
    expect(items).to_have_count(1)
    page.get_by_role("button", name="Load older jobs").click()
    expect(items).to_have_count(2)
    shown = [items.nth(i).get_attribute("data-job-id") for i in range(2)]
    assert shown == [job["id"] for job in history[:2]]  # newest first, no duplicates
    page.select_option("#status-filter", "succeeded")
    expect(page.locator("#job-list li[data-status]").first).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#job-list li:not([data-status='succeeded'])")).to_have_count(0)
    web.assert_no_console_errors()


def test_job_list_shows_each_sessions_figures_and_still_and_deletes_a_job(
    web: WebPage, embedded_stack: ServiceStack, boxing_job: dict[str, Any], real_clip: Path
) -> None:
    with embedded_stack.client() as client, real_clip.open("rb") as handle:
        created = client.post("/api/v1/jobs", files={"file": ("throwaway.mp4", handle, "video/mp4")})
        doomed = embedded_stack.wait_for_job(client, created.json()["id"])
    page = web.open("/jobs")
    item = page.locator(f"#job-list li[data-job-id='{boxing_job['id']}']")
    figures = boxing_job["figures"]
    expect(item.locator(".job-figures")).to_contain_text(
        f"{figures['punches']} punches · {figures['punches_per_minute']:.1f} per minute"
    )
    still = item.locator("img.job-thumb")
    page.wait_for_function("img => img.complete && img.naturalWidth === 320", arg=still.element_handle())
    web.screenshot("13-jobs-figures-and-stills")

    gone = page.locator(f"#job-list li[data-job-id='{doomed['id']}']")
    gone.get_by_role("button", name="Delete throwaway.mp4").click()
    gone.get_by_role("button", name="Keep").click()  # changed their mind: nothing happens
    gone.get_by_role("button", name="Delete throwaway.mp4").click()
    expect(gone).to_contain_text("Delete the video and every result?")
    gone.get_by_role("button", name="Delete throwaway.mp4 and its files for good").click()
    expect(gone).to_have_count(0)
    assert httpx.get(f"{embedded_stack.base_url}/api/v1/jobs/{doomed['id']}").status_code == 404
    expect(item).to_be_visible()
    web.assert_no_console_errors()


def test_progress_page_plots_every_session_over_dates(
    web: WebPage, embedded_stack: ServiceStack, boxing_job: dict[str, Any], punch_job: dict[str, Any]
) -> None:
    sessions = httpx.get(f"{embedded_stack.base_url}/api/v1/sessions").json()["sessions"]
    assert any(point["id"] == boxing_job["id"] for point in sessions)
    page = web.open("/progress")
    expect(page.locator("#trends")).to_have_attribute("data-ready", "1")
    for key in ("punches_per_minute", "punches", "mean_speed", "combos_per_minute"):
        plotted = [p["figures"][key] for p in sessions if p["figures"][key] is not None]
        points = page.locator(f"#trend-{key} a.trend-point")
        expect(points).to_have_count(len(plotted))
        assert [float(v) for v in points.evaluate_all("as => as.map(a => a.dataset.value)")] == plotted
    rows = page.locator("#sessions-table tbody tr")
    expect(rows).to_have_count(len(sessions))
    row = page.locator(f"#sessions-table tr[data-job-id='{boxing_job['id']}']")
    figures = boxing_job["figures"]
    expect(row.locator("td[data-figure='punches']")).to_have_text(str(figures["punches"]))
    expect(row.locator("td[data-figure='punches_per_minute']")).to_have_text(
        f"{figures['punches_per_minute']:.1f}"
    )
    web.screenshot("14-progress")
    page.locator(f"#trend-punches a.trend-point[data-job-id='{boxing_job['id']}']").click()
    expect(page).to_have_url(f"{embedded_stack.base_url}/jobs/{boxing_job['id']}")

    page = web.open("/progress")
    page.fill("#since", "2099-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#no-sessions")).to_have_text("No analysed session in these dates.")
    assert "since=2099-01-01" in page.url
    web.assert_no_console_errors()


def test_annotated_video_supports_range_requests(
    embedded_stack: ServiceStack, punch_job: dict[str, Any]
) -> None:
    """Seeking needs byte ranges: local storage answers 206 with Content-Range."""
    url = f"{embedded_stack.base_url}/api/v1/jobs/{punch_job['id']}/outputs/annotated.mp4"
    response = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert response.status_code == 206, response.status_code
    assert response.headers["content-range"].startswith("bytes 100-199/")
    assert response.headers["accept-ranges"] == "bytes"
    assert len(response.content) == 100


def test_invalid_file_shows_a_clear_error(web: WebPage, tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is a text file renamed to .mp4\n" * 50)
    page = web.open("/")
    choose_file(page, fake)
    page.click("#upload-button")
    error = page.locator("#upload-messages .error-box")
    expect(error).to_have_attribute("data-code", "invalid_video")
    expect(error).to_contain_text("This file isn't a video we can read.")
    expect(error).to_contain_text("Export it again as MP4")
    expect(page.locator("#upload-messages [role=alert]")).to_be_visible()
    web.screenshot("06-invalid-file")
    # The browser itself logs the refused request (HTTP 422); the page's own code logs nothing.
    web.assert_no_console_errors(
        allowed=(r"Failed to load resource: the server responded with a status of 422",)
    )


def test_oversize_and_non_video_files_are_refused_before_upload(web: WebPage, tmp_path: Path) -> None:
    big = tmp_path / "big.mp4"
    with big.open("wb") as handle:
        handle.truncate(9 * 1024 * 1024)  # over the stack's MAX_UPLOAD_MB=8
    page = web.open("/")
    choose_file(page, big)
    error = page.locator("#upload-messages .error-box")
    expect(error).to_have_attribute("data-code", "upload_too_large")
    expect(error).to_contain_text("The limit is 8 MB")
    expect(page.locator("#upload-button")).to_be_disabled()
    web.screenshot("07-too-large")

    text = tmp_path / "notes.txt"
    text.write_text("not a video")
    choose_file(page, text)
    expect(error).to_have_attribute("data-code", "unsupported_file_type")
    assert not [r for r in web.requests if r.startswith("POST")], web.requests
    web.assert_no_console_errors()


def test_upload_can_be_cancelled(web: WebPage, real_clip: Path) -> None:
    page = web.page
    record_upload_progress(page)
    web.open("/")
    throttle_upload(web, 16 * 1024)
    choose_file(page, real_clip)
    page.click("#upload-button")
    page.wait_for_function("() => window.__progress.length > 0")
    page.click("#cancel-upload")
    error = page.locator("#upload-messages .error-box")
    expect(error).to_have_attribute("data-code", "upload_aborted")
    expect(page.locator("#cancel-upload")).to_be_hidden()
    expect(page.locator("#upload-button")).to_be_enabled()  # the same file can be sent again
    web.assert_no_console_errors()


def test_an_upload_cut_off_by_the_network_resumes_where_it_stopped(
    web: WebPage, embedded_stack: ServiceStack, long_clip: Path
) -> None:
    """2–3 MiB in chunks of 1 MiB (the stack's RESUMABLE_CHUNK_MB): the second chunk's request dies on
    the way; the browser asks the server what arrived and goes on from there, not from the start."""
    size = long_clip.stat().st_size
    assert 2 * 1024 * 1024 < size <= 3 * 1024 * 1024, size  # three chunks
    page = web.page
    offsets: list[int] = []  # Upload-Offset of each chunk the browser sends
    dropped: list[int] = []

    def lose_the_second_chunk(route: Route) -> None:
        request = route.request
        if request.method == "PATCH":
            offsets.append(int(request.headers["upload-offset"]))
            if offsets[-1] > 0 and not dropped:
                dropped.append(offsets[-1])
                route.abort("internetdisconnected")
                return
        route.continue_()

    page.route("**/api/v1/uploads/**", lose_the_second_chunk)
    web.open("/")
    choose_file(page, long_clip)
    page.click("#upload-button")
    expect(page.locator(".notice.success")).to_contain_text("queued for analysis", timeout=90_000)

    mib = 1024 * 1024
    assert dropped == [mib] and offsets == [0, mib, mib, 2 * mib], offsets  # resumed, not restarted
    assert page.locator("#upload-form").get_attribute("data-retries") == "1"
    job_id = page.locator("#open-result").get_attribute("href").rsplit("/", 1)[-1]  # type: ignore[union-attr]
    with embedded_stack.client() as client:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        assert (job["filename"], job["size"], job["video"]["frames"]) == ("long.mp4", size, 300), job
        client.post(f"/api/v1/jobs/{job_id}/cancel")  # a long analysis this test does not need
    web.assert_no_console_errors(allowed=("ERR_INTERNET_DISCONNECTED", "Failed to load resource"))


def test_phone_width_has_no_horizontal_scroll(
    browser: Browser, embedded_stack: ServiceStack, artifacts: Path, punch_job: dict[str, Any]
) -> None:
    phone = open_context(
        browser, embedded_stack.base_url, artifacts, viewport=PHONE, device_scale_factor=2, is_mobile=True,
        has_touch=True,
    )  # fmt: skip
    try:
        page = phone.page
        for name, path, ready in (
            ("08-phone-upload", "/", "#upload-form[data-ready='1']"),
            ("09-phone-jobs", "/jobs", "#job-list li"),
            ("15-phone-progress", "/progress", "#trends[data-ready='1']"),
            ("10-phone-result", f"/jobs/{punch_job['id']}", "#results[data-ready='1']"),
        ):
            phone.open(path)
            page.wait_for_selector(ready)
            widths = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert widths[0] <= widths[1], (path, widths)
            phone.screenshot(name)
        marks = page.locator("#timeline g.punch")
        expect(marks.first).to_be_visible()
        box = page.locator("#timeline svg").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        phone.assert_no_console_errors()
    finally:
        phone.context.close()


def test_config_endpoint_reports_the_server_limits(embedded_stack: ServiceStack) -> None:
    config = httpx.get(f"{embedded_stack.base_url}/api/v1/config").json()
    assert config["max_upload_bytes"] == 8 * 1024 * 1024
    assert config["default_model"] in config["models"]
    assert config["devices"] == ["auto", "cpu", "gpu"]


def test_sparring_shows_every_fighter_in_a_table_and_a_tab_and_fits_a_phone(
    browser: Browser,
    web: WebPage,
    embedded_stack: ServiceStack,
    artifacts: Path,
    sparring_job: dict[str, Any],
) -> None:
    summary = sparring_job["summary"]
    fighters = summary["fighters"]
    page = web.page
    web.open(f"/jobs/{sparring_job['id']}")
    expect(page.locator("#results")).to_have_attribute("data-ready", "1")
    rows = page.locator("#fighters-table tbody tr")
    expect(rows).to_have_count(len(fighters))
    main = summary["main_track_id"]
    expect(page.locator(f"#fighters-table tr[data-track='{main}'] th")).to_have_text(f"#{main} (main)")
    tabs = page.locator("#coaching [role='tab']")
    expect(tabs).to_have_count(1 + len(fighters))
    other = next(f for f in fighters if f["track_id"] != main)
    page.locator("#coaching [role='tab']", has_text=f"Fighter #{other['track_id']}").click()
    bins = page.locator("#output-chart g.bin")
    assert [int(t) for t in bins.evaluate_all("gs => gs.map(g => g.dataset.total)")] == [
        b["total"] for b in other["timeline"]
    ]
    # The chart's time labels stand apart (a label per bin of 10 s ran together on short clips).
    spans = page.locator("#output-chart g.bin text").evaluate_all(
        "ts => ts.map(t => { const b = t.getBoundingClientRect(); return [b.left, b.right]; })"
    )
    assert len(spans) >= 2 and all(a[1] + 4 <= b[0] for a, b in pairwise(spans)), spans
    web.screenshot("16-result-sparring")
    web.assert_no_console_errors()

    phone = open_context(
        browser, embedded_stack.base_url, artifacts, viewport=PHONE, is_mobile=True, has_touch=True
    )
    try:
        phone.open(f"/jobs/{sparring_job['id']}")
        phone.page.wait_for_selector("#results[data-ready='1']")
        widths = phone.page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], widths  # five columns scroll inside their card, not the page
        for table in ("#fighters-table", "#rounds-table"):
            box = phone.page.locator(table).locator("xpath=..").bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
                table,
                box,
            )
        phone.screenshot("17-phone-result-sparring")
        phone.assert_no_console_errors()
    finally:
        phone.context.close()
