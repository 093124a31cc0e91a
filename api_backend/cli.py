"""`shadow-trainer`: serve, worker, beat, analyze, classify, db upgrade/downgrade."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import httpx
import typer

from api_backend.cli_output import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    AnalysisProgress,
    SubmitProgress,
    fail,
    fail_analysis,
    require_file,
    summary_lines,
)
from shadow_trainer.pose.options import DEFAULT_MODEL, DEFAULT_PRECISION, DEVICES, PRECISIONS
from shadow_trainer.pose.rate import POSE_FPS


class WorkerPool(StrEnum):
    prefork = "prefork"
    threads = "threads"


# The webhooks worker: deliveries wait on the network, so threads, several at once.
WEBHOOK_WORKER_ARGS = ["--queues", "webhooks", "--pool", "threads", "--concurrency", "8"]

app = typer.Typer(help="Shadow Trainer: boxing video analysis.", no_args_is_help=True, add_completion=False)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"shadow-trainer {version('shadow-trainer')}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit"),
    ] = False,
) -> None:
    """Shadow Trainer: boxing video analysis."""


db_app = typer.Typer(help="Database migrations (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")
keys_app = typer.Typer(help="API keys (AUTH_MODE=api_key).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _alembic_logging() -> None:
    """Alembic says what it applies on stderr, as its own command line does."""
    import logging

    logger = logging.getLogger("alembic")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)-5.5s [%(name)s] %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from alembic import command

    from api_backend.db.migrations import alembic_config
    from api_backend.settings import get_settings

    settings = get_settings()
    if settings.resolved_database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    _alembic_logging()
    command.upgrade(alembic_config(), revision)


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="target revision, e.g. base or -1")]) -> None:
    """Revert migrations down to REVISION."""
    from alembic import command

    from api_backend.db.migrations import alembic_config

    _alembic_logging()
    command.downgrade(alembic_config(), revision)


@db_app.command("wait")
def db_wait(
    timeout: Annotated[float, typer.Option(help="give up after this many seconds (exit code 1)")] = 900.0,
) -> None:
    """Wait until the database schema is at this version's head (for init containers: another
    process migrates; replicas never race to migrate themselves)."""
    import logging

    from api_backend.db.migrations import wait_for_head
    from api_backend.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if not wait_for_head(get_settings().resolved_database_url, timeout_s=timeout):
        typer.echo(f"the database did not reach the head revision within {timeout:.0f} s", err=True)
        raise typer.Exit(1)
    typer.echo("database schema is at head", err=True)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="who the key is for")],
    owner: Annotated[str | None, typer.Option(help="share jobs with other keys of this owner")] = None,
) -> None:
    """Create an API key. It is printed once; only its hash is stored."""
    from api_backend.auth.keys import create_key
    from api_backend.db.engine import session_scope

    with session_scope() as session:
        row, key = create_key(session, name, owner)
    typer.echo(f"created key {row.prefix}… for {row.name} (owner {row.owner}); store it now:", err=True)
    typer.echo(f"its webhook secret (verify webhooks with it): {row.webhook_secret}", err=True)
    typer.echo(key)


@keys_app.command("list")
def keys_list() -> None:
    """List API keys (prefix, name, owner, state)."""
    from api_backend.auth.keys import list_keys
    from api_backend.db.engine import get_sessionmaker

    with get_sessionmaker()() as session:
        for row in list_keys(session):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
            typer.echo(f"{row.prefix}  {row.name:<24} owner={row.owner:<18} {state}")


@keys_app.command("revoke")
def keys_revoke(
    prefix: Annotated[str, typer.Argument(help="the key's prefix, as `keys list` shows")],
) -> None:
    """Revoke an API key at once."""
    from api_backend.auth.keys import revoke_key
    from api_backend.db.engine import session_scope

    with session_scope() as session:
        if not revoke_key(session, prefix):
            typer.echo(f"no active key with prefix {prefix}", err=True)
            raise typer.Exit(1)
    typer.echo(f"revoked {prefix}")


@keys_app.command("webhook-secret")
def keys_webhook_secret(
    prefix: Annotated[
        str | None, typer.Argument(help="the key's prefix; none: the secret of jobs made in open mode")
    ] = None,
) -> None:
    """Print the secret that signs the webhooks of a key's jobs (Standard Webhooks, `whsec_…`)."""
    from sqlalchemy import select

    from api_backend.auth.models import ApiKey
    from api_backend.db.engine import get_sessionmaker
    from api_backend.settings import get_settings
    from api_backend.webhooks.secrets import open_mode_webhook_secret

    if prefix is None:
        typer.echo(open_mode_webhook_secret(get_settings()))
        return
    with get_sessionmaker()() as session:
        row = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if row is None or not row.webhook_secret:
        typer.echo(f"no key with prefix {prefix} (or one older than webhook secrets)", err=True)
        raise typer.Exit(1)
    typer.echo(row.webhook_secret)


