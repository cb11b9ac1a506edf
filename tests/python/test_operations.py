"""The everyday operations (crop, rotate, transpose, flip and flop, flatten,
grayscale, the letterbox of fit=contain) judged by Pillow: pixpress.Image's
Pillow methods against Pillow's own on the same pixels, and the option
vocabulary's compress path against the same Pillow operations. (sharp judges
the sharp-style face in bindings/node/test/operations.test.js.)"""
import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps
from scipy.ndimage import binary_erosion

import pixpress
import pixpress.Image as PxImage
from pixpress.errors import InvalidArgumentError, LimitExceededError

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus"))


def png_bytes(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def sources() -> dict[str, Image.Image]:
    """Small images in each mode, decoded by Pillow: the same pixels go to both libraries."""
    photo = Image.open(CORPUS / "jpeg" / "30-type_error.jpg").convert("RGB")
    photo = photo.resize((401, 297), Image.Resampling.LANCZOS)
    rgba = Image.open(CORPUS / "png" / "transparent.png").convert("RGBA")
    gray = Image.open(CORPUS / "jpeg" / "hopper_gray.jpg").convert("L")
    return {"RGB": photo, "RGBA": rgba, "L": gray}


def ours(im: Image.Image) -> PxImage.Image:
    """The same pixels as a pixpress.Image, through a lossless PNG."""
    return PxImage.open(io.BytesIO(png_bytes(im)))


def pixels(im) -> np.ndarray:
    return np.asarray(im)


def decoded(out) -> Image.Image:
    """A pixpress output decoded by Pillow."""
    return Image.open(io.BytesIO(bytes(out)))


BOXES = [(10, 20, 110, 90), (-5, -7, 50, 40), (150, 100, 260, 330), (300, 300, 320, 310), (2.4, 3.6, 40.5, 50.49)]


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_crop_is_pillows_crop_pixel_for_pixel(sources, mode):
    im = sources[mode]
    for box in BOXES:
        want, got = im.crop(box), ours(im).crop(box)
        assert (got.width, got.height) == want.size, box
        assert np.array_equal(pixels(got), pixels(want)), box


ANGLES = [90, 180, 270, -90, 30, 45, -17.5, 123, 359.5]


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_rotate_nearest_is_pillows_pixel_for_pixel(sources, mode):
    im = sources[mode]
    fill = {"RGB": (51, 102, 153), "RGBA": (51, 102, 153, 128), "L": 77}[mode]
    for angle in ANGLES:
        for expand in (False, True):
            for fillcolor in (None, fill):
                want = im.rotate(angle, expand=expand, fillcolor=fillcolor)
                got = ours(im).rotate(angle, expand=expand, fillcolor=fillcolor)
                assert (got.width, got.height) == want.size, (angle, expand)
                assert np.array_equal(pixels(got), pixels(want)), (angle, expand, fillcolor)


def test_rotate_bilinear_is_pillows_inside_the_image(sources):
    """Bilinear sampling agrees within one level wherever all four neighbours
    lie inside the source; at the edges pixpress blends with the fill (as
    libvips) where Pillow cuts hard."""
    im = sources["RGB"]
    for angle in (30, -17.5, 123):
        want = pixels(im.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)).astype(int)
        got = pixels(ours(im).rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)).astype(int)
        assert got.shape == want.shape
        # Where the source covers the output, two pixels in from its edge.
        cover = pixels(Image.new("L", im.size, 255).rotate(angle, expand=True)) == 255
        inside = binary_erosion(cover, iterations=2)
        diff = np.abs(got - want)[inside]
        assert diff.max() <= 1, (angle, diff.max())
        assert inside.mean() > 0.4, "the compared part is most of the image"


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_transpose_is_pillows(sources, mode):
    im = sources[mode]
    for method in Image.Transpose:
        assert np.array_equal(pixels(ours(im).transpose(method)), pixels(im.transpose(method))), method


def test_convert_to_gray_is_pillows_luma_to_the_integer(sources):
    im = sources["RGB"]
    assert np.array_equal(pixels(ours(im).convert("L")), pixels(im.convert("L")))


