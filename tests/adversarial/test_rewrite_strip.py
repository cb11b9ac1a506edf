"""What a policy says goes, goes from every block and every path: with
`strip` or `web`, rewriting metadata in place (`rewrite_metadata`, the
coefficient-only JPEG path, `pixpress meta write`) leaves no JPEG COM
segment, no APPn segment pixpress does not model (MPF, DJI's APP4,
JUMBF/C2PA in APP11, APP15) and nothing after EOI (MPO frames, gain maps);
no PNG text chunk, `tIME` or private chunk, nothing after `IEND`; no
unknown WebP chunk. With `keep` they all stay.

And orientation stored where Pillow and exiftool read it is applied: EXIF
in a PNG `Raw profile type exif` text chunk, as ImageMagick writes it.

Every input is built on the fly (Pillow writes the images, segments and
chunks are added by hand); the judges are exiftool (`-j -a -G1`), a walk
of the markers or chunks, a raw byte scan, and Pillow for pixels.
"""

import io
import json
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageOps, PngImagePlugin

import pixpress

TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "pixpress-target"))
BIN = Path(os.environ.get("PIXPRESS_BIN", TARGET / "release" / "pixpress"))

needs_exiftool = pytest.mark.skipif(not shutil.which("exiftool"), reason="needs exiftool")

# Payloads that must not survive a policy that strips, each unique in the file.
COMMENT = b"pixpress-test secret comment"
BETWEEN = b"pixpress-test comment between scans"
DJI = b"DJI pixpress-test drone telemetry"
JUMBF = b"\x00\x00\x00\x20jumb\x00\x00\x00\x18jumdc2pa pixpress-test"
PRIVATE = b"pixpress-test APP15 private"
MPF = b"MPF\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00pixpress-test"
GAIN_MAP = b"pixpress-test gain map bytes"
LEFTOVERS = [COMMENT, BETWEEN, DJI, b"c2pa", PRIVATE, b"MPF\x00", GAIN_MAP]

