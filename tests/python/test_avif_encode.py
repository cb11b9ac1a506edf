"""AVIF outputs (libheif + aom) judged by Pillow's own AVIF plugin (libavif),
with the coded chroma subsampling and bit depth read from the file's `av1C`
box as the AV1 ISOBMFF binding defines it."""
import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import pixpress

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus"))
PHOTO = CORPUS / "jpeg" / "flickr_2569067123_aca715a2ee_o.jpg"
ALPHA = CORPUS / "png" / "transparent.png"


def av1_config(avif: bytes) -> dict:
    """Fields of the first `av1C` box: (ISO/IEC 14496-12 box, AV1-ISOBMFF 2.3.3)."""
    at = avif.index(b"av1C") + 4  # payload follows the type
    b1, b2 = avif[at + 1], avif[at + 2]
    return {
        "high_bitdepth": bool(b2 & 0x40),
        "monochrome": bool(b2 & 0x10),
        "subsampling": ((b2 >> 3) & 1, (b2 >> 2) & 1),
        "profile": b1 >> 5,
    }


def pillow_pixels(data: bytes, mode: str) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "AVIF"
        return np.asarray(im.convert(mode), dtype=np.int16)


@pytest.fixture(scope="module")
def photo() -> bytes:
    # 2725x2225 is slow to encode; a 900-wide resize keeps the content.
    return bytes(pixpress.compress(PHOTO.read_bytes(), format="png", resize=(900, None)))


@pytest.mark.parametrize(
    "subsampling, expect", [(None, (0, 0)), ("444", (0, 0)), ("422", (1, 0)), ("420", (1, 1))]
)
def test_subsampling_is_coded_as_asked(photo, subsampling, expect):
    options = {} if subsampling is None else {"subsampling": subsampling}
    out = bytes(pixpress.compress(photo, format="avif", quality=80, **options))
    config = av1_config(out)
    assert config["subsampling"] == expect
    assert not config["monochrome"] and not config["high_bitdepth"]
    reference = np.asarray(Image.open(io.BytesIO(photo)).convert("RGB"), dtype=np.int16)
    decoded = pillow_pixels(out, "RGB")
    assert decoded.shape == reference.shape
    assert np.abs(decoded - reference).mean() < 3.0


def test_ten_bit_output(photo):
    out = bytes(pixpress.compress(photo, format="avif", quality=80, bit_depth=10))
    assert av1_config(out)["high_bitdepth"]
    reference = np.asarray(Image.open(io.BytesIO(photo)).convert("RGB"), dtype=np.int16)
    assert np.abs(pillow_pixels(out, "RGB") - reference).mean() < 3.0


def test_alpha_survives():
    source = ALPHA.read_bytes()
    out = bytes(pixpress.compress(source, format="avif", quality=90))
    with Image.open(io.BytesIO(out)) as im:
        assert im.mode == "RGBA"
    reference = np.asarray(Image.open(io.BytesIO(source)).convert("RGBA"), dtype=np.int16)
    decoded = pillow_pixels(out, "RGBA")
    assert np.abs(decoded[..., 3] - reference[..., 3]).mean() < 2.0


def test_pillow_save_parameters(tmp_path, photo):
    from pixpress import Image as PxImage

    dst = tmp_path / "out.avif"
    with PxImage.open(photo) as im:
        im.save(dst, quality=70, speed=8)
    assert av1_config(dst.read_bytes())["subsampling"] == (1, 1)  # Pillow's default 4:2:0
    with PxImage.open(photo) as im:
        im.save(dst, quality=70, subsampling="4:4:4")
    assert av1_config(dst.read_bytes())["subsampling"] == (0, 0)
    with pytest.raises(pixpress.InvalidArgumentError):
        with PxImage.open(photo) as im:
            im.save(dst, subsampling="4:1:1")
