"""The coefficient watermark over the corpus: what it costs and what it
survives (BENCHMARKS.md, "Watermark in the DC coefficients").

    python3 bench/watermark_study.py        # make bench-watermark

Every corpus image of at least 0.3 MP is compressed to JPEG q80 with and
without `watermark=on` (a key; the default payload, and again with 16 bytes
of user data). Visibility: both files decoded by Pillow (libjpeg-turbo),
each scored against Pillow's decode of the source by pixpress's SSIMULACRA2
(on PNGs Pillow wrote); the drop is the mark's cost. Survival: each
transform is done by a tool other than pixpress (exiftool, jpegtran,
Pillow), then pixpress reads the mark back; a read counts only when the
whole payload matches. Photos and the images that are not photos (line art,
fax, flat graphics: NOT_PHOTOS) are counted apart; an image pixpress
refuses to mark (too few textured blocks) is listed, not counted.
"""
import csv
import io
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

import pixpress

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus"))
KEY = "bench key"
PAYLOADS = {"default payload": None, "16 bytes of data": "pixpress-bench-1"}
MIN_PIXELS = 300_000
NOT_PHOTOS = {
    "png/50020484-00001_gray.png": "line drawing",
    "webp/webp-lossless.webp": "strokes on black",
    "tiff/G31D_fax.TIF": "bilevel fax",
    "tiff/G31D_MULTI.TIF": "bilevel fax",
    "tiff/fogra-0-100-100-0_cmyk.tif": "one flat colour",
    "png/gradients-rgb8.png": "gradients",
    "png/Flag_of_the_Netherlands-16bit.png": "flag",
    "png/blackbug.png": "graphic on transparency",
}


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def pillow_jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def transforms(data: bytes, workdir: Path):
    """(name, transformed bytes) for each transform of the table."""
    path = workdir / "marked.jpg"
    path.write_bytes(data)
    subprocess.run(["exiftool", "-q", "-all=", "-overwrite_original", str(path)], check=True)
    yield "metadata strip (exiftool -all=)", path.read_bytes()
    path.write_bytes(data)
    yield "lossless optimization (jpegtran -optimize -progressive)", subprocess.run(
        ["jpegtran", "-optimize", "-progressive", "-copy", "none", str(path)], check=True, capture_output=True
    ).stdout
    image = decoded(data)
    for quality in (95, 90, 85, 75):
        yield f"Pillow re-encode q{quality}", pillow_jpeg(image, quality)
    yield "resize 50% (Pillow Lanczos, q95)", pillow_jpeg(
        image.resize((image.width // 2, image.height // 2), Image.LANCZOS), 95
    )
    w, h = image.size
    yield "crop 10% (5% each side, q95)", pillow_jpeg(image.crop((w // 20, h // 20, w - w // 20, h - h // 20)), 95)


def images():
    with open(CORPUS / "MANIFEST.tsv") as manifest:
        for row in csv.DictReader(manifest, delimiter="\t"):
            if row["path"].startswith("bad/") or int(row["width"]) * int(row["height"]) < MIN_PIXELS:
                continue
            yield row["path"]


def study(payload, workdir):
    """Per image: (name, SSIMULACRA2 drop, {transform: read back whole}); and the refused."""
    extra = {"watermark_data": payload} if payload else {}
    rows, refused = [], []
    for name in images():
        source = (CORPUS / name).read_bytes()
        try:
            plain = bytes(pixpress.compress(source, format="jpeg", quality=80))
            marked = bytes(
                pixpress.compress(source, format="jpeg", quality=80, watermark="on", watermark_key=KEY, **extra)
            )
        except pixpress.PixpressError as error:
            refused.append(f"{name} ({error})")
            continue
        reference = png(decoded(bytes(pixpress.compress(source, format="png"))))
        drop = pixpress.score(reference, png(decoded(plain))) - pixpress.score(reference, png(decoded(marked)))
        read = {}
        for transform, data in transforms(marked, workdir):
            mark = pixpress.read_watermark(data, KEY)
            read[transform] = mark.state == "found" and mark.data == (payload or "").encode()
        rows.append((name, drop, read))
        print(f"{name}: drop {drop:.3f}, {''.join('F' if ok else '.' for ok in read.values())}", file=sys.stderr)
    return rows, refused


def main():
    with tempfile.TemporaryDirectory() as tmp:
        results = {label: study(payload, Path(tmp)) for label, payload in PAYLOADS.items()}
    print(f"Corpus images of at least {MIN_PIXELS / 1e6} MP, JPEG q80; not photos: {', '.join(NOT_PHOTOS)}.")
    print()
    print("| payload | images | SSIMULACRA2 drop, photos: median | max | non-photos: max | refused |")
    print("|---|---:|---:|---:|---:|---|")
    for label, (rows, refused) in results.items():
        photo = [drop for name, drop, _ in rows if name not in NOT_PHOTOS]
        other = [drop for name, drop, _ in rows if name in NOT_PHOTOS]
        print(
            f"| {label} | {len(rows)} | {statistics.median(photo):.3f} | {max(photo):.3f} | "
            f"{max(other, default=0):.3f} | {'; '.join(refused) or 'none'} |"
        )
    print()
    print("| transform (not by pixpress) | " + " | ".join(f"{label}: photos | non-photos" for label in PAYLOADS) + " |")
    print("|---|" + "---:|---:|" * len(PAYLOADS))
    transforms_seen = list(next(iter(results.values()))[0][0][2])
    for transform in transforms_seen:
        cells = []
        for rows, _ in results.values():
            for photos in (True, False):
                kept = [read[transform] for name, _, read in rows if (name not in NOT_PHOTOS) == photos]
                cells.append(f"{sum(kept)}/{len(kept)}")
        print(f"| {transform} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
