"""The metadata matrix, judged by exiftool.

Every corpus input that carries EXIF, XMP, IPTC or ICC is compressed by the
`pixpress` CLI into JPEG, PNG, WebP and AVIF under the `keep` and `web`
policies (resized into 640x640, which exercises the dimension rules). exiftool
then reads every input and output, and each cell checks what the metadata
issue promises (see `metadata_judge.judge`):

- `keep`: every EXIF and MakerNote value, every XMP property and the ICC
  profile (byte for byte) arrive unchanged, apart from what the semantics
  change: orientation becomes 1 (the pixels were turned), the EXIF and XMP
  pixel dimensions describe the output, the EXIF thumbnail is dropped. IPTC
  arrives natively where the container has a slot (JPEG APP13, PNG raw
  profile) and as XMP elsewhere, with the values exiftool's own
  `iptc2xmp.args` mapping gives. exiftool warns about nothing new.
- `web`: no GPS (EXIF or XMP), serial number, owner name, MakerNote or
  thumbnail survives; everything else is as in `keep`.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from metadata_judge import exiftool_json, iptc_as_xmp, judge, metadata_rows, staged_name

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus"))
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "pixpress-target"))
BIN = Path(os.environ.get("PIXPRESS_BIN", TARGET / "release" / "pixpress"))
FORMATS = ("jpeg", "png", "webp", "avif")
POLICIES = ("keep", "web")
BOX = 640


ROWS = metadata_rows(CORPUS)
CELLS = [(r["path"], fmt, policy) for r in ROWS for fmt in FORMATS for policy in POLICIES]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    if not shutil.which("exiftool"):
        pytest.skip("exiftool is not installed (scripts/setup.sh installs it)")
    if not ROWS:
        pytest.skip(f"no corpus at {CORPUS}")
    work = tmp_path_factory.mktemp("metadata-matrix")
    stage = work / "in"
    stage.mkdir()
    for row in ROWS:
        (stage / staged_name(row["path"])).symlink_to(CORPUS / row["path"])
    results = {}
    for fmt in FORMATS:
        for policy in POLICIES:
            run = subprocess.run(
                [str(BIN), "compress", str(stage), "-o", str(work / f"{fmt}-{policy}"), "-f", fmt,
                 "-m", policy, "-r", f"{BOX}x{BOX}", "--json"],
                capture_output=True, text=True, timeout=1800, check=False,
            )
            if not run.stdout:  # the whole run was refused (say, an unknown policy)
                for row in ROWS:
                    results[(staged_name(row["path"]), fmt, policy)] = {"error": run.stderr.strip()}
                continue
            for f in json.loads(run.stdout)["files"]:
                results[(Path(f["input"]).name, fmt, policy)] = f
    files = [*stage.iterdir(), *(Path(f["output"]) for f in results.values() if "output" in f)]
    tags = exiftool_json(files, "-n")
    iptc = {p.name: iptc_as_xmp(p, work) for p in stage.iterdir()
            if any(k.startswith("IPTC:") for k in tags[os.path.abspath(p)])}
    return {"results": results, "tags": tags, "icc": exiftool_json(files, "-b", "-ICC_Profile"),
            "iptc_as_xmp": iptc, "stage": Path(os.path.abspath(stage))}


@pytest.mark.parametrize("path,fmt,policy", CELLS, ids=[f"{p}-{f}-{m}" for p, f, m in CELLS])
def test_cell(matrix, path, fmt, policy):
    name = staged_name(path)
    row = next(r for r in ROWS if r["path"] == path)
    result = matrix["results"][(name, fmt, policy)]
    assert "output" in result, result.get("error")
    src_path = str(matrix["stage"] / name)
    out_path = os.path.abspath(result["output"])
    problems = judge(
        matrix["tags"][src_path], matrix["tags"][out_path], fmt, policy, result["width"], result["height"],
        matrix["iptc_as_xmp"].get(name), matrix["icc"].get(src_path, {}), matrix["icc"].get(out_path, {}),
        cmyk="cmyk" in row["flags"],
    )
    assert not problems, f"{path} -> {fmt} ({policy}):\n  " + "\n  ".join(m for _, m in problems[:25])
