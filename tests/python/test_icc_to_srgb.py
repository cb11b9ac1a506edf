"""When a policy drops the ICC profile, pixels are converted to sRGB first, so
colors do not shift; judged against Pillow's ImageCms (LittleCMS) conversion
of the same input."""
import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

import pixpress

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus"))
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="needs the corpus")

# (file, mode): an Adobe RGB JPEG, a Display P3 PNG with alpha, a ColorMatch RGB PNG.
WIDE_GAMUT = [("jpeg/xmp_test_adobergb.jpg", "RGB"), ("png/p3_iccp.png", "RGBA"),
              ("png/xmp_tags_orientation_iccp.png", "RGBA")]


def pillow_srgb(path, mode):
    """Pillow's decode converted from the embedded profile to sRGB (perceptual)."""
    im = Image.open(path)
    im = im.convert(mode)
    icc = Image.open(path).info["icc_profile"]
    src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    out = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), renderingIntent=0, outputMode=mode)
    return np.asarray(out, dtype=np.int16)


@pytest.mark.parametrize("rel,mode", WIDE_GAMUT)
def test_dropping_the_profile_converts_to_srgb(rel, mode):
    path = CORPUS / rel
    data = path.read_bytes()
    out = pixpress.compress(data, format="png", metadata="keep,-icc", orientation="keep")
    assert "ICC" in out.metadata["removed"]
    got_image = Image.open(io.BytesIO(bytes(out)))
    assert "icc_profile" not in got_image.info
    got = np.asarray(got_image.convert(mode), dtype=np.int16)
    want = pillow_srgb(path, mode)
    assert got.shape == want.shape
    diff = np.abs(got - want)[..., :3]
    assert diff.mean() <= 1.0 and np.percentile(diff, 99.9) <= 4, (diff.mean(), diff.max())
    # The conversion did something: the unconverted samples are far off.
    raw = np.asarray(Image.open(path).convert(mode), dtype=np.int16)
    assert np.abs(raw - want)[..., :3].mean() > 2 * max(diff.mean(), 0.5)


def test_keeping_the_profile_keeps_the_samples():
    path = CORPUS / "jpeg/xmp_test_adobergb.jpg"
    out = pixpress.compress(path.read_bytes(), format="png")
    got = Image.open(io.BytesIO(bytes(out)))
    assert got.info["icc_profile"] == Image.open(path).info["icc_profile"]
    diff = np.abs(np.asarray(got.convert("RGB"), dtype=np.int16) - np.asarray(Image.open(path).convert("RGB"), dtype=np.int16))
    assert diff.mean() <= 1.0
