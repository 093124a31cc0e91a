"""Shadow Trainer analysis engine: video decode, pose, punch classification, rendering, reports.

Packages by stage: `media` (decode, geometry, encode), `pose` (models, runtimes, export, keypoint
names), `tracking` (the tracker and its typed series), `punches` (detection, fighters, analytics),
`render` (drawing), `documents` (the output documents and the pose log), `pipeline` (the two
passes, prefetch, progress). The public entry points are here, imported on first use, so that
importing one stage does not import all the others (the API server needs a few constants and the
video probe, not the pipeline).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names' types, for type checkers (`x as x`: re-exported)
    from shadow_trainer.documents.outputs import OUTPUT_NAMES as OUTPUT_NAMES
    from shadow_trainer.errors import AnalysisCancelled as AnalysisCancelled
    from shadow_trainer.errors import AnalysisError as AnalysisError
    from shadow_trainer.errors import InvalidVideoError as InvalidVideoError
    from shadow_trainer.media.video import VideoInfo as VideoInfo
    from shadow_trainer.media.video import probe_video as probe_video
    from shadow_trainer.pipeline.analysis import AnalysisResult as AnalysisResult
    from shadow_trainer.pipeline.analysis import analyze_video as analyze_video
    from shadow_trainer.punches import classify_keypoints as classify_keypoints
    from shadow_trainer.punches import load_keypoints as load_keypoints

_PUBLIC = {
    "analyze_video": "shadow_trainer.pipeline.analysis",
    "AnalysisResult": "shadow_trainer.pipeline.analysis",
    "classify_keypoints": "shadow_trainer.punches",
    "load_keypoints": "shadow_trainer.punches",
    "probe_video": "shadow_trainer.media.video",
    "VideoInfo": "shadow_trainer.media.video",
    "OUTPUT_NAMES": "shadow_trainer.documents.outputs",
    "AnalysisError": "shadow_trainer.errors",
    "AnalysisCancelled": "shadow_trainer.errors",
    "InvalidVideoError": "shadow_trainer.errors",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'shadow_trainer' has no attribute {name!r}")
    return getattr(import_module(_PUBLIC[name]), name)
