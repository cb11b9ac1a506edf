"""The Python package `pixpress`, judged by Pillow: pixel parity, a Pillow
script run unchanged, zero copy, GIL release, and bad input."""
import io
import threading
import time
import tracemalloc

import numpy as np
import pytest
from PIL import Image as PILImage
from PIL import ImageOps as PILImageOps
from PIL import TiffImagePlugin as PILTiffImagePlugin

import pixpress
from pixpress import Image, ImageOps
from test_judged import BAD, BAD_STATUS, CORPUS, GOOD, compare, pillow_judge

PIXEL_FILES = [r["path"] for r in GOOD if r["path"].split("/")[0] in ("jpeg", "png", "webp", "gif", "tiff")]


@pytest.mark.parametrize("rel", PIXEL_FILES)
def test_pixels_match_pillow(rel):
    """Image.open + np.asarray agrees with Pillow within a mean of 1 per channel (orientation kept, as Pillow)."""
    theirs, associated = pillow_judge(rel)
    with Image.open(CORPUS / rel) as ours:
        assert ours.size == theirs.size
        arr = np.asarray(ours)
        assert arr.shape[:2] == (theirs.height, theirs.width)
        compare(ours.to_pil(), theirs, 1.0, rel, premultiplied=associated)


@pytest.mark.parametrize("n", range(1, 9))
def test_exif_transpose_like_pillow(n):
    rel = f"jpeg/Landscape_{n}.jpg"
    theirs = PILImageOps.exif_transpose(PILImage.open(CORPUS / rel))
    ours = ImageOps.exif_transpose(Image.open(CORPUS / rel))
    assert ours.size == theirs.size
    compare(ours.to_pil(), theirs, 1.0, rel)
    assert ours.getexif().get(0x0112, 1) == 1


def _plain(value):
    """A Pillow EXIF value as plain Python (IFDRational as float, NaN for 0/0 as 0)."""
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, PILTiffImagePlugin.IFDRational):
        return 0.0 if value.denominator == 0 else float(value)
    return value


@pytest.mark.parametrize("rel", ["jpeg/Canon_40D.jpg", "jpeg/Nikon_D70.jpg", "jpeg/gps_DSCN0010.jpg",
                                 "jpeg/HMD_Nokia_8.3_5G.jpg", "jpeg/Landscape_6.jpg"])
def test_getexif_reads_what_pillow_reads(rel):
    """IFD0, the Exif IFD and the GPS IFD as core reads them, judged by Pillow's reader."""
    theirs = PILImage.open(CORPUS / rel).getexif()
    ours = Image.open(CORPUS / rel).getexif()
    for mine, peer in [(ours, theirs)] + [(ours.get_ifd(p), theirs.get_ifd(p)) for p in (0x8769, 0x8825)]:
        assert set(mine) == set(peer), rel
        for tag, value in peer.items():
            if isinstance(value, str):  # Pillow keeps what follows an embedded NUL; core stops there
                value = value.split("\0")[0]
            expected = _plain(value)
            numbers = isinstance(expected, tuple) and all(isinstance(v, (int, float)) for v in expected)
            if isinstance(expected, float) or numbers:
                assert mine[tag] == pytest.approx(expected), (rel, hex(tag))
            else:
                assert mine[tag] == expected, (rel, hex(tag))


def pillow_script(Image, ImageOps, src, out_dir):
    """A typical Pillow thumbnailing script; returns what it saw and wrote."""
    seen = []
    with Image.open(src) as im:
        seen.append((im.size, im.format))
        im = ImageOps.exif_transpose(im)
        im.thumbnail((320, 320))
        rgb = im.convert("RGB")
        seen.append((rgb.size, rgb.mode))
        exif, icc = im.info.get("exif"), im.info.get("icc_profile")
        rgb.save(out_dir / "a.jpg", quality=80, exif=exif or b"", icc_profile=icc)
        rgb.save(out_dir / "b.png")
        im.save(out_dir / "c.webp", quality=80, exif=exif or b"", icc_profile=icc)
        gray = im.convert("L")
        seen.append((gray.size, gray.mode))
        buf = io.BytesIO()
        gray.save(buf, format="JPEG", quality=70)
        seen.append(len(buf.getvalue()) > 0)
    return seen


@pytest.mark.parametrize("rel", ["jpeg/Landscape_6.jpg", "jpeg/flickr_2569067123_aca715a2ee_o.jpg",
                                 "png/pil123rgba_interlaced.png", "webp/hopper_orientation_6.webp"])
