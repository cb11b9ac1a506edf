"""Restore records, GPS coarsening, interceptors and the provenance record,
judged by exiftool (and the reference blake3 package)."""
import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import pixpress

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus"))
pytestmark = pytest.mark.skipif(not shutil.which("exiftool") or not CORPUS.is_dir(), reason="needs exiftool and the corpus")

# Inputs with rich metadata: GPS + MakerNote, IPTC + XMP + Adobe RGB, a
# phone HEIC with GPS, XMP and Display P3.
RICH = ["jpeg/gps_DSCN0010.jpg", "jpeg/xmp_test_adobergb.jpg", "jpeg/Landscape_9_iptc_xmp.jpg",
        "heic/iphone_11_pro_max_IMG_5195.HEIC"]
# Containers whose metadata pixpress rewrites in place.
REWRITABLE = ["jpeg", "png", "webp", "avif"]
# Tags about the file or the container, not the metadata carried.
NOT_METADATA = ("SourceFile", "File:", "System:", "Composite:", "ExifTool:", "QuickTime:MediaData")


def exiftool(path, *args):
    out = subprocess.run(["exiftool", "-j", "-a", "-G0:1", *args, str(path)], capture_output=True, text=True, check=True)
    return {k: v for k, v in json.loads(out.stdout)[0].items() if not k.startswith(NOT_METADATA)}


def warning(path):
    """exiftool's warning about a file, or None."""
    out = subprocess.run(["exiftool", "-j", "-Warning", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0].get("Warning")


def icc_bytes(path):
    return subprocess.run(["exiftool", "-b", "-icc_profile", str(path)], capture_output=True, check=True).stdout


CELLS = [(src, fmt) for src in RICH for fmt in REWRITABLE]


@pytest.mark.parametrize("src,fmt", CELLS, ids=[f"{s}-{f}" for s, f in CELLS])
def test_restore_gives_back_what_web_removed(tmp_path, src, fmt):
    data = (CORPUS / src).read_bytes()
    keep = pixpress.compress(data, format=fmt, resize=(640, 640))
    web = pixpress.compress(data, format=fmt, resize=(640, 640), metadata="web,-xmp:*,-iptc", restore_record=True)
    record = web.metadata["restore_record"]
    assert record, "web removed something, so there is a record"
    restored = pixpress.restore_metadata(web, record)
    paths = {}
    for name, blob in (("keep", bytes(keep)), ("web", bytes(web)), ("restored", bytes(restored))):
        paths[name] = tmp_path / f"{name}.{fmt}"
        paths[name].write_bytes(blob)
    want, got = exiftool(paths["keep"]), exiftool(paths["restored"])
    assert got == want, {k: (want.get(k), got.get(k)) for k in set(want) | set(got) if want.get(k) != got.get(k)}
    assert icc_bytes(paths["restored"]) == icc_bytes(paths["keep"])
    assert exiftool(paths["web"]) != want
    # Pixels untouched: the image data is the web output's, byte for byte.
    from PIL import Image
    import numpy as np
    a, b = np.asarray(Image.open(paths["web"]).convert("RGBA")), np.asarray(Image.open(paths["restored"]).convert("RGBA"))
    assert a.shape == b.shape and (a == b).all()
    assert warning(paths["restored"]) == warning(paths["keep"])


def test_damaged_record_and_unsupported_container_are_refused():
    data = (CORPUS / "jpeg/gps_DSCN0010.jpg").read_bytes()
    web = pixpress.compress(data, format="jpeg", metadata="web", restore_record=True)
    record = bytearray(web.metadata["restore_record"])
    record[-1] ^= 1
    with pytest.raises(pixpress.InvalidArgumentError, match="checksum"):
        pixpress.restore_metadata(web, record)
    with pytest.raises(pixpress.InvalidArgumentError, match="not a pixpress restore record"):
        pixpress.restore_metadata(web, b"nonsense")
    assert pixpress.compress(data, format="jpeg", restore_record=True).metadata["restore_record"] is None


def gps(path):
    tags = exiftool(path, "-n", "-gps:all")
    return tags.get("EXIF:GPS:GPSLatitude"), tags.get("EXIF:GPS:GPSLongitude")


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "avif"])
def test_gps_coarsened_to_the_precision_asked(tmp_path, fmt):
    src = CORPUS / "jpeg/gps_DSCN0010.jpg"
    lat0, lon0 = gps(src)
    for meters in (1000, 10000):
        out = pixpress.compress(src.read_bytes(), format=fmt, metadata=f"web,gps={meters}m")
        assert "EXIF:GPS:GPSLatitude" in out.metadata["changed"]
        dest = tmp_path / f"{meters}.{fmt}"
        dest.write_bytes(bytes(out))
        lat, lon = gps(dest)
        north = (lat - lat0) * 111_320
        east = (lon - lon0) * 111_320 * math.cos(math.radians(lat0))
        # On the grid (within a rounding of the stored seconds), within half a step of the truth.
        assert abs(north) <= meters / 2 + 1 and abs(east) <= meters / 2 + 1, (north, east)
        step = meters / 111_320
        assert abs(lat / step - round(lat / step)) < 0.01
        assert (lat, lon) != (lat0, lon0)
        # web still removes the rest: no MakerNote, no serials.
        tags = exiftool(dest)
        assert not [k for k in tags if k.startswith("MakerNotes") or "SerialNumber" in k]


