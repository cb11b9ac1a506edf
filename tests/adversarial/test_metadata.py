"""Metadata rules hold on every path: the coefficient-only (lossless=true)
JPEG path applies the same policy, interceptor and provenance as the pixel
path. Judged by exiftool."""

import json
import os
import subprocess
from pathlib import Path

import pixpress
import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus"))


def exiftool(path):
    out = subprocess.run(["exiftool", "-j", "-a", "-G1", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


NOT_METADATA = ("SourceFile", "ExifTool", "System", "File", "JFIF", "Composite", "ICC")


def test_lossless_strip_keeps_orientation_and_drops_the_rest(tmp_path):
    src = CORPUS / "jpeg/canon_hdr_NO.jpg"
    before = exiftool(src)
    assert before["IFD0:Orientation"] == "Rotate 90 CW"
    assert "IFD0:Make" in before and any(k.startswith("XMP") for k in before) and any(k.startswith("IPTC") for k in before)
    for how in ("lossless", "rewrite"):
        dest = tmp_path / f"{how}.jpg"
        if how == "lossless":
            pixpress.compress_file(src, dest, format="jpeg", lossless=True, metadata="strip")
        else:
            dest.write_bytes(bytes(pixpress.rewrite_metadata(src.read_bytes(), metadata="strip")))
        after = exiftool(dest)
        # The pixels are not turned, so the tag that makes viewers turn them stays.
        assert after.get("IFD0:Orientation") == "Rotate 90 CW", (how, after)
        assert (after["File:ImageWidth"], after["File:ImageHeight"]) == (before["File:ImageWidth"], before["File:ImageHeight"])
        kept = {k for k in after if not k.startswith(NOT_METADATA)}
        assert kept == {"IFD0:Orientation"}, (how, kept)
    # A policy that keeps EXIF but removes the tag is refused, not obeyed into a sideways image.
    with pytest.raises(pixpress.InvalidArgumentError, match="Orientation"):
        pixpress.compress(src.read_bytes(), format="jpeg", lossless=True, metadata="keep,-Orientation")


def test_lossless_runs_the_interceptor_and_provenance(tmp_path):
    src = CORPUS / "jpeg/gps_DSCN0010.jpg"
    dest = tmp_path / "out.jpg"

    def edit(e):
        e.set("EXIF:IFD0:Artist", "Jane Doe")

    out = pixpress.compress_file(src, dest, format="jpeg", lossless=True, metadata="web", interceptor=edit, provenance=True)
    tags = exiftool(dest)
    assert tags["IFD0:Artist"] == "Jane Doe"
    assert not [k for k in tags if k.startswith("GPS:")], "web keeps no position"
    blake3 = pytest.importorskip("blake3")
    assert tags["XMP-pixpress:SourceBLAKE3"] == blake3.blake3(src.read_bytes()).hexdigest()
    assert out.metadata["removed"], out.metadata


def test_lossless_keep_is_still_byte_lossless_for_pixels(tmp_path):
    from PIL import Image, ImageChops

    src = CORPUS / "jpeg/Landscape_3.jpg"
    dest = tmp_path / "out.jpg"
    pixpress.compress_file(src, dest, format="jpeg", lossless=True, metadata="strip")
    a, b = Image.open(src), Image.open(dest)
    assert ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is None


TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "pixpress-target"))
BIN = Path(os.environ.get("PIXPRESS_BIN", TARGET / "release" / "pixpress"))


@pytest.mark.parametrize("command", ["compress", "batch"])
def test_restore_records_are_written_by_compress_and_batch(tmp_path, command):
    """`--restore-record` writes OUTPUT.pxpr beside each output in both commands (batch used to
    accept the flag and write nothing), and `meta restore` puts back what the policy removed."""
    photos = tmp_path / "in"
    photos.mkdir()
    source = CORPUS / "jpeg" / "gps_DSCN0010.jpg"
    (photos / "a.jpg").write_bytes(source.read_bytes())
    out = tmp_path / "out"
    r = subprocess.run([str(BIN), command, str(photos), "-o", str(out), "-f", "jpeg", "-m", "strip", "--restore-record"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    output, record = out / "a.jpg", out / "a.jpg.pxpr"
    assert record.is_file(), sorted(p.name for p in out.iterdir())
    before = exiftool(source)
    assert "IFD0:Make" in before and "IFD0:Make" not in exiftool(output)
    r = subprocess.run([str(BIN), "meta", "restore", str(output)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert exiftool(output)["IFD0:Make"] == before["IFD0:Make"]
