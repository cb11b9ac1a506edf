"""Are targets promises? Every output of `target=ssimulacra2=S` decoded by the format's reference
decoder (djpeg, dwebp, avifdec) and scored against the source pixels by separate SSIMULACRA2
implementations: the judge is the `ssimulacra2` crate (rust-av's port of libjxl's tool; pixpress's
own scorer is a different implementation of the same algorithm), and the `ssimulacra2` NumPy
package is shown beside it (its blur reflects at the left and right edges where libjxl's reads
zeros, so it scores 0.1-2.5 lower; see BENCHMARKS.md). Bytes against mozjpeg searched per image by
the same judge; the search's cost in full-encode equivalents.

    python3 bench/target_promise.py [--score 80] [--box 1024] [--photos 6] [--formats jpeg,webp,avif,auto]

Needs djpeg (libjpeg-turbo-progs), dwebp (webp), avifdec (libavif-bin), `pip install ssimulacra2`
and the judge (`cargo build --release -p pixpress --example ssimulacra2_crate`).
"mozjpeg searched" is pixpress's linked mozjpeg at mozjpeg's own defaults (its tables, progressive,
trellis, scan search: `tables=mozjpeg effort=8`) at the lowest quality the judge passes, found by
bisection over quality 1-100 (the judge's score is close to monotone in quality; the smallest
passing file among all tried settings is kept).
"""
import argparse
import io
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import ssimulacra2
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from study import PHOTOS, photo  # noqa: E402

import pixpress  # noqa: E402

DECODERS = {
    "jpeg": lambda src, dst: ["djpeg", "-outfile", dst, src],
    "webp": lambda src, dst: ["dwebp", "-quiet", src, "-o", dst],
    "avif": lambda src, dst: ["avifdec", "-j", "1", src, dst],
}
SUFFIX = {"jpeg": ".ppm", "webp": ".png", "avif": ".png"}


def sniff(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:12] in (b"ftypavif", b"ftypavis"):
        return "avif"
    raise ValueError("not jpeg, webp or avif")


TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(__file__), "..", "target"))
CRATE = os.path.join(TARGET, "release", "examples", "ssimulacra2_crate")


def judge(reference_png: str, data: bytes, work: str) -> float:
    """The reference decoder's pixels of `data`, scored by the `ssimulacra2` crate against the
    reference (written to `work`/decoded.png for a second opinion)."""
    fmt = sniff(data)
    src = os.path.join(work, "out." + fmt)
    dst = os.path.join(work, "decoded" + SUFFIX[fmt])
    with open(src, "wb") as f:
        f.write(data)
    subprocess.run(DECODERS[fmt](src, dst), check=True, capture_output=True)
    png = os.path.join(work, "decoded.png")
    if dst != png:
        Image.open(dst).convert("RGB").save(png)
    line = subprocess.run([CRATE, reference_png, png], check=True, capture_output=True, text=True).stdout
    return float(line.split()[1])


def numpy_judge(reference_png: str, work: str) -> float:
    """The NumPy port's score of the last output `judge` decoded."""
    return float(ssimulacra2.compute_ssimulacra2(reference_png, os.path.join(work, "decoded.png")))


def mozjpeg_searched(png: bytes, reference_png: str, score: float, work: str) -> int:
    """Bytes of the smallest mozjpeg-default JPEG the judge passes at `score`, by bisection."""
    tried: dict[int, tuple[int, float]] = {}

    def at(q: int) -> tuple[int, float]:
        if q not in tried:
            out = bytes(pixpress.compress(png, format="jpeg", quality=q, tables="mozjpeg", effort=8))
            tried[q] = (len(out), judge(reference_png, out, work))
        return tried[q]

    lo, hi = 1, 100
    while lo < hi:
        mid = (lo + hi) // 2
        if at(mid)[1] >= score:
            hi = mid
        else:
            lo = mid + 1
    passing = [b for b, s in tried.values() if s >= score]
    if at(hi)[1] >= score:
        passing.append(at(hi)[0])
    return min(passing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--score", type=float, default=80.0)
    parser.add_argument("--box", type=int, default=1024)
    parser.add_argument("--photos", type=int, default=6)
    parser.add_argument("--formats", default="jpeg,webp,avif,auto")
    args = parser.parse_args()
    formats = args.formats.split(",")
    target = f"ssimulacra2={args.score:g}"
    rows = {fmt: [] for fmt in formats}
    ratios = {fmt: [] for fmt in formats}
    print(f"target {target}, photos fitted into {args.box} px, judge: reference decoder + the ssimulacra2 crate; the NumPy port beside it")
    print("| photo | format | chosen | bytes | pixpress score | judge score | NumPy port | full-encode equivalents | s |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as work:
        for name in PHOTOS[: args.photos]:
            image, png = photo(name, args.box)
            reference_png = os.path.join(work, "reference.png")
            with open(reference_png, "wb") as f:
                f.write(png)
            moz = mozjpeg_searched(png, reference_png, args.score, work) if "jpeg" in formats or "auto" in formats else None
            for fmt in formats:
                start = time.perf_counter()
                out = pixpress.compress(png, format=fmt, target=target)
                seconds = time.perf_counter() - start
                data = bytes(out)
                report = out.search or {}
                verdict = judge(reference_png, data, work)
                second = numpy_judge(reference_png, work)
                trials, full = report.get("trials", 0), report.get("full_encodes", 0)
                # Mosaic trials cost the mosaic's share of a full encode; unsampled ones are full.
                equivalents = full + (trials - full) * mosaic_share(image) if report.get("sampled") else trials
                if fmt == "auto":
                    # Every candidate format's search, each counted in its own format's encodes.
                    equivalents = sum(c["search"]["trials"] for c in out.candidates if c.get("search"))
                rows[fmt].append((verdict, equivalents, second))
                if moz:
                    ratios[fmt].append(len(data) / moz)
                print(f"| {os.path.basename(name)} | {fmt} | {sniff(data)} | {len(data):,} | {report.get('score', float('nan')):.2f} "
                      f"| {verdict:.2f} | {second:.2f} | {equivalents:.1f} | {seconds:.2f} |", flush=True)
    print()
    print("| format | photos below the target by the judge | worst judge score | below by the NumPy port | bytes / mozjpeg searched (geomean) | full-encode equivalents (mean) |")
    print("|---|---:|---:|---:|---:|---:|")
    for fmt in formats:
        verdicts = [v for v, _, _ in rows[fmt]]
        seconds_ = [n for _, _, n in rows[fmt]]
        below = sum(v < args.score for v in verdicts)
        geo = math.exp(statistics.fmean(map(math.log, ratios[fmt]))) if ratios[fmt] else float("nan")
        print(f"| {fmt} | {below} of {len(verdicts)} | {min(verdicts):.2f} | {sum(n < args.score for n in seconds_)} | {geo:.3f}x | {statistics.fmean(e for _, e, _ in rows[fmt]):.1f} |")


def mosaic_share(image: Image.Image) -> float:
    """A mosaic trial's cost as a share of a full encode: the mosaic's pixels over the image's
    (32 tiles of 128x128, core/src/quality/search.rs)."""
    return min(1.0, 32 * 128 * 128 / (image.width * image.height))


if __name__ == "__main__":
    main()
