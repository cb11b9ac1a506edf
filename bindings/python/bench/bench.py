"""pixpress against Pillow (+ pillow-heif) in one run, 1 and 2 threads.

    RAYON_NUM_THREADS=1 python3 bindings/python/bench/bench.py [--runs N]

Median ms per operation (1 thread), ops/s with 1 and 2 threads (medians over
--pairs side-by-side pairs; 2/1 is the median of their ratios), output bytes,
and SSIMULACRA2 of each output against the same reference (the `ssimulacra2`
package from PyPI, a Python port; higher is better, 90 is visually lossless).
Needs: pip install pillow pillow-heif ssimulacra2.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image as PILImage

import pillow_heif
import pixpress

pillow_heif.register_heif_opener()
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", Path(__file__).resolve().parents[4] / "shared" / "corpus"))
PHOTO = (CORPUS / "jpeg/flickr_2569067123_aca715a2ee_o.jpg").read_bytes()
HEIC = (CORPUS / "heic/iphone_13_pro_max.HEIC").read_bytes()


def pil_jpeg(data: bytes, **save) -> bytes:
    im = PILImage.open(io.BytesIO(data))
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", **save)
    return buf.getvalue()


def pil_resize(data: bytes) -> bytes:
    im = PILImage.open(io.BytesIO(data))
    im.draft("RGB", (720, 588))
    im = im.resize((720, 588), PILImage.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def pil_save(data: bytes, fmt: str, **save) -> bytes:
    im = PILImage.open(io.BytesIO(data))
    buf = io.BytesIO()
    im.save(buf, fmt, **save)
    return buf.getvalue()


def pxp(data: bytes, **options) -> bytes:
    return bytes(pixpress.compress(data, **options))


# (row, reference for SSIMULACRA2 ("full" or "720x588" or "heic"), peer name, peer fn, pixpress variants)
ROWS = [
    ("JPEG recompress q80", "full",
     ("Pillow q80 optimize=True", lambda: pil_jpeg(PHOTO, quality=80, optimize=True)),
     [("pixpress effort 0 baseline", lambda: pxp(PHOTO, format="jpeg", quality=80, effort=0, progressive=False, never_larger=False)),
      ("pixpress effort 0 baseline, Klein tables, q77 (score near Pillow's)", lambda: pxp(PHOTO, format="jpeg", quality=77, effort=0, progressive=False, tables="klein", never_larger=False)),
      ("pixpress default (effort 4, progressive, trellis)", lambda: pxp(PHOTO, format="jpeg", quality=80, never_larger=False))]),
    ("resize 720x588 + JPEG q80", "720x588",
     ("Pillow draft + LANCZOS", lambda: pil_resize(PHOTO)),
     [("pixpress default", lambda: pxp(PHOTO, format="jpeg", quality=80, resize=(720, 588), fit="exact")),
      ("pixpress effort 0 baseline", lambda: pxp(PHOTO, format="jpeg", quality=80, resize=(720, 588), fit="exact", effort=0, progressive=False))]),
    ("WebP q80 method 4", "full",
     ("Pillow", lambda: pil_save(PHOTO, "WEBP", quality=80, method=4)),
     [("pixpress", lambda: pxp(PHOTO, format="webp", quality=80))]),
    ("AVIF q60 speed 6", "full",
     ("Pillow (libavif)", lambda: pil_save(PHOTO, "AVIF", quality=60, speed=6)),
     [("pixpress q60 (aom speed 6, 4:4:4)", lambda: pxp(PHOTO, format="avif", quality=60)),
      ("pixpress q66 (score near Pillow's)", lambda: pxp(PHOTO, format="avif", quality=66)),
      ("pixpress effort 0 (aom speed 9), q70 (score near Pillow's)", lambda: pxp(PHOTO, format="avif", quality=70, effort=0))]),
    ("AVIF speed 9", "full",
     ("Pillow (libavif) q60 speed 9", lambda: pil_save(PHOTO, "AVIF", quality=60, speed=9)),
     [("pixpress effort 0 (aom speed 9), q70", lambda: pxp(PHOTO, format="avif", quality=70, effort=0))]),
    ("HEIC 12 MP to JPEG q80", "heic",
     ("pillow-heif + Pillow", lambda: pil_jpeg(HEIC, quality=80, optimize=True)),
     [("pixpress effort 0 baseline", lambda: pxp(HEIC, format="jpeg", quality=80, effort=0, progressive=False)),
      ("pixpress default", lambda: pxp(HEIC, format="jpeg", quality=80))]),
]


def row_calls(row: str) -> dict:
    """The calls of the row named `row`, by implementation name, the peer's first."""
    for name, _, peer, variants in ROWS:
        if name == row:
            return dict([peer, *variants])
    raise KeyError(row)


def timed(fn, runs: int) -> tuple[float, bytes]:
    out = fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, out


def throughput(fn, threads: int, ops: int) -> float:
    with ThreadPoolExecutor(threads) as pool:
        t = time.perf_counter()
        list(pool.map(lambda _: fn(), range(ops)))
        return ops / (time.perf_counter() - t)


def score(reference: PILImage.Image, encoded: bytes, tmp: Path) -> float:
    from ssimulacra2 import compute_ssimulacra2

    ref, dist = tmp / "ref.png", tmp / "dist.png"
    reference.save(ref)
    im = PILImage.open(io.BytesIO(encoded)).convert("RGB")
    if im.size != reference.size:
        im = im.resize(reference.size, PILImage.Resampling.LANCZOS)
    im.save(dist)
    return compute_ssimulacra2(str(ref), str(dist))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-score", action="store_true")
    parser.add_argument("--avif-runs", type=int, default=1, help="runs for the AVIF rows (slow)")
    parser.add_argument("--pairs", type=int, default=1, help="1- and 2-thread throughput pairs per implementation")
    parser.add_argument("--only", default="", help="run only the rows whose name starts with this")
    args = parser.parse_args()
    full = PILImage.open(io.BytesIO(PHOTO)).convert("RGB")
    references = {
        "full": full,
        "720x588": full.resize((720, 588), PILImage.Resampling.LANCZOS),
        "heic": PILImage.open(io.BytesIO(HEIC)).convert("RGB"),
    }
    print(f"pixpress {pixpress.__version__}, Pillow {PILImage.__version__}, pillow-heif {pillow_heif.__version__}; "
          f"RAYON_NUM_THREADS={os.environ.get('RAYON_NUM_THREADS', 'unset')}")
    print("| operation | implementation | median ms | ops/s 1 thread | ops/s 2 threads | 2/1 | bytes | SSIMULACRA2 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for row, ref, peer, variants in ROWS:
            if not row.startswith(args.only):
                continue
            runs = args.avif_runs if row.startswith("AVIF") else args.runs
            for name, fn in [peer, *variants]:
                ms, out = timed(fn, runs)
                ops = max(2, runs) * 2
                # 1 and 2 threads measured in turn, --pairs times: the 2/1 column is
                # the median of the side-by-side ratios, steadier than one pair.
                pairs = [(throughput(fn, 1, ops), throughput(fn, 2, ops)) for _ in range(args.pairs)]
                one = statistics.median(p[0] for p in pairs)
                two = statistics.median(p[1] for p in pairs)
                ratio = statistics.median(p[1] / p[0] for p in pairs)
                s2 = "-" if args.no_score else f"{score(references[ref], out, Path(tmp)):.1f}"
                print(f"| {row} | {name} | {ms:.1f} | {one:.2f} | {two:.2f} | {ratio:.2f} | {len(out)} | {s2} |", flush=True)


if __name__ == "__main__":
    main()