# Segments a stripped JPEG may hold: the image's own, and the blocks the policy kept.
ALLOWED_APP = {
    0xE0: (b"JFIF\x00",),
    0xE1: (b"Exif\x00\x00", b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00"),
    0xE2: (b"ICC_PROFILE\x00",),
    0xED: (b"Photoshop 3.0\x00",),
    0xEE: (b"Adobe",),
}


# --- Inputs ------------------------------------------------------------------


def halves(size=(64, 32)):
    """Left half red, right half blue: not the same turned 180 degrees."""
    image = Image.new("RGB", size, (255, 0, 0))
    image.paste((0, 0, 255), (size[0] // 2, 0, size[0], size[1]))
    return image


def exif_bytes(orientation=None, artist="Jane Doe"):
    exif = Image.Exif()
    exif[0x013B] = artist
    if orientation:
        exif[0x0112] = orientation
    return exif.tobytes()  # with the "Exif\0\0" prefix


def segment(marker, payload):
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def pillow_jpeg(progressive=False, **extra):
    out = io.BytesIO()
    halves().save(out, "JPEG", quality=90, progressive=progressive, **extra)
    return out.getvalue()


def jpeg_with_extras():
    """A progressive JPEG (JFIF, EXIF with an artist) carrying COM, MPF
    APP2, DJI APP4, JUMBF APP11 and APP15 segments after its header, a
    comment between its scans, and a second frame and a gain map after EOI."""
    base = pillow_jpeg(progressive=True, exif=exif_bytes())
    header_end = 2 + 2 + struct.unpack(">H", base[4:6])[0]  # after the JFIF APP0
    assert base[2:4] == b"\xff\xe0"
    extras = b"".join([
        segment(0xFE, COMMENT),
        segment(0xE2, MPF),
        segment(0xE4, DJI),
        segment(0xEB, JUMBF),
        segment(0xEF, PRIVATE),
    ])
    data = base[:header_end] + extras + base[header_end:]
    sos = [i for i in range(len(data) - 1) if data[i:i + 2] == b"\xff\xda"]
    assert len(sos) > 1, "a progressive file has several scans"
    data = data[:sos[1]] + segment(0xFE, BETWEEN) + data[sos[1]:]
    return data + pillow_jpeg() + GAIN_MAP


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_chunks(data):
    """(type, body) of every chunk up to IEND, and the offset after IEND."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, found = 8, []
    while at + 8 <= len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind = data[at + 4:at + 8]
        found.append((kind, data[at + 8:at + 8 + length]))
        at += 12 + length
        if kind == b"IEND":
            return found, at
    return found, None


def raw_profile(name, payload):
    """`payload` as ImageMagick writes a raw profile: name and length lines, hex in lines of 72 digits."""
    digits = payload.hex()
    lines = [digits[i:i + 72] for i in range(0, len(digits), 72)]
    return f"\n{name}\n{len(payload):8d}\n" + "\n".join(lines) + "\n"


def png_with_raw_exif(orientation=3):
    """A PNG whose only EXIF is a compressed `Raw profile type exif` text chunk."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type exif", raw_profile("exif", exif_bytes(orientation)), zip=True)
    out = io.BytesIO()
    halves().save(out, "PNG", pnginfo=info)
    data = out.getvalue()
    kinds = [k for k, _ in png_chunks(data)[0]]
    assert b"zTXt" in kinds and b"eXIf" not in kinds, kinds
    return data


def png_with_extras():
    """A PNG with gAMA and pHYs (kept by any policy), a tEXt comment, an
    iTXt description, tIME, a private chunk, an EXIF raw profile and a
    trailer after IEND."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", COMMENT.decode())
    info.add_itxt("Description", "pixpress-test description", lang="en")
    info.add(b"tIME", bytes([7, 234, 1, 2, 3, 4, 5]))
    info.add(b"prVt", PRIVATE)
    info.add_text("Raw profile type exif", raw_profile("exif", exif_bytes(3)), zip=True)
    out = io.BytesIO()
    halves().save(out, "PNG", pnginfo=info, dpi=(72, 72))
    data = out.getvalue()
    at = data.index(b"IDAT") - 4
    data = data[:at] + chunk(b"gAMA", struct.pack(">I", 45455)) + data[at:]
    return data + GAIN_MAP


def webp_with_extras():
    """A WebP (VP8X, with EXIF) with a private chunk after its image."""
    out = io.BytesIO()
    halves().save(out, "WEBP", quality=90, exif=exif_bytes())
    data = out.getvalue()
    body = data[12:] + b"PRIV" + struct.pack("<I", len(PRIVATE)) + PRIVATE + b"\x00" * (len(PRIVATE) % 2)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


# --- Judges ------------------------------------------------------------------


def jpeg_segments(data):
    """(marker, payload) of every segment of the first image, from SOI to
    EOI (entropy-coded data stepped over), and the offset after EOI."""
    assert data[:2] == b"\xff\xd8"
    found, at = [], 2
    while at < len(data) - 1:
        if data[at] != 0xFF:
            at += 1
            continue
        code = data[at + 1]
        if code == 0xFF:
            at += 1
        elif code == 0x00 or 0xD0 <= code <= 0xD7:
            at += 2
        elif code == 0xD9:
            return found, at + 2
        else:
            (length,) = struct.unpack(">H", data[at + 2:at + 4])
            found.append((code, data[at + 4:at + 2 + length]))
            at += 2 + length
    return found, None


def exiftool(data, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(data)
    run = subprocess.run(["exiftool", "-j", "-a", "-G1", str(path)], capture_output=True, text=True, check=False)
    assert run.stdout, run.stderr
    return json.loads(run.stdout)[0]


def assert_policy_kept_what_it_keeps(tags, policy):
    """`web` keeps the artist, `strip` does not: the policy still decides the blocks."""
    assert ("IFD0:Artist" in tags) == (policy == "web"), tags


def assert_jpeg_stripped(out, policy, tmp_path, name):
    segments, end = jpeg_segments(out)
    assert end == len(out), f"{len(out) - (end or 0)} bytes after EOI"
    assert out.endswith(b"\xff\xd9")
    for code, payload in segments:
        assert code != 0xFE, f"COM left: {payload[:40]!r}"
        if 0xE0 <= code <= 0xEF:
            assert payload.startswith(ALLOWED_APP.get(code, ())), f"APP{code - 0xE0} left: {payload[:40]!r}"
    for leftover in LEFTOVERS:
        assert leftover not in out, leftover
    tags = exiftool(out, tmp_path, name)
    assert not [k for k in tags if k.split(":")[0] in ("MPF0", "JUMBF", "DJI", "APP4", "APP11")], tags
    assert "File:Comment" not in tags, tags
    assert not [k for k in tags if k.startswith("MPImage")], tags
    assert "Trailer" not in json.dumps(tags.get("ExifTool:Warning", "")), tags
    assert_policy_kept_what_it_keeps(tags, policy)


def decoded(data):
    return Image.open(io.BytesIO(data)).convert("RGB")


# --- JPEG --------------------------------------------------------------------

POLICIES = ["strip", "web"]


def run_cli(*args):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=120)


def cli_meta_write(data, policy, tmp_path):
    if not BIN.exists():
        pytest.skip(f"no pixpress binary at {BIN}")
    src, dst = tmp_path / "cli-in.jpg", tmp_path / "cli-out.jpg"
    src.write_bytes(data)
    run = run_cli("meta", "write", src, "-m", policy, "-o", dst)
    assert run.returncode == 0, run.stderr
    return dst.read_bytes()


def cli_lossless(data, policy, tmp_path):
    if not BIN.exists():
        pytest.skip(f"no pixpress binary at {BIN}")
    src, outdir = tmp_path / "cli-lossless.jpg", tmp_path / "cli-lossless"
    src.write_bytes(data)
    run = run_cli("compress", src, "-o", outdir, "-f", "jpeg", "--lossless", "-m", policy, "--json")
    assert run.returncode == 0, run.stderr
    [file] = json.loads(run.stdout)["files"]
    return Path(file["output"]).read_bytes()


JPEG_PATHS = {
    "rewrite": lambda data, policy, tmp: bytes(pixpress.rewrite_metadata(data, metadata=policy)),
    "lossless": lambda data, policy, tmp: bytes(
        pixpress.compress(data, format="jpeg", lossless=True, metadata=policy, never_larger=False)),
    "cli-meta-write": cli_meta_write,
    "cli-lossless": cli_lossless,
}


@needs_exiftool
def test_the_jpeg_input_carries_every_extra(tmp_path):
    data = jpeg_with_extras()
    segments, end = jpeg_segments(data)
    codes = [code for code, _ in segments]
    assert {0xFE, 0xE2, 0xE4, 0xEB, 0xEF} <= set(codes)
    assert end < len(data)
    tags = exiftool(data, tmp_path, "in.jpg")
    assert tags["IFD0:Artist"] == "Jane Doe"
    assert tags["File:Comment"] == COMMENT.decode()


@needs_exiftool
@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("path", JPEG_PATHS)
def test_a_stripping_policy_leaves_nothing_unmodelled_in_a_jpeg(path, policy, tmp_path):
    data = jpeg_with_extras()
    out = JPEG_PATHS[path](data, policy, tmp_path)
    assert_jpeg_stripped(out, policy, tmp_path, f"{path}-{policy}.jpg")
    # The image is the same: coefficients are copied, not re-encoded.
    assert decoded(out).tobytes() == decoded(data).tobytes()


def test_keep_leaves_everything_on_the_rewrite_path():
    data = jpeg_with_extras()
    out = bytes(pixpress.rewrite_metadata(data, metadata="keep"))
    segments, end = jpeg_segments(out)
    codes = [code for code, _ in segments]
    assert {0xFE, 0xE2, 0xE4, 0xEB, 0xEF} <= set(codes), codes
    for leftover in LEFTOVERS:
        assert leftover in out, leftover
    assert out.endswith(pillow_jpeg() + GAIN_MAP)


# --- PNG ---------------------------------------------------------------------

KEPT_PNG_CHUNKS = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"pHYs",
                   b"sBIT", b"bKGD", b"cICP", b"eXIf", b"iTXt", b"zTXt"}


@needs_exiftool
@pytest.mark.parametrize("policy", POLICIES)
def test_a_stripping_policy_leaves_no_text_or_private_chunk_in_a_png(policy, tmp_path):
    data = png_with_extras()
    before = exiftool(data, tmp_path, "in.png")
    assert before["PNG:Comment"] == COMMENT.decode(), before
    assert "PNG:ModifyDate" in before, before
    out = bytes(pixpress.rewrite_metadata(data, metadata=policy))
    chunks, end = png_chunks(out)
    assert end == len(out), f"{len(out) - (end or 0)} bytes after IEND"
    kinds = [k for k, _ in chunks]
    assert set(kinds) <= KEPT_PNG_CHUNKS, kinds
    assert b"gAMA" in kinds and b"pHYs" in kinds, kinds
    for kind, body in chunks:
        if kind in (b"iTXt", b"zTXt", b"tEXt"):
            assert body.startswith(b"XML:com.adobe.xmp\x00"), body[:40]
    for leftover in (COMMENT, PRIVATE, b"pixpress-test description", GAIN_MAP):
        assert leftover not in out, leftover
    after = exiftool(out, tmp_path, f"{policy}.png")
    assert not [k for k in after if k.split(":")[0] == "PNG" and k not in (
        "PNG:ImageWidth", "PNG:ImageHeight", "PNG:BitDepth", "PNG:ColorType", "PNG:Compression",
        "PNG:Filter", "PNG:Interlace", "PNG:Gamma")], after
    assert_policy_kept_what_it_keeps(after, policy)
    assert decoded(out).tobytes() == decoded(data).tobytes()


def test_keep_leaves_png_chunks_and_trailer():
    data = png_with_extras()
    out = bytes(pixpress.rewrite_metadata(data, metadata="keep"))
    kinds = [k for k, _ in png_chunks(out)[0]]
    assert {b"tEXt", b"tIME", b"prVt", b"iTXt"} <= set(kinds), kinds
    assert out.endswith(GAIN_MAP)


# --- WebP --------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES)
def test_a_stripping_policy_leaves_no_unknown_webp_chunk(policy):
    data = webp_with_extras()
    assert PRIVATE in data
    out = bytes(pixpress.rewrite_metadata(data, metadata=policy))
    assert PRIVATE not in out and b"PRIV" not in out
    assert decoded(out).tobytes() == decoded(data).tobytes()
    kept = bytes(pixpress.rewrite_metadata(data, metadata="keep"))
    assert PRIVATE in kept


# --- Orientation in a PNG raw profile ----------------------------------------


def left_and_right(image):
    w, h = image.size
    return image.getpixel((2, h // 2)), image.getpixel((w - 3, h // 2))


def is_red(px):
    return px[0] > 200 and px[2] < 60


def is_blue(px):
    return px[2] > 200 and px[0] < 60


@needs_exiftool
def test_the_raw_profile_orientation_is_what_pillow_and_exiftool_read(tmp_path):
    data = png_with_raw_exif(3)
    tags = exiftool(data, tmp_path, "raw.png")
    assert tags["IFD0:Orientation"] == "Rotate 180", tags
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    left, right = left_and_right(upright)
    assert is_blue(left) and is_red(right), (left, right)
    assert pixpress.probe(data).orientation == 3


@needs_exiftool
def test_orientation_in_a_png_raw_profile_is_applied(tmp_path):
    data = png_with_raw_exif(3)
    out = bytes(pixpress.compress(data, format="png", never_larger=False))
    image = decoded(out)
    left, right = left_and_right(image)
    assert is_blue(left) and is_red(right), (left, right)
    # The tag now says upright, so no viewer turns the pixels again; the rest carries over.
    tags = exiftool(out, tmp_path, "turned.png")
    assert tags.get("IFD0:Orientation", "Horizontal (normal)") == "Horizontal (normal)", tags
    assert tags["IFD0:Artist"] == "Jane Doe", tags
    again = ImageOps.exif_transpose(Image.open(io.BytesIO(out))).convert("RGB")
    assert again.tobytes() == image.tobytes()
    # Every output format turns it.
    for fmt in ("jpeg", "webp"):
        turned = decoded(bytes(pixpress.compress(data, format=fmt, quality=95)))
        left, right = left_and_right(turned)
        assert is_blue(left) and is_red(right), (fmt, left, right)


def test_orientation_kept_as_stored_when_asked():
    data = png_with_raw_exif(3)
    out = bytes(pixpress.compress(data, format="png", orientation="keep", never_larger=False))
    left, right = left_and_right(decoded(out))
    assert is_red(left) and is_blue(right), (left, right)
