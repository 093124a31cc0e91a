"""bench/bench_analytics.py: the coaching analytics on simulated sessions.

No combination-accuracy threshold here (that is what the bench is for); this shows the script runs
and prints its rows, that combinations are matched per fighter, and that two rounds laid out from
the clips' punches and boxing time come out as work, rest, work.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

from bench_analytics import combo_exactness, true_punch  # noqa: E402


def test_combinations_are_matched_per_fighter() -> None:
    # Two fighters throwing at the same moments: each has a jab-cross; merged they would be one
    # four-punch run, and the second fighter's pair must not count for the first.
    labels = [
        {"t": 1.0, "track_id": 1, "hand": "left", "side": "lead", "type": "jab"},
        {"t": 1.05, "track_id": 2, "hand": "left", "side": "lead", "type": "jab"},
        {"t": 1.4, "track_id": 1, "hand": "right", "side": "rear", "type": "cross"},
        {"t": 1.45, "track_id": 2, "hand": "right", "side": "rear", "type": "cross"},
    ]
    truth = [true_punch(label) for label in labels]
    assert combo_exactness(truth, truth) == (2, 2)
    assert combo_exactness(truth, [p for p in truth if p["track_id"] == 1]) == (1, 2)


def test_bench_prints_combinations_rounds_and_speed() -> None:
    command = [sys.executable, str(REPO / "bench" / "bench_analytics.py"), "--clips", "3"]
    run = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert re.search(r"combinations exact, everyone\s+[01]\.\d{3}\s+≥ 0\.90\s+\(\d+/[1-9]\d*\)", out), out
    assert re.search(r"combinations exact, the boxer \(track 1\)\s+[01]\.\d{3}", out), out
    boxed = out.split("segments found (punches and boxing time)")[1].splitlines()
    assert "work-rest-work" in boxed[0], out
    assert re.search(r"analytics, ms per minute of video\s+\d+\.\d\d", out), out
