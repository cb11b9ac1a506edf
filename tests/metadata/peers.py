#!/usr/bin/env python3
"""What pixpress, sharp and Pillow keep of the metadata, judged by exiftool.

The inputs and the judge are the metadata matrix test's (every corpus still
image with EXIF, XMP, IPTC or ICC; `tests/python/metadata_judge.py`), under
the `keep` expectation. Each tool is used as a careful user would, asking it
to keep everything:

- pixpress: `pixpress compress -f FMT -r 640x640` (metadata=keep, the default);
- sharp 0.34: `sharp(f).rotate().resize(640, 640, {fit: 'inside',
  withoutEnlargement: true}).keepMetadata().toFormat(FMT)`;
- Pillow: `ImageOps.exif_transpose`, `thumbnail((640, 640))`, then `save`
  with `exif=`, `icc_profile=` and `xmp=` taken from the input
  (pillow-heif opens HEIC).

Prints a Markdown table: for each tool and output format, the cells (input
files) with nothing lost, then per block the cells where that block is right.

    python3 tests/metadata/peers.py            # `make metadata-peers`
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))
from metadata_judge import CATEGORIES, exiftool_json, iptc_as_xmp, judge, metadata_rows, staged_name  # noqa: E402

CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus"))
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "pixpress-target"))
BIN = Path(os.environ.get("PIXPRESS_BIN", TARGET / "release" / "pixpress"))
SHARP_DIR = ROOT / "bindings" / "node" / "bench"
FORMATS = ("jpeg", "png", "webp", "avif")
EXT = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif"}
BOX = 640

SHARP = r"""
const sharp = require('sharp');
const [fmt, out, ...inputs] = process.argv.slice(1);  // node -e CODE ARGS...
(async () => {
  const results = {};
  for (const input of inputs) {
    const name = require('path').basename(input);
    const dest = `${out}/${name}.${fmt === 'jpeg' ? 'jpg' : fmt}`;
    try {
      const info = await sharp(input).rotate()
        .resize(640, 640, { fit: 'inside', withoutEnlargement: true })
        .keepMetadata().toFormat(fmt).toFile(dest);
      results[name] = { output: dest, width: info.width, height: info.height };
    } catch (e) {
      results[name] = { error: String(e.message || e) };
    }
  }
  console.log(JSON.stringify(results));
})();
"""


def run_pixpress(stage, out, fmt):
    run = subprocess.run([str(BIN), "compress", str(stage), "-o", str(out), "-f", fmt, "-r", f"{BOX}x{BOX}", "--json"],
                         capture_output=True, text=True, check=False)
    return {Path(f["input"]).name: f for f in json.loads(run.stdout)["files"]}


def run_sharp(stage, out, fmt):
    out.mkdir(parents=True)
    run = subprocess.run(["node", "-e", SHARP, fmt, str(out), *map(str, sorted(stage.iterdir()))],
                         capture_output=True, text=True, check=False, cwd=SHARP_DIR)
    return json.loads(run.stdout)


def run_pillow(stage, out, fmt):
    from PIL import Image, ImageOps
    import pillow_heif

    pillow_heif.register_heif_opener()
    out.mkdir(parents=True)
    results = {}
    for src in sorted(stage.iterdir()):
        dest = out / f"{src.name}.{EXT[fmt]}"
        try:
            with Image.open(src) as im:
                exif, icc, xmp = im.info.get("exif"), im.info.get("icc_profile"), im.info.get("xmp")
                im = ImageOps.exif_transpose(im)
                exif = im.getexif().tobytes() if exif else None
                im.thumbnail((BOX, BOX))
                if fmt == "jpeg" and im.mode not in ("RGB", "L", "CMYK"):
                    im = im.convert("RGB")
                if fmt in ("webp", "avif") and im.mode not in ("RGB", "RGBA"):
                    im = im.convert("RGBA" if "A" in im.mode else "RGB")
                kwargs = {k: v for k, v in (("exif", exif), ("icc_profile", icc), ("xmp", xmp)) if v}
                im.save(dest, format=fmt.upper(), **kwargs)
                results[src.name] = {"output": str(dest), "width": im.width, "height": im.height}
        except Exception as e:  # noqa: BLE001 - a tool's failure is a result here
            results[src.name] = {"error": f"{type(e).__name__}: {e}"}
    return results


def main():
    rows = metadata_rows(CORPUS)
    tools = {"pixpress": run_pixpress, "sharp": run_sharp, "Pillow": run_pillow}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        stage = work / "in"
        stage.mkdir()
        for row in rows:
            (stage / staged_name(row["path"])).symlink_to(CORPUS / row["path"])
        results = {(tool, fmt): run(stage, work / tool / fmt, fmt) for tool, run in tools.items() for fmt in FORMATS}
        outputs = [Path(r["output"]) for res in results.values() for r in res.values() if "output" in r]
        files = [*stage.iterdir(), *outputs]
        tags = exiftool_json(files, "-n")
        icc = exiftool_json(files, "-b", "-ICC_Profile")
        iptc = {p.name: iptc_as_xmp(p, work) for p in stage.iterdir()
                if any(k.startswith("IPTC:") for k in tags[os.path.abspath(p)])}
        print(f"{len(rows)} inputs from {CORPUS.name}/ (every still image with EXIF, XMP, IPTC or ICC); "
              "a cell counts when exiftool finds nothing lost or wrong.\n")
        print("| tool | output | all kept | written | " + " | ".join(c for c in CATEGORIES) + " |")
        print("|---|---|---|---|" + "---|" * len(CATEGORIES))
        for (tool, fmt), res in results.items():
            whole, written, per = 0, 0, {c: 0 for c in CATEGORIES}
            for row in rows:
                name = staged_name(row["path"])
                r = res.get(name, {"error": "missing"})
                if "output" not in r:
                    continue
                written += 1
                src = os.path.abspath(stage / name)
                out = os.path.abspath(r["output"])
                problems = judge(tags[src], tags.get(out, {}), fmt, "keep", r["width"], r["height"],
                                 iptc.get(name), icc.get(src, {}), icc.get(out, {}), cmyk="cmyk" in row["flags"])
                whole += not problems
                for c in CATEGORIES:
                    per[c] += not any(cat == c for cat, _ in problems)
            cells = " | ".join(str(per[c]) for c in CATEGORIES)
            print(f"| {tool} | {fmt} | **{whole}**/{len(rows)} | {written} | {cells} |")


if __name__ == "__main__":
    main()