def test_interceptor_edits_what_is_written(tmp_path):
    src = (CORPUS / "jpeg/gps_DSCN0010.jpg").read_bytes()
    seen = {}

    def edit(e):
        seen["format"], seen["size"] = e.format, e.size
        seen["fields"] = {f"{f['block']}:{f['group']}:{f['name']}" for f in e.fields()}
        e.set("EXIF:IFD0:Artist", "Jane Doe")
        e.set("XMP:dc:rights", "CC BY 4.0")
        e.set("IPTC:City", "Zürich")
        assert e.remove("EXIF:GPS:GPSMapDatum")

    for fmt in ("jpeg", "webp", "png"):
        out = pixpress.compress(src, format=fmt, resize=(320, 320), interceptor=edit)
        dest = tmp_path / f"out.{fmt}"
        dest.write_bytes(bytes(out))
        tags = exiftool(dest)
        assert tags["EXIF:IFD0:Artist"] == "Jane Doe"
        assert tags["XMP:XMP-dc:Rights"] == "CC BY 4.0"
        assert "EXIF:GPS:GPSMapDatum" not in tags
        city = tags.get("IPTC:City", tags.get("XMP:XMP-photoshop:City"))
        assert city == "Zürich", tags
        assert warning(dest) is None
        assert seen["format"] == fmt and seen["size"] == (out.width, out.height)
        assert "EXIF:GPS:GPSLatitude" in seen["fields"]


def test_failing_interceptor_leaves_no_output(tmp_path):
    src = CORPUS / "jpeg/gps_DSCN0010.jpg"
    dest = tmp_path / "out.jpg"

    def raises(e):
        raise RuntimeError("refused by policy")

    def bad_xml(e):
        e.set("XMP:dc:title", "x" * (2 << 20))

    with pytest.raises(pixpress.InterceptorError, match="refused by policy"):
        pixpress.compress_file(src, dest, interceptor=raises)
    assert not dest.exists() and not list(tmp_path.iterdir())
    with pytest.raises(pixpress.InterceptorError, match="over the limit"):
        pixpress.compress_file(src, dest, interceptor=bad_xml)
    assert not dest.exists()
    with pytest.raises(pixpress.InvalidArgumentError, match="interceptor"):
        pixpress.compress(src.read_bytes(), interceptor="not callable")


def test_provenance_ties_output_to_source(tmp_path):
    blake3 = pytest.importorskip("blake3")
    src = (CORPUS / "jpeg/gps_DSCN0010.jpg").read_bytes()
    out = pixpress.compress(src, format="webp", quality=70, metadata="strip", provenance=True)
    dest = tmp_path / "out.webp"
    dest.write_bytes(bytes(out))
    tags = exiftool(dest)
    assert tags["XMP:XMP-pixpress:SourceBLAKE3"] == blake3.blake3(src).hexdigest()
    assert tags["XMP:XMP-pixpress:Parameters"] == "format=webp quality=70 metadata=strip"
    assert tags["XMP:XMP-pixpress:Version"] == pixpress.__version__
    # The camera clock of this file disagrees with its GPS time by 22 hours:
    # no offset is made up, the local capture time is given as it is.
    assert tags["XMP:XMP-pixpress:CaptureTime"].startswith("2008:10:22 16:28:39")
    # An iPhone photo states its offset.
    heic = (CORPUS / "heic/iphone_11_pro_max_IMG_5195.HEIC").read_bytes()
    judge = exiftool(CORPUS / "heic/iphone_11_pro_max_IMG_5195.HEIC", "-OffsetTimeOriginal", "-DateTimeOriginal")
    out = pixpress.compress(heic, format="jpeg", resize=(200, 200), provenance=True)
    dest = tmp_path / "phone.jpg"
    dest.write_bytes(bytes(out))
    capture = exiftool(dest)["XMP:XMP-pixpress:CaptureTime"]
    assert capture == judge["EXIF:ExifIFD:DateTimeOriginal"] + judge["EXIF:ExifIFD:OffsetTimeOriginal"]