def test_compress_options_are_pillows_operations(sources):
    """The option vocabulary (crop, flip, flop, rotate, grayscale) through
    compress, each output decoded by Pillow and compared with Pillow's
    operations on the same pixels, in the core's documented order."""
    im = sources["RGB"]
    data = png_bytes(im)
    T = Image.Transpose
    cases = [
        ({"crop": (37, 21, 200, 150)}, im.crop((37, 21, 237, 171))),
        ({"crop": "0,0,401,297"}, im),
        ({"flip": True}, im.transpose(T.FLIP_TOP_BOTTOM)),
        ({"flop": True}, im.transpose(T.FLIP_LEFT_RIGHT)),
        ({"rotate": 90}, im.transpose(T.ROTATE_270)),
        ({"rotate": -90}, im.transpose(T.ROTATE_90)),
        ({"rotate": 540}, im.transpose(T.ROTATE_180)),
        ({"grayscale": "luma"}, im.convert("L")),
        # Given in any order, applied as crop, flop, rotate, grayscale.
        ({"grayscale": "luma", "rotate": 270, "flop": True, "crop": (5, 6, 100, 50)},
         im.crop((5, 6, 105, 56)).transpose(T.FLIP_LEFT_RIGHT).transpose(T.ROTATE_90).convert("L")),
    ]
    for options, want in cases:
        got = decoded(pixpress.compress(data, format="png", **options))
        assert got.mode == want.mode, options
        assert np.array_equal(pixels(got), pixels(want)), options


def test_grayscale_luminance_weighs_linear_light(sources):
    """`grayscale=true` is the luminance of linear light (as libvips), not
    Pillow's luma: a saturated blue is darker, and white and gray stay put."""
    colors = [(0, 0, 255), (255, 255, 255), (128, 128, 128), (255, 0, 0)]
    swatch = Image.new("RGB", (4, 1))
    swatch.putdata(colors)
    got = pixels(decoded(pixpress.compress(png_bytes(swatch), format="png", grayscale=True)))[0]
    linear = lambda v: v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4  # noqa: E731
    encode = lambda y: 255 * (12.92 * y if y <= 0.0031308 else 1.055 * y ** (1 / 2.4) - 0.055)  # noqa: E731
    want = [round(encode(0.2126 * linear(r / 255) + 0.7152 * linear(g / 255) + 0.0722 * linear(b / 255)))
            for r, g, b in colors]
    assert list(got) == want


def test_flatten_composites_onto_the_background(sources):
    im = sources["RGBA"]
    got = decoded(pixpress.compress(png_bytes(im), format="png", flatten=True, background="#336699"))
    want = Image.alpha_composite(Image.new("RGBA", im.size, (0x33, 0x66, 0x99, 255)), im).convert("RGB")
    assert got.mode == "RGB"
    assert np.abs(pixels(got).astype(int) - pixels(want).astype(int)).max() <= 1


def test_contain_letterboxes_onto_the_background(sources):
    im = sources["RGB"]  # 401x297
    data = png_bytes(im)
    boxed = pixels(decoded(pixpress.compress(data, format="png", resize=(200, 200), fit="contain", background="#336699")))
    inside = pixels(decoded(pixpress.compress(data, format="png", resize=(200, 200), fit="inside")))
    assert boxed.shape == (200, 200, 3) and inside.shape == (148, 200, 3)
    # 52 rows of background: 26 above, 26 below (libvips' embed puts an odd one below).
    assert (boxed[:26] == (0x33, 0x66, 0x99)).all() and (boxed[174:] == (0x33, 0x66, 0x99)).all()
    assert np.array_equal(boxed[26:174], inside)
    # A transparent background keeps the bars transparent where the format has alpha.
    clear = decoded(pixpress.compress(data, format="png", resize=(200, 200), fit="contain", background="#00000000"))
    assert clear.mode == "RGBA" and pixels(clear)[:26, :, 3].max() == 0 and pixels(clear)[26:174, :, 3].min() == 255


def test_fit_exact_stretches_as_pillows_resize(sources):
    """`fit=exact` (sharp's `fill`) and the shim's `resize` stretch the whole
    image to the box, as Pillow's `resize` does; they used to crop it to the
    box's aspect ratio first."""
    im = sources["RGB"]  # 401x297
    want = pixels(im.resize((160, 90), Image.Resampling.LANCZOS)).astype(int)
    got = pixels(decoded(pixpress.compress(png_bytes(im), format="png", resize=(160, 90), fit="exact")))
    assert got.shape == want.shape
    # Two Lanczos3 implementations: a level apart on average; a crop would be ~13 apart.
    assert np.abs(got.astype(int) - want).mean() < 1.0
    shim = pixels(ours(im).resize((160, 90))).astype(int)
    assert np.abs(shim - want).mean() < 1.0
    # The streamed JPEG path stretches too.
    jpeg = io.BytesIO()
    im.save(jpeg, "JPEG", quality=95)
    streamed = pixels(decoded(pixpress.compress(jpeg.getvalue(), resize=(160, 90), fit="exact")).convert("RGB"))
    assert np.abs(streamed.astype(int) - want).mean() < 3.0


