"""Beat's schedule and the `shadow-trainer beat` command."""

from __future__ import annotations

import subprocess
import sys

from api_backend.celery_app import CPU_QUEUE, celery_app, maintenance_schedule
from api_backend.settings import Settings
from tests.support.stack import PROJECT_ROOT


def test_schedule_runs_both_maintenance_tasks_on_the_cpu_queue() -> None:
    schedule = maintenance_schedule(Settings(maintenance_interval_s=42))
    assert {entry["task"] for entry in schedule.values()} == {
        "shadow_trainer.maintenance.retention",
        "shadow_trainer.maintenance.recover_jobs",
    }
    for entry in schedule.values():
        assert entry["schedule"] == 42
        assert entry["options"] == {"queue": CPU_QUEUE, "expires": 42}
    assert celery_app.conf.beat_schedule.keys() == schedule.keys()


def test_workers_import_the_maintenance_tasks() -> None:
    assert "api_backend.maintenance.tasks" in celery_app.conf.imports
    celery_app.loader.import_default_modules()
    assert {"shadow_trainer.maintenance.retention", "shadow_trainer.maintenance.recover_jobs"} <= set(
        celery_app.tasks
    )


def test_beat_command_has_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api_backend.cli", "beat", "--help"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "maintenance" in result.stdout
