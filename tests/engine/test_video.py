"""Probing and decoding: metadata, rotation, odd sizes, and every kind of bad input."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from shadow_trainer.errors import InvalidVideoError, VideoLimitError
from shadow_trainer.media.video import (
    DecodeReport,
    VideoLimits,
    iter_frames,
    probe_video,
    rotate_yuv420,
    upright_yuv,
    yuv_planes,
)
from tests.support.clips import video_frames, write_clip
from tests.support.hostile_media import frozen_clock, growing_stream, pixel_bomb, raw_long_stream


def test_probe_reads_metadata_quickly(people_clip: Path) -> None:
    start = time.perf_counter()
    info = probe_video(people_clip)
    assert time.perf_counter() - start < 0.5
    assert (info.width, info.height, info.frames, info.rotation) == (768, 576, 30, 0)
    assert info.fps == pytest.approx(10.0)
    assert info.duration == pytest.approx(3.0, abs=0.15)
    assert info.codec == "h264"
    assert info.as_dict() == {
        "fps": 10.0,
        "frames": 30,
        "width": 768,
        "height": 576,
        "duration": info.duration,
    }


def test_probe_of_the_original_avi(vtest_path: Path) -> None:
    info = probe_video(vtest_path)
    assert (info.width, info.height, info.frames) == (768, 576, 795)


def test_rotation_metadata_gives_upright_size_and_frames(clips: Path, vtest_path: Path) -> None:
    clip = write_clip(clips / "rot.mp4", video_frames(vtest_path, 3), rotation=-90)  # phone held upright
    info = probe_video(clip)
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (576, 768)
    first = next(iter_frames(clip, info)).frame
    upright = upright_yuv(first, info.rotation)
    assert upright.shape == (768 * 3 // 2, 576)


def test_rotate_yuv420_moves_the_top_left_corner_clockwise() -> None:
    packed = np.zeros((6, 4), np.uint8)  # 4×4 luma + two 2×2 chroma planes
    y, u, _ = yuv_planes(packed)
    y[0, 0], u[0, 0] = 200, 50
    rotated = rotate_yuv420(packed, 90)
    ry, ru, _ = yuv_planes(rotated)
    assert ry[0, -1] == 200 and ru[0, -1] == 50  # top-left goes to top-right for a clockwise turn


def test_odd_resolution_decodes_to_even_planes(clips: Path, vtest_path: Path) -> None:
    clip = write_clip(clips / "odd.mp4", video_frames(vtest_path, 3), size=(641, 479))
    info = probe_video(clip)
    assert (info.width, info.height) == (641, 479)
    frames = list(iter_frames(clip, info))
    assert len(frames) == 3
    assert upright_yuv(frames[0].frame, 0).shape == (478 * 3 // 2, 640)


def test_zero_byte_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(InvalidVideoError, match="empty") as err:
        probe_video(empty)
    assert err.value.code == "invalid_video"


def test_text_renamed_to_mp4(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are my training notes, not a video\n" * 50)
    with pytest.raises(InvalidVideoError) as err:
        probe_video(fake)
    assert err.value.code == "invalid_video"


def test_audio_only_file(tmp_path: Path) -> None:
    path = tmp_path / "voice.m4a"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=44100)
        for i in range(20):
            samples = np.zeros((1, 1024), np.float32)
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, i * 1024
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with pytest.raises(InvalidVideoError, match="no video stream") as err:
        probe_video(path)
    assert err.value.code == "invalid_video"


def test_truncated_mp4(tmp_path: Path, people_clip: Path) -> None:
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes(people_clip.read_bytes()[: people_clip.stat().st_size // 3])
    with pytest.raises(InvalidVideoError) as err:
        probe_video(truncated)
    assert err.value.code == "invalid_video"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidVideoError, match="does not exist"):
        probe_video(tmp_path / "nope.mp4")


def test_frames_whose_clock_stands_still_are_timed_by_the_declared_rate(tmp_path: Path) -> None:
    clip = frozen_clock(tmp_path / "frozen.mp4", count=30, fps=15)
    with av.open(str(clip)) as container:
        assert {frame.pts for frame in container.decode(video=0)} == {0}  # the hostile case itself
    info = probe_video(clip)
    assert info.fps == 15 and info.duration == pytest.approx(2.0)
    times = [f.t for f in iter_frames(clip, info)]
    assert times == pytest.approx([i / 15 for i in range(30)], abs=1e-5)


def test_stream_broken_mid_way_keeps_what_decoded(tmp_path: Path, vtest_path: Path) -> None:
    # MPEG-TS has no index at the end, so cutting it mid-way leaves a playable beginning.
    clip = write_clip(tmp_path / "long.ts", video_frames(vtest_path, 20))
    data = clip.read_bytes()
    broken = tmp_path / "broken.ts"
    broken.write_bytes(data[: len(data) // 2] + b"\xff" * 4096)
    info = probe_video(broken)
    report = DecodeReport()
    frames = list(iter_frames(broken, info, report))
    assert 0 < len(frames) < 20
    assert report.frames == len(frames)


def test_a_pixel_bomb_is_refused_from_its_declared_size_in_bounded_memory(tmp_path: Path) -> None:
    bomb = pixel_bomb(tmp_path / "bomb.mp4")
    assert bomb.stat().st_size < 1_000_000
    # A process of its own, to measure its peak memory (VmHWM: ru_maxrss would count the forking
    # parent's too): decoding the frame would take ~800 MB.
    code = (
        "import re, sys; from pathlib import Path\n"
        "from shadow_trainer.media.video import VideoLimits, probe_video\n"
        "from shadow_trainer.errors import VideoLimitError\n"
        "try:\n"
        "    probe_video(Path(sys.argv[1]), VideoLimits(max_pixels=3840 * 2160))\n"
        "except VideoLimitError as exc:\n"
        "    peak = re.search(r'VmHWM:\\s+(\\d+)', Path('/proc/self/status').read_text())\n"
        "    print(exc.code, int(peak.group(1)) // 1024)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(bomb)], capture_output=True, text=True, timeout=120
    )
    code_seen, peak_mb = result.stdout.split()
    assert code_seen == "resolution_too_high", result.stderr
    assert int(peak_mb) < 300


def test_a_stream_without_a_duration_is_stopped_at_the_limit_while_decoding(tmp_path: Path) -> None:
    stream = raw_long_stream(tmp_path / "long", seconds=12)
    info = probe_video(stream, VideoLimits(max_duration_s=5))
    assert info.duration < 1  # what the file claims
    frames = 0
    with pytest.raises(VideoLimitError) as raised:
        for _ in iter_frames(stream, info, limits=VideoLimits(max_duration_s=5)):
            frames += 1
    assert raised.value.code == "video_too_long"
    assert frames == 5 * info.fps + 1  # stopped at the first frame past 5 s (by its timestamp)
    assert len(list(iter_frames(stream, info))) == 360  # without limits it all decodes


def test_frames_that_grow_mid_stream_are_refused_before_they_are_decoded(tmp_path: Path) -> None:
    stream = growing_stream(tmp_path / "grow")
    limits = VideoLimits(max_pixels=1920 * 1080)
    info = probe_video(stream, limits)
    assert (info.width, info.height) == (64, 48)
    with pytest.raises(VideoLimitError) as raised:
        list(iter_frames(stream, info, limits=limits))
    assert raised.value.code == "resolution_too_high"
    assert "7680×4320" in raised.value.message


def test_limits_leave_videos_within_them_alone(people_clip: Path) -> None:
    limits = VideoLimits(max_pixels=768 * 576, max_duration_s=3.1)
    info = probe_video(people_clip, limits)
    assert len(list(iter_frames(people_clip, info, limits=limits))) == 30
