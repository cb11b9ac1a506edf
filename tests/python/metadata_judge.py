"""What a converted image's metadata must be, judged from exiftool's output.

Shared by the metadata matrix test (tests/python/test_metadata_matrix.py) and
the peer comparison (tests/metadata/peers.py). Tags come from `exiftool -j -a
-G0:1:3`, main image only (see `exiftool_json`).
"""
import base64
import json
import os
import re
import subprocess
from pathlib import Path

IPTC2XMP = next(
    (p for p in (Path("/usr/share/libimage-exiftool-perl/iptc2xmp.args"),
                 Path("/usr/share/doc/libimage-exiftool-perl/arg_files/iptc2xmp.args")) if p.exists()),
    None,
)
# Containers with a native IPTC-IIM slot; the others get IPTC as XMP.
IPTC_NATIVE = {"jpeg", "png"}
# What each problem is about, for tables.
CATEGORIES = ("EXIF", "XMP", "IPTC", "ICC", "semantics", "privacy", "warnings")


def exiftool_json(paths, *args):
    """exiftool's tags of each file (by absolute path) as `Group0:Group1:Tag`
    keys, from the main image only: sub-documents (an iPhone HEIC's gain map
    and depth map items, embedded previews) describe other images."""
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


def iptc_as_xmp(source, work):
    """The XMP properties exiftool's own `iptc2xmp.args` maps the IPTC of
    `source` to ({} when only the version and character set are there);
    None when that mapping file is missing."""
    if IPTC2XMP is None:
        return None
    xmp = Path(work) / f"{Path(source).name}.xmp"
    run = subprocess.run(["exiftool", "-tagsfromfile", str(source), "-@", str(IPTC2XMP), "-o", str(xmp)],
                         check=False, capture_output=True, text=True)
    if xmp.exists():
        return exiftool_json([xmp], "-n").get(os.path.abspath(xmp), {})
    return {} if "No writable tags" in run.stderr else None


def groups(key):
    """(family 0, family 1, tag) of a key; exiftool writes one group when both
    families have the same name (`IPTC:Keywords`)."""
    parts = key.split(":")
    if len(parts) == 1:  # SourceFile
        return "", "", key
    if len(parts) == 2:
        return parts[0], parts[0], parts[1]
    return parts[0], parts[1], ":".join(parts[2:])


def web_removes(key):
    """Whether the `web` policy must remove this key."""
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


def category(key):
    g0 = groups(key)[0]
    return "EXIF" if g0 == "MakerNotes" else g0


def warnings(tags):
    return {v for k, v in tags.items() if k.endswith(":Warning")}


def icc_bytes(tags):
    value = tags.get("ICC_Profile:ICC_Profile")
    return base64.b64decode(value.removeprefix("base64:")) if value else None


def judge(src, out, fmt, policy, width, height, iptc_xmp, src_icc, out_icc, cmyk=False):
    """The problems of one output as `(category, message)` pairs: `src` and
    `out` are the tags of input and output, `iptc_xmp` what `iptc_as_xmp`
    gave for the input, `src_icc`/`out_icc` the `-b -ICC_Profile` tags."""
    problems = []
    for w in sorted(warnings(out) - warnings(src)):
        problems.append(("warnings", f"exiftool warns: {w}"))

    # Values carried unchanged (IPTC only where the container has a slot).
    for key, value in src.items():
        if not compared(key) or (policy == "web" and web_removes(key)):
            continue
        if key.startswith("IPTC:") and fmt not in IPTC_NATIVE:
            continue
        if position(key):
            if key not in out:
                problems.append((category(key), f"{key} is gone"))
        elif out.get(key) != value:
            problems.append((category(key), f"{key}: {value!r} -> {out.get(key)!r}"))

    # IPTC as XMP where the container has no IPTC slot.
    if fmt not in IPTC_NATIVE and any(k.startswith("IPTC:") for k in src):
        if iptc_xmp is None:
            problems.append(("IPTC", "exiftool's iptc2xmp.args is needed to judge IPTC in XMP"))
        for key, value in (iptc_xmp or {}).items():
            if key.startswith("XMP:") and key not in src and groups(key)[1] != "XMP-x":
                if out.get(key) != value:
                    problems.append(("IPTC", f"IPTC as {key}: {value!r} -> {out.get(key)!r}"))

    # The semantics: orientation, dimensions, thumbnail.
    for key in ORIENTATION_KEYS:
        if key in out and out[key] != 1:
            problems.append(("semantics", f"{key} is {out[key]} after the pixels were turned upright"))
    for keys, size in ((WIDTH_KEYS, width), (HEIGHT_KEYS, height)):
        for key in keys & set(out):
            if out[key] != size:
                problems.append(("semantics", f"{key} is {out[key]}, the output is {width}x{height}"))
    if any(groups(k)[1] == "IFD1" for k in out):
        problems.append(("semantics", "the EXIF thumbnail (IFD1) was left in place"))

    if policy == "web":
        leaked = sorted(k for k in out if groups(k)[0] in ("EXIF", "MakerNotes", "XMP") and web_removes(k))
        if leaked:
            problems.append(("privacy", f"web policy leaked {leaked[:8]}"))

    # ICC byte for byte (a CMYK input's pixels are converted, so its profile cannot stay).
    src_profile, out_profile = icc_bytes(src_icc), icc_bytes(out_icc)
    if src_profile and not cmyk:
        if out_profile is None:
            problems.append(("ICC", "the ICC profile was dropped"))
        elif out_profile != src_profile:
            problems.append(("ICC", "the ICC profile changed"))
    return problems


def manifest(corpus):
    """Rows of the corpus's MANIFEST.tsv as dicts."""
    lines = (Path(corpus) / "MANIFEST.tsv").read_text().splitlines()
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t"))) for line in lines[1:]]


def metadata_rows(corpus):
    """Still images (not `bad/`) with EXIF, XMP, IPTC or an ICC profile."""
    if not (Path(corpus) / "MANIFEST.tsv").exists():
        return []

    def wanted(row):
        flags = set(row["flags"].split(","))
        carries = flags & {"exif", "xmp", "iptc"} or any(f.startswith("icc=") for f in flags)
        return not row["path"].startswith("bad/") and carries and not flags & {"animated", "multi-image"}

    return [r for r in manifest(corpus) if wanted(r)]


def staged_name(path):
    """A corpus path as one file name (`jpeg/a.jpg` -> `jpeg__a.jpg`)."""
    return path.replace("/", "__")
