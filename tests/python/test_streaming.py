"""JPEG to JPEG of a 48-megapixel photo goes through the streaming path
(rows decoded and encoded strip by strip): judged by Pillow, the output is
the whole image, a baseline JPEG with restart intervals (the striped
layout), close to the input's pixels, with the camera EXIF kept and checked
by exiftool. A rotated input is not streamed: it comes out turned upright
(and progressive). Memory is measured in BENCHMARKS.md (`make bench-stream`),
not here."""
import io
import json
import subprocess

import numpy as np
import pytest
from PIL import Image

import pixpress
from test_judged import CORPUS

Image.MAX_IMAGE_PIXELS = None
SIZE = (8000, 6000)  # 48 MP: the streaming threshold


@pytest.fixture(scope="module")
def big_jpeg():
    """The Canon 40D photo (with its EXIF) upscaled to 48 MP, stored as a sequential JPEG q90."""
    source = CORPUS / "jpeg" / "Canon_40D.jpg"
    with Image.open(source) as im:
        exif = im.info["exif"]
        big = im.convert("RGB").resize(SIZE, Image.BILINEAR)
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=90, exif=exif)
    return buf.getvalue(), np.asarray(big, dtype=np.int16)


def exif_of(data: bytes, tmp_path, name: str) -> dict:
    path = tmp_path / name
    path.write_bytes(data)
    out = subprocess.run(["exiftool", "-json", "-EXIF:all", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def test_a_48mp_recompression_is_streamed_whole_and_faithful(big_jpeg, tmp_path):
    data, pixels = big_jpeg
    out = pixpress.compress(data, format="jpeg", quality=80)
    assert (out.width, out.height) == SIZE
    result = bytes(out)
    with Image.open(io.BytesIO(result)) as im:
        assert im.size == SIZE
        assert not im.info.get("progressive")  # the striped layout is baseline
        decoded = np.asarray(im.convert("RGB"), dtype=np.int16)
    assert b"\xff\xdd\x00\x04" in result[: result.index(b"\xff\xda")]  # a DRI segment before the scan
    assert np.abs(decoded - pixels).mean() < 2.0
    assert len(result) < len(data)
    before, after = exif_of(data, tmp_path, "in.jpg"), exif_of(result, tmp_path, "out.jpg")
    for tag in ("Make", "Model", "DateTimeOriginal", "ExposureTime", "FNumber"):
        assert after[tag] == before[tag], tag


def test_a_rotated_48mp_photo_is_turned_upright_not_streamed(big_jpeg):
    data, pixels = big_jpeg
    rotated = bytes(pixpress.rewrite_metadata(data, metadata="keep", interceptor=lambda e: e.set("EXIF:IFD0:Orientation", "6")))
    # Progressive asked: a streamed encode would be baseline (striped).
    out = pixpress.compress(rotated, format="jpeg", quality=80, progressive=True)
    assert (out.width, out.height) == (SIZE[1], SIZE[0])
    with Image.open(io.BytesIO(bytes(out))) as im:
        assert im.size == (SIZE[1], SIZE[0])
        assert im.info.get("progressive")
        upright = np.asarray(im.convert("RGB"), dtype=np.int16)
    assert np.abs(upright - np.rot90(pixels, k=-1)).mean() < 2.0