def test_pillow_script_runs_unchanged(tmp_path, rel):
    """The same script against Pillow and against pixpress: the same sizes and modes, and outputs
    Pillow opens with the EXIF and ICC profile the script passed."""
    (tmp_path / "pil").mkdir()
    (tmp_path / "pxp").mkdir()
    theirs = pillow_script(PILImage, PILImageOps, CORPUS / rel, tmp_path / "pil")
    ours = pillow_script(Image, ImageOps, CORPUS / rel, tmp_path / "pxp")
    assert ours == theirs
    for name in ("a.jpg", "b.png", "c.webp"):
        mine, peer = PILImage.open(tmp_path / "pxp" / name), PILImage.open(tmp_path / "pil" / name)
        mine.load()
        assert (mine.size, mine.mode, mine.format) == (peer.size, peer.mode, peer.format), name
        if name != "b.png":
            assert bool(mine.info.get("icc_profile")) == bool(peer.info.get("icc_profile")), name
            assert mine.getexif().get(0x010F) == peer.getexif().get(0x010F), name  # camera make survives


def test_input_is_read_in_place_and_output_is_library_memory():
    """A 50 MB bytes object is compressed without a second copy of it in Python memory, and the
    output's memoryview is backed by the Output object itself. (Writable buffers, bytearray or
    numpy, are copied once on the native side: another thread may write them while the GIL is
    released.)"""
    data = bytearray((CORPUS / "jpeg/hopper.jpg").read_bytes())
    data += bytes(50 * 1024 * 1024)  # trailing bytes after EOI are ignored by JPEG decoders
    data = bytes(data)
    tracemalloc.start()
    out = pixpress.compress(data, format="webp")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1024 * 1024, f"peak Python allocation {peak} bytes"
    view = memoryview(out)
    assert view.obj is out and view.readonly and view.nbytes == len(out)
    assert bytes(view[:4]) == b"RIFF" and bytes(out) == view.tobytes()
    for source in (memoryview(data), np.frombuffer(data, dtype=np.uint8), bytearray(data)):
        assert pixpress.compress(source, format="webp").size == (128, 128)


def test_gil_is_released_during_compress():
    """A pure-Python counter keeps counting while a long compress runs in another thread."""
    data = (CORPUS / "jpeg/flickr_2569067123_aca715a2ee_o.jpg").read_bytes()
    counter = 0
    stop = threading.Event()

    def count():
        nonlocal counter
        while not stop.is_set():
            counter += 1

    thread = threading.Thread(target=count)
    thread.start()
    time.sleep(0.05)
    before = counter
    started = time.perf_counter()
    pixpress.compress(data, format="webp", quality=80, effort=7)
    elapsed = time.perf_counter() - started
    during = counter - before
    stop.set()
    thread.join()
    assert elapsed > 0.2, "the compress was too short to tell"
    # With the GIL held for the whole call the counter would stand still.
    assert during > 100_000, f"counter advanced {during} in {elapsed:.2f} s"


@pytest.mark.parametrize("rel", BAD)
def test_bad_files_raise_typed_errors(rel):
    data = (CORPUS / rel).read_bytes()
    with pytest.raises(pixpress.PixpressError) as caught:
        pixpress.compress(data, format="jpeg")
    assert caught.value.code == BAD_STATUS[rel], str(caught.value)
    assert len(str(caught.value)) > 20
    # Pillow-style code keeps working: unreadable images are OSErrors.
    with pytest.raises((OSError, pixpress.LimitExceededError)):
        Image.open(io.BytesIO(data)).load()


def test_every_error_kind_has_its_class_with_its_code():
    """The hand-written classes of pixpress.errors against the core's list of error kinds."""
    from pixpress import _pixpress, errors

    named = {}
    for code, class_name in _pixpress.ERROR_CLASSES:
        cls = getattr(errors, class_name)
        assert issubclass(cls, errors.PixpressError) and cls.code == code, class_name
        assert class_name in errors.__all__ and getattr(pixpress, class_name) is cls
        named[class_name] = code
    classes = {n for n in errors.__all__ if isinstance(getattr(errors, n), type)}
    aliases = {n for n in classes if getattr(errors, n).__name__ != n}
    assert classes - aliases - {"PixpressError"} == set(named), "a class for no kind, or a kind without a class"


def test_options_errors_name_the_key():
    data = (CORPUS / "jpeg/hopper.jpg").read_bytes()
    with pytest.raises(ValueError, match="qualty"):
        pixpress.compress(data, qualty=80)
    with pytest.raises(pixpress.InvalidArgumentError, match="quality"):
        pixpress.compress(data, quality=101)
    out = pixpress.compress(data, format="jpeg", resize=(64, None), quality=70, progressive=False)
    assert out.size == (64, 64) and out.format == "jpeg"


