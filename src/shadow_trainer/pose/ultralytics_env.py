"""Make Ultralytics safe to import offline.

Ultralytics downloads a font and checks for updates/packages on import or first use; with no
internet that hangs or fails. Pointing it at a config folder that already holds the font and
turning off auto-install and online checks keeps every call local.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")


def _find_any_ttf() -> Path | None:
    """A TrueType font that ships with an installed package (matplotlib) or the system."""
    try:
        import matplotlib

        bundled = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
        if bundled.is_file():
            return bundled
    except ImportError:
        pass
    for root in (Path("/usr/share/fonts"), Path("/usr/local/share/fonts")):
        if root.is_dir():
            for font in sorted(root.rglob("*.ttf")):
                return font
    return None


def _ensure_fonts(config_dir: Path) -> None:
    target_dir = config_dir / "Ultralytics"
    target_dir.mkdir(parents=True, exist_ok=True)
    missing = [name for name in _FONT_NAMES if not (target_dir / name).is_file()]
    if not missing:
        return
    source = _find_any_ttf()
    if source is None:
        return  # drawing text with Ultralytics would fail, but we do not use its plotting
    for name in missing:
        # Copy to a temporary name first so concurrent workers never see a half-written font.
        tmp = target_dir / f".{name}.{os.getpid()}.tmp"
        shutil.copyfile(source, tmp)
        os.replace(tmp, target_dir / name)


def configure_ultralytics_offline() -> None:
    """Set the offline environment before ``import ultralytics``; idempotent."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    os.environ.setdefault("YOLO_VERBOSE", "false")
    config_dir = Path(
        os.environ.setdefault(
            "YOLO_CONFIG_DIR", str(Path(tempfile.gettempdir()) / f"shadow-trainer-yolo-{os.getuid()}")
        )
    )
    _ensure_fonts(config_dir)
