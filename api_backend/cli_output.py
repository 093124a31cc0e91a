"""What `shadow-trainer analyze` shows a person: a progress bar (rich) with frames, fps and time left,
a short summary at the end, and exit codes a script can tell apart."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from shadow_trainer.errors import AnalysisError
from shadow_trainer.pipeline.progress import within_stage

# Exit codes: 0 done; 1 the analysis itself failed; 2 the input is wrong (usage, not a video, over a
# limit, bad keypoints: click uses 2 for usage errors too); 3 something named does not exist.
EXIT_FAILED, EXIT_BAD_INPUT, EXIT_NOT_FOUND = 1, 2, 3
NOT_FOUND_CODES = frozenset({"model_not_found", "file_not_found"})
BAD_INPUT_CODES = frozenset({"invalid_video", "invalid_keypoints", "video_too_long", "resolution_too_high"})


def fail(message: str, exit_code: int) -> NoReturn:
    """Say what went wrong on stderr (`error: …`) and end the command with ``exit_code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(exit_code)


def fail_analysis(error: AnalysisError) -> NoReturn:
    fail(f"{error.code}: {error.message}", exit_code_for(error))


def require_file(path: Path) -> None:
    if not path.is_file():
        fail(f"file_not_found: {path} does not exist", EXIT_NOT_FOUND)


def exit_code_for(error: AnalysisError) -> int:
    if error.code in NOT_FOUND_CODES:
        return EXIT_NOT_FOUND
    return EXIT_BAD_INPUT if error.code in BAD_INPUT_CODES else EXIT_FAILED


class AnalysisProgress:
    """The pipeline's ``progress(stage, overall fraction)`` callback as a bar on stderr: the overall
    share, and within each pass over the frames (pose, then drawing) frames done, fps and time left.
    Nothing is drawn when stderr is not a terminal: logs and CI output stay clean."""

    def __init__(self, frames: int, console: Console) -> None:
        self.frames = max(frames, 1)
        self.bar = Progress(
            TextColumn("{task.fields[stage]:<12}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[done]:>6}/{task.fields[frames]} frames  {task.fields[fps]:>5.1f} fps"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.task: TaskID | None = None
        self.stage, self.stage_started = "", time.monotonic()
        self.started = self.stage_started

    def __enter__(self) -> AnalysisProgress:
        self.bar.start()
        self.task = self.bar.add_task(
            "analysis", total=1.0, stage="starting", done=0, frames=self.frames, fps=0.0
        )
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.bar.stop()

    def __call__(self, stage: str, fraction: float) -> None:
        assert self.task is not None
        if stage != self.stage:
            self.stage, self.stage_started = stage, time.monotonic()
        done = round(within_stage(stage, fraction) * self.frames)
        since = self.started if stage == "done" else self.stage_started  # at the end: the whole run
        fps = done / max(time.monotonic() - since, 1e-6)
        self.bar.update(self.task, completed=fraction, stage=stage, done=done, fps=fps)


class SubmitProgress:
    """A server's job as a bar on stderr while `submit --wait` waits (the client's progress callback)."""

    def __init__(self, console: Console) -> None:
        self.bar = Progress(
            TextColumn("{task.fields[stage]:<12}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
            TimeRemainingColumn(), console=console, transient=True,
        )  # fmt: skip
        self.task: TaskID | None = None

    def __enter__(self) -> SubmitProgress:
        self.bar.start()
        self.task = self.bar.add_task("job", total=1.0, stage="queued")
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.bar.stop()

    def __call__(self, job: Any) -> None:
        assert self.task is not None
        self.bar.update(self.task, completed=job.progress, stage=job.stage)


def summary_lines(summary: Mapping[str, Any]) -> list[str]:
    """A few lines a boxer reads first; the JSON files hold the rest."""
    if not summary.get("boxer_found"):
        return ["no boxer found: no punches counted"]
    by_type = ", ".join(f"{n} {kind}" for kind, n in summary["by_type"].items() if n)
    stance = summary.get("stance") or "unknown"
    confidence = summary.get("stance_confidence")
    stance_text = f"{stance} ({confidence:.0%})" if stance != "unknown" and confidence is not None else stance
    lines = [
        f"punches: {summary['total_punches']} ({by_type or 'none'})",
        f"per minute: {summary['punches_per_minute']:.1f}",
        f"stance: {stance_text}",
    ]
    if len(summary.get("fighters", [])) > 1:
        lines.append(f"fighters: {len(summary['fighters'])} (per fighter in summary.json)")
    return lines
