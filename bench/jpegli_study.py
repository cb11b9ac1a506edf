"""jpegli against pixpress's mozjpeg paths: bytes at equal SSIMULACRA2, and encode time.

    RAYON_NUM_THREADS=1 python3 bench/jpegli_study.py    (pip install pyjpegli; make bench-peers installs it)

The eight study photos of the JPEG table study (core/benches/common/photos.rs), fitted into
2048x2048, are encoded at qualities 30-95 (step 5) by jpegli (pyjpegli, its defaults: 4:2:0,
adaptive quantization, its own tables) and by pixpress at its default effort, at effort 4
(progressive, trellis) and at effort 4 with Klein's tables (what a `target` search uses).
Every file is scored by pixpress.score (SSIMULACRA2, within 0.5% of the ssimulacra2 crate, see
core/tests/quality.rs). For each score level the bytes are interpolated (log-bytes linear in
score between the sweep points around it) and given relative to pixpress's default, as the
geometric mean over the photos; times are the median encode of the sweep, from RGB pixels in
memory, one thread (run it with RAYON_NUM_THREADS=1).
"""
import statistics
import time

import pixpress
import pyjpegli
from study import PHOTOS, bytes_at, change, photo

LEVELS = [70, 80, 85, 90]
QUALITIES = range(30, 100, 5)


def encoders(rgb, size):
    """Encoders from the same packed RGB pixels (pixpress's copied into its own Pixels once)."""
    width, height = size
    pixels = pixpress.Pixels.from_buffer(rgb, width, height, "RGB")
    ours = lambda **kw: (lambda q: bytes(pixels.encode(format="jpeg", quality=q, metadata="strip", **kw)))
    return {
        "pixpress default (effort 1)": ours(),
        "pixpress effort 4 (progressive, trellis)": ours(effort=4),
        "pixpress effort 4, Klein tables (target search)": ours(effort=4, tables="klein"),
        "jpegli (pyjpegli defaults)": lambda q: pyjpegli.encode(rgb, width, height, quality=q),
    }


def main():
    ratios = {}  # (encoder, level) -> [bytes / default's bytes]
    times = {}
    for name in PHOTOS:
        image, png = photo(name, 2048)
        curves = {}
        for label, encode in encoders(image.tobytes(), image.size).items():
            points = []
            for q in QUALITIES:
                t = time.perf_counter()
                data = encode(q)
                times.setdefault(label, []).append((time.perf_counter() - t) * 1000)
                points.append((len(data), pixpress.score(png, data)))
            points.sort(key=lambda p: p[1])
            curves[label] = points
        base = curves["pixpress default (effort 1)"]
        for label, points in curves.items():
            for level in LEVELS:
                ours, theirs = bytes_at(base, level), bytes_at(points, level)
                if ours and theirs:
                    ratios.setdefault((label, level), []).append(theirs / ours)
        print(f"{name}: done", flush=True)
    print("\n| encoder | " + " | ".join(f"bytes at SSIMULACRA2 {lv}" for lv in LEVELS) + " | median encode ms |")
    print("|---|" + "---:|" * (len(LEVELS) + 1))
    for label in times:
        cells = []
        for level in LEVELS:
            cells.append(change(ratios.get((label, level), [])))
        print(f"| {label} | " + " | ".join(cells) + f" | {statistics.median(times[label]):.0f} |")


if __name__ == "__main__":
    main()
