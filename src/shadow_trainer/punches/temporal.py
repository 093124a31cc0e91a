"""The temporal punch model: a small dilated 1D convolution network over per-frame arm features
that scores, for every frame and each arm, "this is the moment of full extension of a punch"
plus the punch class (straight / hook / uppercut). Run with numpy; weights in ``punch_temporal.npz``
(trained by ``bench/train_punch_temporal.py`` on simulated clips of training seeds only).

Punches are the local maxima of the apex score above ``threshold`` at least ``MIN_GAP_S`` apart on
the same arm (a double jab needs ~0.3 s), so combinations come out as separate punches.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import find_peaks

from shadow_trainer.punches.features import BodySeries
from shadow_trainer.punches.frame_features import CHANNELS, MODEL_FPS, X_CHANNELS, arm_sequences

FloatArray = NDArray[np.float64]
WEIGHTS_PATH = Path(__file__).with_name("punch_temporal.npz")
CLASSES: tuple[str, ...] = ("straight", "hook", "uppercut")
MIN_GAP_S = 0.16


@dataclass(frozen=True)
class Apex:
    hand: str
    t: float  # seconds, sub-frame
    score: float  # apex probability
    class_probs: FloatArray  # over CLASSES


class TemporalNet:
    """Numpy forward pass (``__call__``) and the same network as an ONNX Runtime session (``run``):
    single-threaded ONNX Runtime is ~10x cheaper than numpy's multi-threaded BLAS on a busy CPU."""

    def __init__(self, params: dict[str, FloatArray]) -> None:
        self.mean = params["mean"].astype(float)
        self.std = params["std"].astype(float)
        self.threshold = float(params["threshold"])
        self.layers: list[tuple[FloatArray, FloatArray, int]] = []
        i = 0
        while f"w{i}" in params:
            w = params[f"w{i}"].astype(float)  # (out, in, k)
            out_c, in_c, k = w.shape
            flat = w.transpose(2, 1, 0).reshape(k * in_c, out_c)
            self.layers.append((flat, params[f"b{i}"].astype(float), int(params["dilations"][i])))
            i += 1

    def __call__(self, x: FloatArray) -> FloatArray:
        """(B, T, C) or (T, C) features -> (…, T, 1 + len(CLASSES)) logits."""
        single = x.ndim == 2
        h = (x[None] if single else x) - self.mean
        h = h / self.std
        last = len(self.layers) - 1
        for i, (w, b, dil) in enumerate(self.layers):
            k = w.shape[0] // h.shape[2]
            y = _conv(h, w, k, dil) + b
            if i == last:
                h = y
            elif i == 0:
                h = np.maximum(y, 0.0)
            else:
                h = h + np.maximum(y, 0.0)
        return h[0] if single else h

    def run(self, x: FloatArray) -> FloatArray:
        """Like ``__call__`` on (B, T, C), through ONNX Runtime."""
        h = ((x - self.mean) / self.std).astype(np.float32).transpose(0, 2, 1)
        out = self._session().run(None, {"x": np.ascontiguousarray(h)})[0]
        return np.asarray(out, dtype=float).transpose(0, 2, 1)

    @lru_cache(maxsize=1)  # noqa: B019 - one model per process, cached with it
    def _session(self) -> Any:
        import onnxruntime as ort
        from onnx import TensorProto, helper, numpy_helper

        nodes, inits = [], []
        h = "x"
        last = len(self.layers) - 1
        for i, (w, b, dil) in enumerate(self.layers):
            out_c = w.shape[1]
            in_c = self.layers[i - 1][0].shape[1] if i else self.mean.size
            k = w.shape[0] // in_c
            weight = w.reshape(k, in_c, out_c).transpose(2, 1, 0).astype(np.float32)
            inits += [
                numpy_helper.from_array(weight, f"w{i}"),
                numpy_helper.from_array(b.astype(np.float32), f"b{i}"),
            ]
            pad = dil * (k - 1) // 2
            nodes.append(
                helper.make_node(
                    "Conv",
                    [h, f"w{i}", f"b{i}"],
                    [f"c{i}"],
                    dilations=[dil],
                    pads=[pad, pad],
                    kernel_shape=[k],
                )
            )
            if i == last:
                nodes.append(helper.make_node("Identity", [f"c{i}"], ["y"]))
            elif i == 0:
                nodes.append(helper.make_node("Relu", [f"c{i}"], [f"h{i}"]))
            else:
                nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
                nodes.append(helper.make_node("Add", [h, f"r{i}"], [f"h{i}"]))
            h = f"h{i}"
        graph = helper.make_graph(
            nodes,
            "punch_temporal",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", self.mean.size, "t"])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", self.layers[-1][0].shape[1], "t"])],
            inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def _conv(h: FloatArray, w: FloatArray, k: int, dil: int) -> FloatArray:
    """'Same' zero-padded dilated convolution of (B, T, C) sequences as one matrix product."""
    batch, n, channels = h.shape
    if k == 1:
        return np.asarray((h.reshape(-1, channels) @ w).reshape(batch, n, -1))
    pad = dil * (k - 1) // 2
    padded = np.pad(h, ((0, 0), (pad, pad), (0, 0)))
    cols = np.concatenate([padded[:, j * dil : j * dil + n] for j in range(k)], axis=2)
    return np.asarray((cols.reshape(batch * n, -1) @ w).reshape(batch, n, -1))


@lru_cache(maxsize=1)
def load_model(path: Path = WEIGHTS_PATH) -> TemporalNet:
    with np.load(path, allow_pickle=False) as data:
        params = {k: data[k] for k in data.files}
    if tuple(str(c) for c in params["channels"]) != CHANNELS:
        raise RuntimeError(f"{path} was trained for other features; retrain it")
    return TemporalNet(params)


def find_apexes(
    body: BodySeries, activity: dict[str, FloatArray] | None = None, *, threshold: float | None = None
) -> list[Apex]:
    """Punch apexes of both arms; ``activity`` (per arm, from ``activity_signal``) saves recomputing it."""
    model = load_model()
    level = model.threshold if threshold is None else threshold
    grid, seqs = arm_sequences(body, activity)
    hands = list(seqs)
    stacked = np.stack([seqs[h] for h in hands])
    # Averaged with the mirror image so that mirrored video gives exactly mirrored results.
    mirrored = stacked.copy()
    mirrored[:, :, list(X_CHANNELS)] *= -1.0
    both = model.run(np.concatenate([stacked, mirrored]))
    logits_all = 0.5 * (both[: len(hands)] + both[len(hands) :])
    out: list[Apex] = []
    distance = max(round(MIN_GAP_S * MODEL_FPS), 1)
    for hand, logits in zip(hands, logits_all, strict=True):
        score = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        peaks, _ = find_peaks(np.r_[0.0, score, 0.0], height=level, distance=distance)
        for p in peaks - 1:
            t = grid[p] + _subframe(score, int(p)) / MODEL_FPS
            lo, hi = max(p - 1, 0), min(p + 2, len(score))
            cls = logits[lo:hi, 1:].mean(axis=0)
            e = np.exp(cls - cls.max())
            out.append(Apex(hand, float(t), float(score[p]), e / e.sum()))
    out.sort(key=lambda a: a.t)
    return out


def _subframe(score: FloatArray, p: int) -> float:
    if p <= 0 or p >= len(score) - 1:
        return 0.0
    a, b, c = score[p - 1], score[p], score[p + 1]
    denom = a - 2 * b + c
    return float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5)) if denom < 0 else 0.0
