"""The metadata matrix, judged by exiftool.

Every corpus input that carries EXIF, XMP, IPTC or ICC is compressed by the
`pixpress` CLI into JPEG, PNG, WebP and AVIF under the `keep` and `web`
policies (resized into 640x640, which exercises the dimension rules). exiftool
then reads every input and output, and each cell checks what the metadata
issue promises:

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
import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus"))
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "pixpress-target"))
BIN = Path(os.environ.get("PIXPRESS_BIN", TARGET / "release" / "pixpress"))
IPTC2XMP = next(
    (p for p in (Path("/usr/share/libimage-exiftool-perl/iptc2xmp.args"),
                 Path("/usr/share/doc/libimage-exiftool-perl/arg_files/iptc2xmp.args")) if p.exists()),
    None,
)
FORMATS = ("jpeg", "png", "webp", "avif")
POLICIES = ("keep", "web")
BOX = 640
# Containers with a native IPTC-IIM slot; the others get IPTC as XMP.
IPTC_NATIVE = {"jpeg", "png"}


def manifest():
    lines = (CORPUS / "MANIFEST.tsv").read_text().splitlines()
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t"))) for line in lines[1:]]


def carries_metadata(row):
    flags = row["flags"].split(",")
    wanted = any(f in ("exif", "xmp", "iptc") or f.startswith("icc=") for f in flags)
    skipped = {"animated", "multi-image"}  # the matrix is about still images
    return not row["path"].startswith("bad/") and wanted and not skipped & set(flags)


ROWS = [r for r in manifest() if carries_metadata(r)] if (CORPUS / "MANIFEST.tsv").exists() else []
CELLS = [(r["path"], fmt, policy) for r in ROWS for fmt in FORMATS for policy in POLICIES]


def staged_name(path):
    return path.replace("/", "__")


def exiftool_json(paths, *args):
    """exiftool's tags of each file as `Group0:Group1:Tag` keys, from the main
    image only: sub-documents (an iPhone HEIC's gain map and depth map items,
    embedded previews) describe other images and are left out."""
    out = subprocess.run(["exiftool", "-j", "-a", "-G0:1:3", *args, *map(str, paths)],
                         capture_output=True, text=True, check=False)
    found = {}
    for d in json.loads(out.stdout or "[]"):
        tags = {}
        for key, value in d.items():
            parts = key.split(":")
            docs = [p for p in parts[:-1] if re.fullmatch(r"Main|Doc[0-9-]+", p)]
            if docs and docs[0] != "Main":
                continue
            tags[":".join([p for p in parts[:-1] if p not in docs] + parts[-1:])] = value
        found[os.path.abspath(d["SourceFile"])] = tags
    return found


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
            dest = work / f"{fmt}-{policy}"
            run = subprocess.run(
                [str(BIN), "compress", str(stage), "-o", str(dest), "-f", fmt, "-m", policy,
                 "-r", f"{BOX}x{BOX}", "--json"],
                capture_output=True, text=True, timeout=1800, check=False,
            )
            if not run.stdout:  # the whole run was refused (say, an unknown policy)
                for row in ROWS:
                    results[(staged_name(row["path"]), fmt, policy)] = {"error": run.stderr.strip()}
                continue
            for f in json.loads(run.stdout)["files"]:
                results[(Path(f["input"]).name, fmt, policy)] = f
    outputs = [Path(f["output"]) for f in results.values() if "output" in f]
    tags = exiftool_json([*stage.iterdir(), *outputs], "-n")
    icc = exiftool_json([*stage.iterdir(), *outputs], "-b", "-ICC_Profile")
    iptc_as_xmp = {}
    if IPTC2XMP:
        for name, t in tags.items():
            source = Path(name)
            if any(k.startswith("IPTC:") for k in t) and str(source.parent) == os.path.abspath(stage):
                xmp = work / f"{source.name}.xmp"
                run = subprocess.run(["exiftool", "-tagsfromfile", str(source), "-@", str(IPTC2XMP),
                                      "-o", str(xmp)], check=False, capture_output=True, text=True)
                if xmp.exists():
                    iptc_as_xmp[source.name] = exiftool_json([xmp], "-n").get(os.path.abspath(xmp), {})
                elif "No writable tags" in run.stderr:  # only the version and character set
                    iptc_as_xmp[source.name] = {}
    return {"results": results, "tags": tags, "icc": icc, "iptc_as_xmp": iptc_as_xmp, "stage": Path(os.path.abspath(stage))}


def groups(key):
    """(family 0, family 1, tag) of an exiftool `-G0:1` key; exiftool writes
    one group when both families have the same name (`IPTC:Keywords`)."""
    parts = key.split(":")
    if len(parts) == 1:  # SourceFile
        return "", "", key
    if len(parts) == 2:
        return parts[0], parts[0], parts[1]
    return parts[0], parts[1], ":".join(parts[2:])


def web_removes(key):
    """Whether the `web` policy must remove this exiftool key."""
    g0, g1, tag = groups(key)
    if g0 == "MakerNotes" or g1 in ("GPS", "IFD1"):
        return True
    if g0 == "XMP" and tag.startswith("GPS"):
        return True
    return "SerialNumber" in tag or "OwnerName" in tag


# Tags whose value the semantics change; checked by their own rules.
ORIENTATION_KEYS = {"EXIF:IFD0:Orientation", "XMP:XMP-tiff:Orientation"}
WIDTH_KEYS = {"EXIF:ExifIFD:ExifImageWidth", "XMP:XMP-exif:ExifImageWidth", "XMP:XMP-tiff:ImageWidth"}
HEIGHT_KEYS = {"EXIF:ExifIFD:ExifImageHeight", "XMP:XMP-exif:ExifImageHeight", "XMP:XMP-tiff:ImageHeight"}
# Header fields of IFD0 that describe the TIFF container itself, not the photo.
# (A TIFF input's IFD0 is both its EXIF and its image directory; exiftool names
# the strips of a JPEG-compressed TIFF PreviewImage.)
CONTAINER_KEYS = {f"EXIF:IFD0:{t}" for t in (
    "ImageWidth", "ImageHeight", "BitsPerSample", "Compression", "PhotometricInterpretation",
    "StripOffsets", "SamplesPerPixel", "RowsPerStrip", "StripByteCounts", "PlanarConfiguration",
    "ExtraSamples", "SampleFormat", "Predictor", "FillOrder", "SubfileType", "TileWidth",
    "TileLength", "TileOffsets", "TileByteCounts", "JPEGTables", "InkSet", "PageNumber",
    "PreviewImageStart", "PreviewImageLength", "PreviewImage", "YCbCrSubSampling",
    "YCbCrPositioning", "ReferenceBlackWhite", "HalftoneHints", "NumberofInks", "DotRange",
    "TransferFunction", "ColorMap")}


def position(key):
    """MakerNote tags that give a file offset (`PreviewImageStart`): the bytes
    they point at travel with the EXIF block, the offset moves with it."""
    g0, _, tag = groups(key)
    return g0 == "MakerNotes" and (tag.endswith("Start") or tag.endswith("Offset"))


def compared(key):
    g0, g1, _ = groups(key)
    if g0 not in ("EXIF", "MakerNotes", "XMP", "IPTC"):
        return False
    return g1 != "IFD1" and key not in ORIENTATION_KEYS | WIDTH_KEYS | HEIGHT_KEYS | CONTAINER_KEYS


def warnings(t):
    return {v for k, v in t.items() if k.endswith(":Warning")}


@pytest.mark.parametrize("path,fmt,policy", CELLS, ids=[f"{p}-{f}-{m}" for p, f, m in CELLS])
def test_cell(matrix, path, fmt, policy):
    name = staged_name(path)
    row = next(r for r in ROWS if r["path"] == path)
    result = matrix["results"][(name, fmt, policy)]
    assert "output" in result, result.get("error")
    src_path = str(matrix["stage"] / name)
    out_path = os.path.abspath(result["output"])
    src = matrix["tags"][src_path]
    out = matrix["tags"][out_path]
    width, height = result["width"], result["height"]
    problems = []

    new_warnings = warnings(out) - warnings(src)
    if new_warnings:
        problems.append(f"exiftool warns: {sorted(new_warnings)}")

    # Values carried unchanged (IPTC only where the container has a slot).
    for key, value in src.items():
        if not compared(key) or (policy == "web" and web_removes(key)):
            continue
        if key.startswith("IPTC:") and fmt not in IPTC_NATIVE:
            continue
        if position(key):
            if key not in out:
                problems.append(f"{key} is gone")
        elif out.get(key) != value:
            problems.append(f"{key}: {value!r} -> {out.get(key)!r}")

    # IPTC as XMP where the container has no IPTC slot.
    if fmt not in IPTC_NATIVE and any(k.startswith("IPTC:") for k in src):
        expected = matrix["iptc_as_xmp"].get(name)
        assert expected is not None, "exiftool's iptc2xmp.args is needed to judge IPTC in XMP"
        for key, value in expected.items():
            if key.startswith("XMP:") and key not in src and groups(key)[1] != "XMP-x":
                if out.get(key) != value:
                    problems.append(f"IPTC as {key}: {value!r} -> {out.get(key)!r}")

    # The semantics: orientation, dimensions, thumbnail.
    for key in ORIENTATION_KEYS:
        if key in out and out[key] != 1:
            problems.append(f"{key} is {out[key]} after the pixels were turned upright")
    for keys, size in ((WIDTH_KEYS, width), (HEIGHT_KEYS, height)):
        for key in keys & set(out):
            if out[key] != size:
                problems.append(f"{key} is {out[key]}, the output is {width}x{height}")
    if any(groups(k)[1] == "IFD1" for k in out):
        problems.append("the EXIF thumbnail (IFD1) was left in place")

    if policy == "web":
        leaked = sorted(k for k in out if groups(k)[0] in ("EXIF", "MakerNotes", "XMP") and web_removes(k))
        if leaked:
            problems.append(f"web policy leaked {leaked[:8]}")

    # ICC byte for byte (a CMYK input's pixels are converted, so its profile cannot stay).
    src_icc = matrix["icc"].get(src_path, {}).get("ICC_Profile:ICC_Profile")
    out_icc = matrix["icc"].get(out_path, {}).get("ICC_Profile:ICC_Profile")
    if src_icc and "cmyk" not in row["flags"]:
        if out_icc is None:
            problems.append("the ICC profile was dropped")
        elif base64.b64decode(out_icc.removeprefix("base64:")) != base64.b64decode(src_icc.removeprefix("base64:")):
            problems.append("the ICC profile changed")

    assert not problems, f"{path} -> {fmt} ({policy}):\n  " + "\n  ".join(problems[:25])
