"""The code stays formatted, lint-clean and type-checked (what the engineering standards ask)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.stack import PROJECT_ROOT

CHECKS = {
    "ruff check": [sys.executable, "-m", "ruff", "check", "."],
    "ruff format": [sys.executable, "-m", "ruff", "format", "--check", "."],
    "mypy": [sys.executable, "-m", "mypy", "api_backend", "src", "tests", "bench"],
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_code_quality(name: str) -> None:
    result = subprocess.run(CHECKS[name], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
