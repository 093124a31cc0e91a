"""The `shadow-trainer` command line: its arguments and errors in this process (Click's runner, the
fast tier); what needs a real process (an analysis end to end, the progress bar's terminal check,
the worker and the server) as one."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from api_backend.cli import app
from boxing_sim import simulate_clip
from tests.support.services import free_port, wait_until
from tests.support.stack import PROJECT_ROOT


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str) -> CliResult:
    """The command in this process: its exit code and what it wrote to stdout and stderr."""
    result = CliRunner().invoke(app, list(args), prog_name="shadow-trainer")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)


def cli_process(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api_backend.cli", *args],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("command", [[], ["serve"], ["worker"], ["analyze"], ["classify"], ["db", "upgrade"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


@pytest.mark.slow
def test_analyze_writes_the_four_outputs(real_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli_process("analyze", str(real_clip), "--out", str(out), "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "annotated.mp4",
        "keypoints.json",
        "punches.json",
        "summary.json",
    ]
    keypoints = json.loads((out / "keypoints.json").read_text())
    assert keypoints["frame_count"] == 20
    # A short summary for the person at the terminal (people walking: nobody boxes).
    assert "no boxer found: no punches counted" in result.stdout
    assert "━" not in result.stderr, "no progress bar drawn when stderr is not a terminal"
    assert json.loads((out / "summary.json").read_text())["runtime"] == "onnx"  # fp32, the reference


@pytest.mark.slow
def test_analyze_runs_the_quantised_model_on_the_whole_picture_when_asked(
    real_clip: Path, tmp_path: Path
) -> None:
    result = cli_process(
        "analyze",
        str(real_clip),
        "--out",
        str(tmp_path),
        "--device",
        "cpu",
        "--precision",
        "int8",
        "--no-crops",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["runtime"] == "onnx-int8"
    assert summary["pose_crop_frames"] == 0
    assert summary["people_tracked"] >= 2  # vtest.avi's pedestrians are still found


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["analyze", "/no/such/video.mp4", "--out", "OUT"], 3, "file_not_found"),
        (["analyze", "VIDEO", "--out", "VIDEO"], 2, "is a file, not a folder"),
        (["analyze", "VIDEO", "--out", "OUT", "--model", "no-such-model"], 3, "model_not_found"),
        (["analyze", "VIDEO", "--out", "OUT", "--device", "tpu"], 2, "'tpu' is not one of"),
        (["analyze", "VIDEO", "--out", "OUT", "--precision", "int4"], 2, "'int4' is not one of"),
    ],
    ids=["missing-video", "out-is-a-file", "unknown-model", "bad-device", "bad-precision"],
)
def test_analyze_exit_codes_tell_mistakes_apart(
    real_clip: Path, tmp_path: Path, args: list[str], code: int, says: str
) -> None:
    argv = [str(real_clip) if a == "VIDEO" else str(tmp_path / "out") if a == "OUT" else a for a in args]
    result = cli(*argv)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert says in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_version() -> None:
    result = cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("shadow-trainer ")


def test_analyze_refuses_a_file_that_is_not_a_video(tmp_path: Path) -> None:
    fake = tmp_path / "fake.mp4"
    fake.write_text("hello")
    result = cli("analyze", str(fake), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "invalid_video" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_classify_prints_punches_json(tmp_path: Path) -> None:
    clip = simulate_clip(seed=4242)
    path = tmp_path / "keypoints.json"
    path.write_text(json.dumps(clip.keypoints))
    result = cli("classify", str(path))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["stance"] in {"orthodox", "southpaw", "unknown"}
    assert document["main_track_id"] == 1 and document["fighters"][0]["track_id"] == 1
    assert len(document["punches"]) >= 1
    assert {"t", "frame", "t_start", "t_end", "hand", "side", "type", "confidence", "peak_speed"} <= set(
        document["punches"][0]
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "invalid_keypoints"),
        ('{"fps": 30}', "invalid_keypoints"),
    ],
)
def test_classify_bad_input_is_a_clear_error(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "keypoints.json"
    path.write_text(content)
    result = cli("classify", str(path))
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_classify_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = cli("classify", str(tmp_path / "nope.json"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_worker_leaves_no_metrics_folder_behind(tmp_path: Path) -> None:
    """Pool children share metrics through files in a folder the worker makes; it goes with the worker."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    port = free_port()
    env = {**os.environ, "TMPDIR": str(tmp), "DATA_DIR": str(tmp_path / "data"),
           "WORKER_METRICS_PORT": str(port), "WORKER_HEARTBEAT_S": "1"}  # fmt: skip
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    cli = [sys.executable, "-m", "api_backend.cli"]
    subprocess.run(
        [*cli, "db", "upgrade"], env=env, cwd=PROJECT_ROOT, check=True, capture_output=True, timeout=120
    )
    worker = subprocess.Popen([*cli, "worker", "--queues", "cpu"], env=env, cwd=PROJECT_ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    ready = f"http://127.0.0.1:{port}/health/ready"
    try:
        wait_until(lambda: httpx.get(ready, timeout=2).status_code == 200, 90, "worker ready")
        assert list(tmp.glob("shadow-worker-metrics-*")), "the worker made its metrics folder"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
    assert not list(tmp.glob("shadow-worker-metrics-*"))


@pytest.mark.slow
def test_serve_says_where_it_runs_first_and_keeps_the_noise_out(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "WORKER_METRICS_PORT": "0", "LOG_LEVEL": "info"}
    out, err = (tmp_path / "out.txt").open("w"), (tmp_path / "err.txt").open("w")
    serve = subprocess.Popen([sys.executable, "-m", "api_backend.cli", "serve", "--port", str(port)], env=env,
                             cwd=tmp_path, stdout=out, stderr=err, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/health/ready", timeout=2).status_code == 200, 90, "serve")
        page = httpx.get(url, timeout=10).text
        assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page)
        assert assets and all(httpx.get(url + a, timeout=10).status_code == 200 for a in assets)
        wait_until(lambda: "celery.beat" in (tmp_path / "err.txt").read_text(), 60, "beat started")
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(90)
    stdout, stderr = (tmp_path / "out.txt").read_text(), (tmp_path / "err.txt").read_text()
    assert stdout.splitlines()[0] == f"Shadow Trainer is running at {url}/  (API docs: {url}/docs)"
    assert "[config]" not in stdout + stderr and "-------------- " not in stdout + stderr, "Celery's banner"
    assert "GET /assets/" not in stderr, "an access line per static file"
    assert "GET / 200" in stderr  # the page itself is still logged