def test_numpy_and_pillow_interop_round_trip(tmp_path):
    arr = np.asarray(Image.open(CORPUS / "png/hopper.png"))
    im = Image.fromarray(arr)
    assert im.mode == "RGB" and np.array_equal(np.asarray(im), arr)
    pil = im.to_pil()
    assert pil.mode == "RGB" and np.array_equal(np.asarray(pil), arr)
    back = Image.from_pil(PILImage.open(CORPUS / "png/tiny_palette_trns_xmp.png"))
    assert back.mode == "RGBA"
    gray16 = Image.fromarray(np.arange(64 * 32, dtype=np.uint16).reshape(32, 64) * 16)
    assert gray16.mode == "I;16" and gray16.size == (64, 32)
    gray16.save(tmp_path / "g.png")
    assert np.array_equal(np.asarray(PILImage.open(tmp_path / "g.png")), np.asarray(gray16))


def test_compress_file_is_atomic(tmp_path):
    dst = tmp_path / "out.webp"
    out = pixpress.compress_file(CORPUS / "jpeg/hopper.jpg", dst, format="webp")
    assert dst.stat().st_size == len(out)
    with pytest.raises(pixpress.TruncatedImageError):
        pixpress.compress_file(CORPUS / "bad/truncated.jpg", tmp_path / "bad.webp", format="webp")
    assert not (tmp_path / "bad.webp").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.webp"]


@pytest.mark.parametrize("rel", [r["path"] for r in GOOD if r["path"].split("/")[0] in ("jpeg", "png")])
def test_dpi_like_pillow(rel):
    """info["dpi"] matches Pillow's: JPEG JFIF density, else EXIF XResolution; PNG pHYs."""
    try:
        theirs = PILImage.open(CORPUS / rel).info.get("dpi")
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"Pillow cannot open it: {e}")
    ours = Image.open(CORPUS / rel).info.get("dpi")
    if theirs is None:
        assert ours is None
    else:
        assert ours is not None and tuple(map(float, ours)) == pytest.approx(tuple(map(float, theirs)), abs=0.01)


@pytest.mark.parametrize("rel", ["bad/truncated.png", "bad/truncated.jpg"])
def test_accept_truncated_like_pillow(rel):
    """With accept_truncated, what the data holds decodes as Pillow's LOAD_TRUNCATED_IMAGES decodes it."""
    from PIL import ImageFile

    data = (CORPUS / rel).read_bytes()
    with pytest.raises(pixpress.TruncatedImageError):
        pixpress.decode(data)
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        theirs = PILImage.open(io.BytesIO(data))
        theirs.load()
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    ours = Image.new_from_pixels(pixpress.decode(data, accept_truncated=True, orientation="keep"))
    compare(ours.to_pil(), theirs, 1.0, rel)


def first_scan(jpeg: bytes) -> int:
    """Offset of the first SOS marker, walking the marker segments (an EXIF
    thumbnail inside APP1 has scans of its own)."""
    at = 2
    while jpeg[at + 1] != 0xDA:
        at += 2 + int.from_bytes(jpeg[at + 2 : at + 4], "big")
    return at


HEADER_FILES = [r["path"] for r in GOOD if r["path"].split("/")[0] in ("jpeg", "webp") and "exif" in r["flags"]]


@pytest.mark.parametrize("rel", HEADER_FILES)
def test_info_read_from_headers_like_pillow(rel):
    """info's exif and icc_profile equal Pillow's, read before any decode: a copy
    cut short in its image data still gives them (as Pillow's open does), and
    the cut shows only when the pixels are loaded."""
    data = (CORPUS / rel).read_bytes()
    with PILImage.open(io.BytesIO(data)) as peer:
        expected = {k: peer.info.get(k) for k in ("exif", "icc_profile")}
        if peer.mode == "CMYK":
            expected["icc_profile"] = None  # converted to sRGB (README's table of differences)
        if rel.startswith("webp/") and not expected["exif"].startswith(b"Exif\0\0"):
            expected["exif"] = b"Exif\0\0" + expected["exif"]  # Pillow gives the chunk as stored
    cut = data
    if rel.startswith("jpeg/"):
        # Halfway through the first image's entropy-coded data.
        sos = first_scan(data)
        cut = data[: (sos + data.find(b"\xff\xd9", sos)) // 2]
    im = Image.open(cut)
    assert {k: im.info.get(k) for k in ("exif", "icc_profile")} == expected
    if cut is not data:
        with pytest.raises(pixpress.TruncatedImageError):
            im.load()


def test_header_metadata_matches_decoded_blocks():
    for rel in HEADER_FILES[:8]:
        data = (CORPUS / rel).read_bytes()
        pixels = pixpress.decode(data, orientation="keep")
        blocks = pixpress.header_metadata(data)
        assert blocks == {"exif": pixels.exif, "xmp": pixels.xmp, "iptc": pixels.iptc, "icc_profile": pixels.icc_profile}, rel
    # PNG's metadata comes only with a decode: None, so that a caller decodes once.
    assert pixpress.header_metadata((CORPUS / "png/RGBA_16_exif_xmp.png").read_bytes()) is None
