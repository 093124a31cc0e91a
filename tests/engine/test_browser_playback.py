"""annotated.mp4 plays in Chromium: served over HTTP, it reaches HAVE_CURRENT_DATA and time advances."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from shadow_trainer.pipeline.analysis import analyze_video

pytestmark = pytest.mark.slow  # starts Chromium

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture
def served(tmp_path: Path, people_clip: Path) -> Iterator[str]:
    result = analyze_video(people_clip, tmp_path / "out", device="cpu")
    site = tmp_path / "site"
    site.mkdir()
    shutil.copyfile(result.outputs["annotated.mp4"], site / "annotated.mp4")
    (site / "index.html").write_text('<video id="v" src="annotated.mp4" muted playsinline></video>')
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")
def test_annotated_video_plays_in_chromium(served: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(served)
            page.wait_for_function("document.getElementById('v').readyState >= 2", timeout=20_000)
            assert page.evaluate("document.getElementById('v').error") is None
            page.evaluate("document.getElementById('v').play()")
            page.wait_for_function("document.getElementById('v').currentTime > 0.5", timeout=20_000)
            size = page.evaluate(
                "[document.getElementById('v').videoWidth, document.getElementById('v').videoHeight]"
            )
            assert size == [768, 576]
        finally:
            browser.close()
