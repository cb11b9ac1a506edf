"""Decompression and CPU bombs, crafted text and unsupported variants: each
input is built here, and each must end in its typed error (judged by the
error code), never a crash, a hang or a blow-up (judged by the exit status
and a time limit on a separate process)."""

import io
import json
import os
import struct
import subprocess
import zlib
from pathlib import Path

import pixpress
import pytest
from PIL import Image

TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "pixpress-target"))
BIN = Path(os.environ.get("PIXPRESS_BIN", TARGET / "release" / "pixpress"))


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with(extra_chunks, size=(2, 2)):
    """A valid PNG (by Pillow) with `extra_chunks` inserted after IHDR."""
    buf = io.BytesIO()
    Image.new("RGB", size, (9, 99, 199)).save(buf, "PNG")
    data = buf.getvalue()
    ihdr_end = 8 + 25
    return data[:ihdr_end] + b"".join(extra_chunks) + data[ihdr_end:]


def cli(*args, timeout=60):
    r = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=timeout)
    assert r.returncode in (0, 1, 2), (r.returncode, r.stderr)
    return r


def test_an_iccp_bomb_is_refused_by_info_and_compress(tmp_path):
    bomb = zlib.compress(b"\0" * (64 << 20), 9)  # 64 MiB from about 64 KiB
    path = tmp_path / "bomb.png"
    path.write_bytes(png_with([chunk(b"iCCP", b"icc\0\0" + bomb)]))
    assert path.stat().st_size < 1 << 20
    r = cli("info", path, "--json")
    assert r.returncode == 1
    assert "PXP_ERR_LIMIT_EXCEEDED" in r.stdout, r.stdout
    with pytest.raises(pixpress.LimitExceededError, match="iCCP"):
        pixpress.probe(path.read_bytes())
    with pytest.raises(pixpress.LimitExceededError):
        pixpress.compress(path.read_bytes(), format="webp")


def test_text_chunk_bombs_are_refused(tmp_path):
    bomb = zlib.compress(b"0" * (64 << 20), 9)
    for extra in (
        chunk(b"zTXt", b"Raw profile type iptc\0\0" + bomb),
        chunk(b"iTXt", b"XML:com.adobe.xmp\0\1\0\0\0" + bomb),
    ):
        data = png_with([extra])
        with pytest.raises(pixpress.LimitExceededError):
            pixpress.compress(data, format="jpeg")


def progressive_jpeg():
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(buf, "JPEG", progressive=True, quality=80)
    return buf.getvalue()


def test_thousands_of_scans_are_refused_quickly():
    data = progressive_jpeg()
    # Repeat the last scan (SOS header and its data) a few thousand times.
    last_sos = data.rindex(b"\xff\xda")
    scan = data[last_sos:-2]
    bomb = data[:-2] + scan * 5000 + b"\xff\xd9"
    with pytest.raises(pixpress.LimitExceededError, match="scans"):
        pixpress.compress(bomb, format="webp")
    # The original, well under the cap, is fine.
    assert pixpress.compress(data, format="webp").width == 16


def test_an_unbounded_number_of_markers_is_refused():
    data = progressive_jpeg()
    com = b"\xff\xfe\x00\x02"
    bomb = data[:2] + com * 70000 + data[2:]
    with pytest.raises(pixpress.LimitExceededError):
        pixpress.probe(bomb)


def test_non_ascii_text_where_digits_are_expected_is_no_panic(tmp_path):
    # A PNG raw IPTC profile whose hex text has multi-byte characters.
    text = "Raw profile type iptc\0\0".encode() + zlib.compress("\niptc\n   4\n1é20\n".encode())
    data = png_with([chunk(b"zTXt", text)])
    out = pixpress.compress(data, format="webp")
    assert out.width == 2
    # IPTC TimeCreated with a multi-byte zone, through every output.
    src = tmp_path / "t.jpg"
    Image.new("RGB", (8, 8)).save(src)
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-IPTC:TimeCreated=10:10:10+01:00", str(src)], check=True)
    raw = bytearray(src.read_bytes())
    at = raw.index(b"101010+0100")
    raw[at + 7:at + 10] = "é2".encode()
    for fmt in ("jpeg", "webp", "png"):
        try:
            pixpress.compress(bytes(raw), format=fmt, metadata="keep")
        except pixpress.PixpressError as e:
            assert not isinstance(e, pixpress.InternalError), e


def test_a_cielab_tiff_is_an_unsupported_variant_not_corrupt(tmp_path):
    path = tmp_path / "lab.tif"
    Image.new("LAB", (4, 4), (50, 10, 10)).save(path)
    with pytest.raises(pixpress.UnsupportedFormatError):
        pixpress.compress(path.read_bytes(), format="png")
    r = cli("compress", path, "-o", tmp_path / "out", "-f", "png", "--json")
    assert json.loads(r.stdout)["files"][0]["code"] == "PXP_ERR_UNSUPPORTED_FORMAT"