BIN = Path(os.environ.get("PIXPRESS_BIN", Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "pixpress-target")) / "release" / "pixpress"))


@pytest.mark.skipif(not BIN.exists(), reason="needs the pixpress CLI")
@pytest.mark.parametrize("fmt", REWRITABLE)
def test_cli_meta_write_then_restore_is_lossless(tmp_path, fmt):
    """`meta write` filters a file in place without touching its pixels;
    `meta restore` with its sidecar gives back every tag exiftool reads,
    the thumbnail included."""
    src = CORPUS / "jpeg/gps_DSCN0010.jpg"
    original = tmp_path / f"original.{fmt}"
    original.write_bytes(bytes(pixpress.compress(src.read_bytes(), format=fmt)) if fmt != "jpeg" else src.read_bytes())
    work = tmp_path / f"work.{fmt}"
    shutil.copy(original, work)
    run = subprocess.run([str(BIN), "meta", "write", str(work), "-m", "web", "--field", "EXIF:IFD0:Artist=Me",
                          "--provenance", "--restore-record"], capture_output=True, text=True, check=True)
    report = json.loads(run.stdout)
    assert "EXIF:GPS:GPSLatitude" in report["metadata"]["removed"]
    filtered = exiftool(work)
    assert filtered["EXIF:IFD0:Artist"] == "Me" and "EXIF:GPS:GPSLatitude" not in filtered
    assert "XMP:XMP-pixpress:SourceBLAKE3" in filtered
    subprocess.run([str(BIN), "meta", "restore", str(work)], check=True)
    assert exiftool(work) == exiftool(original)
    # A field edit that cannot be made fails and leaves the file as it was.
    run = subprocess.run([str(BIN), "meta", "write", str(work), "--field", "EXIF:IFD0:NoSuchTag=x"],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "NoSuchTag" in run.stderr
    assert exiftool(work) == exiftool(original)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([original.name, work.name, work.name + ".pxpr"])
    from PIL import Image
    assert Image.open(work).tobytes() == Image.open(original).tobytes()
    # A container pixpress cannot rewrite in place is refused, and left as it was.
    gif = tmp_path / "x.gif"
    shutil.copy(next((CORPUS / "gif").glob("*.gif")), gif)
    before = gif.read_bytes()
    run = subprocess.run([str(BIN), "meta", "write", str(gif), "-m", "strip"], capture_output=True, text=True)
    assert run.returncode == 1 and "in place" in run.stderr and gif.read_bytes() == before


HEIF_FILES = sorted([*(CORPUS / "avif").glob("*.avif"), *(CORPUS / "heic").glob("*.hei[cf]"),
                     *(CORPUS / "heic").glob("*.HEIC"), *(CORPUS / "heic").glob("*.hif")])


@pytest.mark.parametrize("path", HEIF_FILES, ids=[p.name for p in HEIF_FILES])
def test_heif_rewrite_keeps_pixels_or_refuses_cleanly(tmp_path, path):
    """Every corpus AVIF/HEIF is either rewritten in place (the pixels decode
    the same, exiftool sees no GPS and no new warning) or refused as a layout
    pixpress does not edit."""
    data = path.read_bytes()
    try:
        out = pixpress.rewrite_metadata(data, metadata="web")
    except pixpress.CodecUnavailableError as e:
        assert "in place" in str(e)
        return
    assert bytes(pixpress.decode(out)) == bytes(pixpress.decode(data))
    dest = tmp_path / path.name
    dest.write_bytes(bytes(out))
    tags = exiftool(dest)
    assert not [k for k in tags if k.startswith("EXIF:GPS")], tags
    assert warning(dest) in (None, warning(path))