def default_queues() -> str:
    from api_backend.workers.heartbeat import cuda_available

    return "gpu,cpu" if cuda_available() else "cpu"


def _prepare_multiprocess_metrics() -> Path | None:
    """Pool children share metrics through files; the folder must be set before prometheus_client loads.
    Returns the folder when it was made here (the caller removes it when the worker stops)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        for stale in Path(folder).glob("*.db"):
            stale.unlink()
        return None
    made = tempfile.mkdtemp(prefix="shadow-worker-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
    return Path(made)


@app.command()
def worker(
    queues: Annotated[
        str | None, typer.Option(help="comma-separated: gpu, cpu (default: gpu,cpu with CUDA, else cpu)")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="jobs in parallel (default: WORKER_CONCURRENCY)")
    ] = None,
    pool: Annotated[
        WorkerPool,
        typer.Option(help="prefork for analysis; threads for the webhooks queue (waits on the network)"),
    ] = WorkerPool.prefork,
    loglevel: Annotated[str, typer.Option()] = "info",
    quiet: Annotated[bool, typer.Option("--quiet", help="no startup banner")] = False,
) -> None:
    """Run a Celery worker: analysis (queues gpu, cpu) or webhook deliveries (queue webhooks)."""
    metrics_dir = _prepare_multiprocess_metrics()
    from api_backend.celery_app import celery_app
    from api_backend.settings import get_settings

    queue_list = queues or default_queues()
    name = f"{queue_list.replace(',', '-')}-{os.getpid()}@%h"
    banner = ["--quiet"] if quiet else []
    try:
        celery_app.worker_main(
            [*banner, "worker", "-Q", queue_list, "-c", str(concurrency or get_settings().worker_concurrency),
             "-P", pool.value, "-l", loglevel, "-n", name, "--without-gossip", "--without-mingle"]
        )  # fmt: skip
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


@app.command()
def beat(
    loglevel: Annotated[str, typer.Option()] = "info",
    quiet: Annotated[bool, typer.Option("--quiet", help="no startup banner")] = False,
) -> None:
    """Run Celery beat: schedules maintenance (file retention, stuck-job recovery). Run exactly one."""
    from api_backend.celery_app import celery_app
    from api_backend.settings import get_settings

    data_dir = get_settings().data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    schedule = (data_dir / "celerybeat-schedule").resolve()
    banner = ["--quiet"] if quiet else []
    celery_app.start([*banner, "beat", "--schedule", str(schedule), "--loglevel", loglevel])


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: HOST setting")] = None,
    port: Annotated[int | None, typer.Option(help="default: PORT setting")] = None,
    with_worker: Annotated[bool, typer.Option("--worker/--no-worker", help="also run a local worker")] = True,
    with_beat: Annotated[bool, typer.Option("--beat/--no-beat", help="also run Celery beat")] = True,
) -> None:
    """Run the API, a local worker and beat: with no settings, on SQLite, a local folder, no servers."""
    from api_backend.process_supervisor import Supervisor
    from api_backend.settings import get_settings

    settings = get_settings()
    db_upgrade("head")
    host, port = host or settings.host, port or settings.port
    # The address first: it is what a person starting this looks for.
    typer.echo(f"Shadow Trainer is running at http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    typer.echo(f"  upload:  curl -F file=@video.mp4 http://{host}:{port}/api/v1/jobs")
    supervisor = Supervisor()
    supervisor.start("api", [sys.executable, "-m", "uvicorn", "api_backend.main:app", "--host", host,
                             "--port", str(port), "--log-level", settings.log_level,
                             "--forwarded-allow-ips", settings.forwarded_allow_ips])  # fmt: skip
    cli = [sys.executable, "-m", "api_backend.cli"]
    if with_worker:
        supervisor.start("worker", [*cli, "worker", "--quiet"])
        # Deliveries in their own (light, threaded) worker: a slow receiver never delays analysis.
        webhooks = [*cli, "worker", *WEBHOOK_WORKER_ARGS, "--quiet"]
        supervisor.start("webhooks", webhooks, env={"WORKER_METRICS_PORT": "0"})
    if with_beat:
        supervisor.start("beat", [*cli, "beat", "--quiet"])
    raise typer.Exit(supervisor.wait())


class Device(StrEnum):
    auto = "auto"
    cpu = "cpu"
    gpu = "gpu"


class PosePrecision(StrEnum):
    fp32 = "fp32"
    int8 = "int8"


assert tuple(Device) == DEVICES and tuple(PosePrecision) == PRECISIONS, "the CLI offers the engine's choices"
DEFAULT_POSE_PRECISION = PosePrecision(DEFAULT_PRECISION)


def _writable_out(out: Path) -> None:
    """Checked before any work: a wrong --out is found in a second, not after the analysis."""
    if out.exists() and not out.is_dir():
        fail(f"--out {out} is a file, not a folder", EXIT_BAD_INPUT)
    parent = out if out.exists() else next((p for p in out.parents if p.exists()), Path("."))
    if not os.access(parent, os.W_OK | os.X_OK):
        fail(f"cannot write to {parent} (for --out {out})", EXIT_BAD_INPUT)


@app.command()
def analyze(
    video: Annotated[Path, typer.Argument(help="the video file")],
    out: Annotated[Path, typer.Option("--out", help="folder for the four outputs")],
    model: Annotated[str, typer.Option(help="pose model name")] = DEFAULT_MODEL,
    device: Annotated[Device, typer.Option(help="where pose estimation runs")] = Device.auto,
    model_dir: Annotated[Path | None, typer.Option(help="folder of pose models")] = None,
    pose_fps: Annotated[
        float,
        typer.Option(min=0, help="pose runs this often a second; frames between are interpolated (0: all)"),
    ] = POSE_FPS,
    precision: Annotated[
        PosePrecision, typer.Option(help="CPU arithmetic: fp32 (the reference) or int8 (quantised)")
    ] = DEFAULT_POSE_PRECISION,
    crops: Annotated[
        bool, typer.Option(help="on CPU, pose looks at a crop around the people found (whole picture 1/s)")
    ] = True,
) -> None:
    """Analyse one video into OUT: annotated.mp4, keypoints.json, punches.json, summary.json.

    Exit codes: 0 done, 1 the analysis failed, 2 bad input (not a video, over a limit, a wrong
    option), 3 not found (the video, the model)."""
    from rich.console import Console

    from shadow_trainer.errors import AnalysisError
    from shadow_trainer.media.video import probe_video
    from shadow_trainer.pipeline.analysis import analyze_video

    require_file(video)
    _writable_out(out)
    console = Console(stderr=True)
    try:
        frames = probe_video(video).frames
        with AnalysisProgress(frames, console) as progress:
            result = analyze_video(
                video, out, model=model, device=device.value, model_dir=model_dir, progress=progress,
                pose_max_fps=pose_fps, pose_precision=precision.value, pose_crops=crops,
            )  # fmt: skip
    except AnalysisError as exc:
        fail_analysis(exc)
    for name, path in result.outputs.items():
        typer.echo(f"{name:<16} {path}")
    for line in summary_lines(result.summary):
        typer.echo(line)
    typer.echo(f"{result.frames_per_second:.1f} frames/s")


@app.command()
def submit(
    video: Annotated[Path, typer.Argument(help="the video file")],
    server: Annotated[
        str, typer.Option(envvar="SHADOW_TRAINER_URL", help="the API, e.g. https://boxing.example.com")
    ],
    api_key: Annotated[
        str | None, typer.Option(envvar="SHADOW_TRAINER_API_KEY", help="with AUTH_MODE=api_key")
    ] = None,
    model: Annotated[str | None, typer.Option(help="pose model name (default: the server's)")] = None,
    device: Annotated[Device, typer.Option(help="where pose estimation runs")] = Device.auto,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="wait until the job ends")] = False,
    out: Annotated[Path | None, typer.Option(help="with --wait: download the outputs here")] = None,
    resumable: Annotated[
        bool, typer.Option(help="send in chunks that survive a dropped connection (tus); for big files")
    ] = False,
) -> None:
    """Send a video to a running server (the Python client, `shadow_trainer_client`); prints the job id.

    Exit codes as for `analyze`; a refused upload exits 2 (4xx) or 1 (5xx, unreachable)."""
    from rich.console import Console

    from shadow_trainer_client import ApiError, Client, JobFailed

    require_file(video)
    if out is not None:
        _writable_out(out)
    console = Console(stderr=True)
    try:
        with Client(server, api_key) as client, SubmitProgress(console) as progress:
            job = client.submit(video, device=device.value, model=model or "", resumable=resumable)
            typer.echo(job.id)
            if not (wait or out):
                return
            job = client.wait(job.id, progress=progress)
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                for name in job.outputs:
                    typer.echo(f"{name:<16} {client.download(job, name, out / name)}")
    except ApiError as exc:
        fail(f"{exc.code}: {exc.message}", EXIT_BAD_INPUT if exc.status < 500 else EXIT_FAILED)
    except JobFailed as exc:
        fail(str(exc), EXIT_FAILED)
    except httpx.HTTPError as exc:
        fail(f"cannot reach {server}: {exc}", EXIT_FAILED)
    typer.echo(job.status)


@app.command()
def classify(keypoints: Annotated[Path, typer.Argument(help="a keypoints.json file")]) -> None:
    """Detect and classify punches; prints punches.json to stdout."""
    from shadow_trainer.errors import AnalysisError
    from shadow_trainer.punches import classify_keypoints, load_keypoints

    try:
        document = classify_keypoints(load_keypoints(keypoints))
    except AnalysisError as exc:
        fail_analysis(exc)
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