def test_crop_of_an_oriented_jpeg_is_in_upright_coordinates():
    data = (CORPUS / "jpeg" / "Landscape_6.jpg").read_bytes()
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    assert upright.size == (600, 450)
    got = decoded(pixpress.compress(data, format="png", crop=(400, 10, 150, 300)))
    want = upright.crop((400, 10, 550, 310))
    assert got.size == want.size
    # Two JPEG decoders (mozjpeg's, Pillow's libjpeg-turbo) may differ by a level or two.
    assert np.abs(pixels(got).astype(int) - pixels(want).astype(int)).max() <= 2


def test_an_edited_jpeg_is_never_the_input_returned():
    """`never_larger` returns the input only for the same content: a grayed
    or cropped JPEG is re-encoded even when that is larger."""
    data = (CORPUS / "jpeg" / "Landscape_6.jpg").read_bytes()
    for options in ({"grayscale": True}, {"crop": (0, 0, 600, 450)}, {"flip": True}):
        out = pixpress.compress(data, quality=100, **options)
        assert not out.unchanged, options
        assert bytes(out) != data
    assert decoded(pixpress.compress(data, grayscale=True)).mode == "L"


def test_grayscale_of_a_wide_gamut_photo_is_srgb_luminance_without_the_color_profile():
    """Gray pixels cannot carry an RGB profile: the colors are converted to
    sRGB (Pillow's ImageCms judges), grayed, and the profile is dropped and
    reported."""
    from PIL import ImageCms

    data = (CORPUS / "jpeg" / "xmp_test_adobergb.jpg").read_bytes()
    source = Image.open(io.BytesIO(data))
    assert source.info.get("icc_profile")
    out = pixpress.compress(data, format="png", grayscale="luma")
    got = decoded(out)
    assert not got.info.get("icc_profile")
    assert "ICC" in out.metadata["removed"]
    # Gray (oxipng may store it as a gray palette).
    rgb = pixels(got.convert("RGB"))
    assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()
    got = got.convert("L")
    profile = ImageCms.ImageCmsProfile(io.BytesIO(source.info["icc_profile"]))
    srgb = ImageCms.profileToProfile(source.convert("RGB"), profile, ImageCms.createProfile("sRGB"))
    want = pixels(srgb.convert("L")).astype(int)
    # lcms2 in both; their rounding and the two JPEG decoders differ by a few levels.
    assert np.abs(pixels(got).astype(int) - want).mean() < 1.0


def test_the_provenance_record_names_the_operations(sources):
    data = png_bytes(sources["RGB"])
    out = pixpress.compress(data, format="png", provenance=True, crop=(1, 2, 30, 40), rotate=90, flop=True)
    xmp = decoded(out).info.get("xmp") or b""
    xmp = xmp.decode() if isinstance(xmp, bytes) else xmp
    assert "crop=1,2,30,40" in xmp and "flop=true" in xmp and "rotate=90" in xmp


def test_rotate_keeps_pillows_mode_and_refuses_unknown_filters(sources):
    im = sources["RGB"]
    want = im.rotate(30, fillcolor=(255, 0, 0, 0))
    got = ours(im).rotate(30, fillcolor=(255, 0, 0, 0))
    assert got.mode == want.mode == "RGB"
    assert np.array_equal(pixels(got), pixels(want))
    with pytest.raises(ValueError):
        ours(im).rotate(30, resample=42)


def test_bad_operations_are_typed_errors(sources):
    data = png_bytes(sources["RGB"])
    for options, word in [
        ({"crop": (300, 200, 200, 200)}, "crop"),
        ({"crop": (0, 0, 0, 10)}, "crop"),
        ({"crop": "1,2,3"}, "crop"),
        ({"rotate": "nan"}, "rotate"),
        ({"grayscale": "sepia"}, "grayscale"),
        ({"fit": "letterbox"}, "fit"),
    ]:
        with pytest.raises(InvalidArgumentError, match=word):
            pixpress.compress(data, format="png", **options)
    jpeg = (CORPUS / "jpeg" / "Landscape_6.jpg").read_bytes()
    with pytest.raises(InvalidArgumentError, match="lossless"):
        pixpress.compress(jpeg, lossless=True, rotate=90)
    # A rotated canvas passes the pixel limit before it is allocated.
    with pytest.raises(LimitExceededError):
        pixpress.compress(data, format="png", rotate=45, max_pixels=401 * 297)
