"""Evaluate punch detection/classification on held-out simulated clips, per condition.

    uv run python bench/eval_punches.py [--clips N] [--seed S] [--variety classic|wide]

The default seed is one never used while developing or training, so the numbers are held-out.
A detection matches a true punch of the same fighter when |t_det - t_true| <= 0.15 s (one-to-one);
every simulated person's punches are labelled (the second person boxes too).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from typing import Any

from boxing_sim import Score, clip_seed, score_clip, simulate_clip
from shadow_trainer.punches import classify_tracks, validate_keypoints
from shadow_trainer.punches.candidate_model import load_candidate_model
from shadow_trainer.tracking.series import from_keypoints

HELD_OUT_SEED = 90210
CONDITIONS = ("view", "fps", "noise", "mirrored", "second_person", "stance")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=int, default=300)
    parser.add_argument("--seed", type=int, default=HELD_OUT_SEED)
    parser.add_argument("--variety", default="classic", help="classic (the original clips) or wide")
    parser.add_argument("--threshold", type=float, help="override the candidate model's punch threshold")
    parser.add_argument("--confusion", action="store_true", help="also print the type confusion matrix")
    args = parser.parse_args()
    model = load_candidate_model()
    if args.threshold is not None:
        model = model.with_threshold(args.threshold)
    groups: dict[tuple[str, str], Score] = defaultdict(Score)
    total, seconds_of_video, seconds_spent, cpu_spent = Score(), 0.0, 0.0, 0.0
    for i in range(args.clips):
        clip = simulate_clip(clip_seed(args.seed, i), variety=args.variety)
        start, cpu_start = time.perf_counter(), time.process_time()
        result = classify_tracks(from_keypoints(validate_keypoints(clip.keypoints)), model)
        seconds_spent += time.perf_counter() - start
        cpu_spent += time.process_time() - cpu_start
        seconds_of_video += clip.keypoints["frame_count"] / clip.keypoints["fps"]
        score = score_clip(clip.labels, result)
        total.add(score)
        for name in CONDITIONS:
            groups[(name, str(clip.labels["conditions"][name]))].add(score)
    minutes = seconds_of_video / 60
    print(f"{args.clips} clips, seed {args.seed}, variety {args.variety}, {minutes:.1f} min of video")
    print(_header())
    for key in sorted(groups):
        print(_row(f"{key[0]}={key[1]}", groups[key]))
    print(_row("OVERALL", total))
    print(
        f"runtime per minute of video: {1000 * seconds_spent / minutes:.0f} ms wall, "
        f"{1000 * cpu_spent / minutes:.0f} ms CPU (wall time grows when other jobs share the CPU)"
    )
    if args.confusion:
        _print_confusion(total)


def _header() -> str:
    cols = (
        "condition",
        "stance_clips",
        "true",
        "TP",
        "FP",
        "FN",
        "prec",
        "recall",
        "F1",
        "type",
        "hand",
        "side",
        "stance",
    )
    return f"{cols[0]:<26}" + "".join(f"{c:>7}" for c in cols[1:])


def _row(name: str, s: Score) -> str:
    cells: list[Any] = [
        s.stance_clips if s.stance_clips else "-",
        s.true_positives + s.false_negatives,
        s.true_positives,
        s.false_positives,
        s.false_negatives,
    ]
    cells += [
        f"{v:.3f}" for v in (s.precision, s.recall, s.f1, s.type_accuracy, s.hand_accuracy, s.side_accuracy)
    ]
    cells.append(f"{s.stance_accuracy:.3f}" if s.stance_clips else "-")
    return f"{name:<26}" + "".join(f"{c!s:>7}" for c in cells)


def _print_confusion(total: Score) -> None:
    types = ("jab", "cross", "hook", "uppercut")
    print("confusion (rows: true, cols: detected)")
    print(f"{'':<10}" + "".join(f"{t:>9}" for t in types))
    for t in types:
        print(f"{t:<10}" + "".join(f"{total.confusion.get((t, d), 0):>9}" for d in types))


if __name__ == "__main__":
    main()
