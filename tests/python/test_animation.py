"""Animated GIF and WebP input, judged by Pillow: a WebP output keeps every
frame (pixels, durations, loop count), other outputs write the first frame
and say how many they dropped, in the report and in the CLI's summary."""
import io
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

import pixpress
import pixpress.Image as PxImage
from pixpress.errors import LimitExceededError, TruncatedImageError

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus"))
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "pixpress-target"))
BIN = Path(os.environ.get("PIXPRESS_BIN", TARGET / "release" / "pixpress"))
# Not dispose_bgnd.gif: what a frame disposed "to background" leaves is read
# three ways (Pillow and libvips fill it, each differently from frame 3 on;
# pixpress, through the image crate, leaves it transparent as browsers do),
# so no judge agrees with another. Its frame count is checked below.
ANIMATIONS = ["gif/animated-loop-3.gif", "gif/chi.gif", "gif/rotating-squares.gif",
              "webp/animated-loop-3.webp", "webp/rotating-squares.webp", "webp/iss634_animated_lossless.webp"]


def frames_of(im: Image.Image) -> list[tuple[np.ndarray, int]]:
    """Each frame as Pillow composites it (RGBA, color times alpha) with its duration."""
    out = []
    for frame in ImageSequence.Iterator(im):
        rgba = np.asarray(frame.convert("RGBA")).astype(int)
        rgba[..., :3] = rgba[..., :3] * rgba[..., 3:] // 255
        out.append((rgba, frame.info.get("duration", 0)))
    return out


def webp_loop(source: Image.Image) -> int:
    """How many times a WebP plays the source: a GIF's loop block counts the
    repeats after the first play (0: forever), and without one browsers play
    it once (gif2webp's reading); a WebP's loop count is the plays."""
    if source.format != "GIF":
        return source.info.get("loop", 0)
    loop = source.info.get("loop")
    return 1 if loop is None else 0 if loop == 0 else loop + 1


def timeline(frames: list[tuple[np.ndarray, int]]) -> list[tuple[int, np.ndarray]]:
    """Each frame with the time it starts showing, in milliseconds."""
    out, start = [], 0
    for pixels, duration in frames:
        out.append((start, pixels))
        start += duration
    return out + [(start, None)]


def showing(line: list[tuple[int, np.ndarray]], t: int) -> np.ndarray:
    """The frame on screen at `t`."""
    return [pixels for start, pixels in line[:-1] if start <= t][-1]


@pytest.mark.parametrize("path", ANIMATIONS)
def test_a_webp_output_shows_every_frame_as_pillow_reads_it(path):
    """Every source frame is on screen at the same time and for as long, with
    the same pixels (libwebp merges a frame identical to the one before into
    it, so the file may hold fewer frames than the source)."""
    data = (CORPUS / path).read_bytes()
    source = Image.open(io.BytesIO(data))
    assert source.n_frames > 1
    out = pixpress.compress(data, format="webp", lossless=True)
    assert out.frames == source.n_frames and out.frames_dropped == 0
    written = Image.open(io.BytesIO(bytes(out)))
    assert written.format == "WEBP" and written.is_animated
    assert written.info.get("loop", 0) == webp_loop(source), "played as often as browsers play the source"
    want, got = timeline(frames_of(source)), timeline(frames_of(written))
    assert got[-1][0] == want[-1][0], "the same total duration"
    for index, (start, pixels) in enumerate(want[:-1]):
        if want[index + 1][0] == start:
            continue  # shown for no time at all
        shown = showing(got, start)
        assert shown.shape == pixels.shape, index
        # Lossless: the same pixels wherever they show.
        assert np.abs(shown - pixels).max() <= 1, (index, start)


def test_disposed_frames_are_all_written():
    data = (CORPUS / "gif" / "dispose_bgnd.gif").read_bytes()
    source = Image.open(io.BytesIO(data))
    out = pixpress.compress(data, format="webp", lossless=True)
    assert out.frames == source.n_frames == Image.open(io.BytesIO(bytes(out))).n_frames
    # The first two frames, which dispose nothing yet, are Pillow's.
    for (want, _), (got, _) in list(zip(frames_of(source), frames_of(Image.open(io.BytesIO(bytes(out))))))[:2]:
        assert np.abs(got - want).max() <= 1


