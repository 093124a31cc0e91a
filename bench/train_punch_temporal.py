"""Train the temporal punch model (dilated 1D CNN over per-frame arm features) on simulated clips.

    nice -n 10 uv run python bench/train_punch_temporal.py [--seeds 1 2 --clips 400 --val-seed 7]

Training seeds 1, 2 (clips), threshold tuned on validation seed 7; the bench seed 90210 and the
test seed 4242 are never used here. Writes src/shadow_trainer/punches/punch_temporal.npz.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from shadow_trainer.punches.features import body_series
from shadow_trainer.punches.frame_features import CHANNELS, MODEL_FPS, X_CHANNELS, arm_sequences
from shadow_trainer.punches.temporal import CLASSES, WEIGHTS_PATH
from shadow_trainer.punches.tracks import assign_tracks, choose_main_track, track_points
from shadow_trainer.simulation import clip_seed, simulate_clip

CLASS_OF = {"jab": 0, "cross": 0, "hook": 1, "uppercut": 2}
SIGMA_S = 0.04
CLASS_WINDOW_S = 0.08
CACHE = Path("/tmp/punch_temporal_cache")


def clip_arrays(seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per arm: features (n, C), apex target (n,), class target (n,) with -1 = no class."""
    clip = simulate_clip(seed)
    doc = clip.keypoints
    tracked = assign_tracks(doc)
    track = choose_main_track(doc, tracked)
    body = None if track is None else body_series(track_points(doc, tracked, track), doc["fps"])
    if body is None:
        return []
    grid, seqs = arm_sequences(body)
    out = []
    for hand, seq in seqs.items():
        heat = np.zeros(grid.size)
        cls = np.full(grid.size, -1)
        for p in clip.labels["punches"]:
            if p["hand"] != hand:
                continue
            dt = grid - p["t"]
            heat = np.maximum(heat, np.exp(-0.5 * (dt / SIGMA_S) ** 2))
            cls[np.abs(dt) <= CLASS_WINDOW_S] = CLASS_OF[p["type"]]
        out.append((seq.astype(np.float32), heat.astype(np.float32), cls))
    return out


def dataset(seed: int, clips: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"seed{seed}_{clips}_{len(CHANNELS)}.npz"
    if path.exists():
        data = np.load(path)
        n = int(data["n"])
        return [(data[f"x{i}"], data[f"h{i}"], data[f"c{i}"]) for i in range(n)]
    items: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for i in range(clips):
        items += clip_arrays(clip_seed(seed, i))
    arrays: dict[str, Any] = {"n": len(items)}
    for i, (x, h, c) in enumerate(items):
        arrays[f"x{i}"], arrays[f"h{i}"], arrays[f"c{i}"] = x, h, c
    np.savez(path, **arrays)
    return items


class Net(torch.nn.Module):
    def __init__(self, channels: int, hidden: int, dilations: tuple[int, ...], kernel: int) -> None:
        super().__init__()
        self.inp = torch.nn.Conv1d(channels, hidden, 1)
        self.blocks = torch.nn.ModuleList(
            torch.nn.Conv1d(hidden, hidden, kernel, dilation=d, padding=d * (kernel - 1) // 2)
            for d in dilations
        )
        self.head = torch.nn.Conv1d(hidden, 1 + len(CLASSES), 1)
        self.dilations = (1, *dilations, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.inp(x))
        for block in self.blocks:
            h = h + torch.relu(block(h))
        return self.head(h)

    def export(self, mean: np.ndarray, std: np.ndarray, threshold: float) -> dict[str, np.ndarray]:
        convs = [self.inp, *self.blocks, self.head]
        out: dict[str, np.ndarray] = {
            "channels": np.array(CHANNELS),
            "mean": mean.astype(np.float32),
            "std": std.astype(np.float32),
            "threshold": np.array(threshold),
            "dilations": np.array(self.dilations),
        }
        for i, conv in enumerate(convs):
            out[f"w{i}"] = conv.weight.detach().numpy().astype(np.float32)
            assert conv.bias is not None
            out[f"b{i}"] = conv.bias.detach().numpy().astype(np.float32)
        return out


def batches(
    items: list[tuple[np.ndarray, np.ndarray, np.ndarray]], length: int, size: int, rng: np.random.Generator
) -> Any:
    order = rng.permutation(len(items))
    for s in range(0, len(order), size):
        xs, hs, cs, ms = [], [], [], []
        for k in order[s : s + size]:
            x, h, c = items[k]
            n = len(h)
            if n > length:
                o = int(rng.integers(0, n - length + 1))
                x, h, c, m = x[o : o + length], h[o : o + length], c[o : o + length], np.ones(length)
            else:
                pad = length - n
                x = np.pad(x, ((0, pad), (0, 0)), mode="edge")
                h, c = np.pad(h, (0, pad)), np.pad(c, (0, pad), constant_values=-1)
                m = np.r_[np.ones(n), np.zeros(pad)]
            if rng.random() < 0.5:
                x = x.copy()
                x[:, list(X_CHANNELS)] *= -1
            xs.append(x)
            hs.append(h)
            cs.append(c)
            ms.append(m)
        yield (
            torch.tensor(np.stack(xs)).transpose(1, 2),
            torch.tensor(np.stack(hs)),
            torch.tensor(np.stack(cs), dtype=torch.long),
            torch.tensor(np.stack(ms), dtype=torch.float32),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clips", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--threshold", type=float, default=0.4)
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    t0 = time.time()
    items = [it for s in args.seeds for it in dataset(s, args.clips)]
    print(f"{len(items)} arm sequences in {time.time() - t0:.0f} s", flush=True)
    allx = np.concatenate([x for x, _, _ in items])
    mean, std = allx.mean(0), allx.std(0) + 1e-3
    mean[list(X_CHANNELS)] = 0.0  # keep the mirror augmentation exact
    normed = [(((x - mean) / std).astype(np.float32), h, c) for x, h, c in items]
    net = Net(len(CHANNELS), args.hidden, (1, 2, 4, 8, 16, 1), 3)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=3e-3, total_steps=args.epochs * (len(normed) // 32 + 1)
    )
    length = round(8 * MODEL_FPS)
    for epoch in range(args.epochs):
        total = 0.0
        for x, h, c, m in batches(normed, length, 32, rng):
            out = net(x)
            heat = torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], h, reduction="none")
            heat_loss = (heat * m * (1 + 4 * h)).sum() / m.sum()
            cls_loss = torch.nn.functional.cross_entropy(out[:, 1:], c, ignore_index=-1)
            loss = heat_loss + 0.3 * cls_loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        print(f"epoch {epoch} loss {total:.3f} ({time.time() - t0:.0f} s)", flush=True)
    params: dict[str, Any] = net.export(mean, std, args.threshold)
    with WEIGHTS_PATH.open("wb") as f:
        np.savez_compressed(f, **params)
    print(f"wrote {WEIGHTS_PATH}")


if __name__ == "__main__":
    main()