def test_frames_go_through_the_resize_and_the_operations():
    data = (CORPUS / "gif" / "animated-loop-3.gif").read_bytes()
    source = Image.open(io.BytesIO(data))
    out = pixpress.compress(data, format="webp", resize=(source.width // 2, None), flop=True, quality=90)
    written = Image.open(io.BytesIO(bytes(out)))
    assert (written.width, out.width) == (source.width // 2, source.width // 2)
    got = timeline(frames_of(written))
    line = timeline(frames_of(source))
    for index, (start, want) in enumerate(line[:-1]):
        if line[index + 1][0] == start:
            continue
        mirrored = Image.fromarray(want.astype(np.uint8)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        small = np.asarray(mirrored.resize(written.size, Image.Resampling.LANCZOS)).astype(int)
        assert np.abs(showing(got, start) - small).mean() < 6, start


def test_other_formats_write_the_first_frame_and_count_the_rest():
    data = (CORPUS / "gif" / "chi.gif").read_bytes()
    source = Image.open(io.BytesIO(data))
    out = pixpress.compress(data, format="png")
    assert out.frames == 1 and out.frames_dropped == source.n_frames - 1
    first = frames_of(source)[0][0]
    assert np.abs(frames_of(Image.open(io.BytesIO(bytes(out))))[0][0] - first).max() <= 1
    kept = pixpress.compress(data, format="webp", pages=2)
    assert Image.open(io.BytesIO(bytes(kept))).n_frames <= 2
    assert (kept.frames, kept.frames_dropped) == (2, source.n_frames - 2)
    still = pixpress.compress(data, format="webp", pages=1)
    assert (still.frames, still.frames_dropped) == (1, source.n_frames - 1)
    assert PxImage.open(io.BytesIO(data)).n_frames == source.n_frames


def test_animation_limits_are_typed_errors():
    data = (CORPUS / "gif" / "animated-loop-3.gif").read_bytes()
    source = Image.open(io.BytesIO(data))
    # A search keeps the first frame, and says so.
    searched = pixpress.compress(data, format="webp", target="ssim=0.95")
    assert (searched.frames, searched.frames_dropped) == (1, source.n_frames - 1)
    # Frames enlarged by a resize pass the limit together.
    with pytest.raises(LimitExceededError):
        pixpress.compress(data, format="webp", resize=(source.width * 4, None), enlarge=True,
                          max_pixels=source.width * source.height * source.n_frames * 2)
    # Every frame is decoded: the pixel limit counts them all.
    with pytest.raises(LimitExceededError):
        pixpress.compress(data, format="webp", max_pixels=source.width * source.height * 2)
    assert pixpress.compress(data, format="webp", pages=2, max_pixels=source.width * source.height * 2).frames == 2


def test_an_animation_of_too_many_frames_is_refused_before_decoding():
    """A hostile GIF of 10,001 one-pixel frames (alternating, so none merge)."""
    frames = [Image.new("P", (1, 1), i % 2) for i in range(10_001)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 255, 255, 255])
    hostile = io.BytesIO()
    frames[0].save(hostile, "GIF", save_all=True, append_images=frames[1:], duration=10, loop=0)
    with pytest.raises(LimitExceededError, match="frames"):
        pixpress.compress(hostile.getvalue(), format="webp")
    assert pixpress.compress(hostile.getvalue(), format="webp", pages=3).frames == 3


def test_concurrent_callers_get_the_same_animation():
    from concurrent.futures import ThreadPoolExecutor

    data = (CORPUS / "gif" / "chi.gif").read_bytes()
    with ThreadPoolExecutor(4) as pool:
        outputs = list(pool.map(lambda _: bytes(pixpress.compress(data, format="webp", resize=(100, None))), range(8)))
    assert len(set(outputs)) == 1


def test_a_truncated_animation_is_an_error_unless_asked_to_go_as_far_as_it_can():
    data = (CORPUS / "gif" / "chi.gif").read_bytes()
    cut = data[: len(data) * 2 // 3]
    with pytest.raises((TruncatedImageError, pixpress.errors.CorruptImageError)):
        pixpress.compress(cut, format="webp")
    out = pixpress.compress(cut, format="webp", accept_truncated=True)
    assert 1 < out.frames < Image.open(io.BytesIO(data)).n_frames
    assert out.frames_dropped > 0


def test_a_recompressed_animation_is_never_larger_than_its_input():
    data = (CORPUS / "webp" / "animated-loop-3.webp").read_bytes()
    out = pixpress.compress(data, quality=100, effort=0)
    assert len(bytes(out)) <= len(data)
    if out.unchanged:
        assert bytes(out) == data


def test_the_cli_says_when_frames_are_dropped(tmp_path):
    gif = CORPUS / "gif" / "chi.gif"
    frames = Image.open(gif).n_frames
    done = subprocess.run([BIN, "compress", gif, "-o", tmp_path / "png", "-f", "png"],
                          capture_output=True, text=True, check=True)
    assert f"{frames - 1} of {frames} frames not written" in done.stderr
    assert f"frames dropped {frames - 1}" in done.stdout
    report = json.loads(subprocess.run([BIN, "compress", gif, "-o", tmp_path / "webp", "-f", "webp", "--json"],
                                       capture_output=True, text=True, check=True).stdout)
    assert report["files"][0]["frames"] == frames and report["files"][0]["frames_dropped"] == 0
    assert Image.open(tmp_path / "webp" / "chi.webp").is_animated
