"""What the rate studies under bench/ share: the study photos, how one is loaded, bytes at a
score level, and the geometric mean of ratios."""
import io
import math
import os

from PIL import Image

CORPUS = os.environ.get("PIXPRESS_CORPUS", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpus"))
# The photos of the JPEG table study (core/benches/common/photos.rs).
PHOTOS = [
    "jpeg/xmp_test_adobergb.jpg", "jpeg/canon_hdr_NO.jpg", "jpeg/flickr_2569067123_aca715a2ee_o.jpg",
    "jpeg/jolla.jpg", "jpeg/gain-map.jpg", "jpeg/HMD_Nokia_8.3_5G.jpg", "jpeg/30-type_error.jpg",
    "jpeg/Olympus_E-P3_42_IndexError.jpg",
]


def photo(name: str, box: int) -> tuple[Image.Image, bytes]:
    """The study photo `name` as RGB fitted into `box` x `box` (Lanczos), and as PNG bytes."""
    image = Image.open(os.path.join(CORPUS, name)).convert("RGB")
    image.thumbnail((box, box), Image.LANCZOS)
    png = io.BytesIO()
    image.save(png, "PNG")
    return image, png.getvalue()


def bytes_at(points: list[tuple[int, float]], level: float) -> float | None:
    """Bytes at score `level` from (bytes, score) points sorted by score: log-bytes linear in
    score between the two points around it; None when no pair brackets it."""
    for (b0, s0), (b1, s1) in zip(points, points[1:]):
        if s0 <= level <= s1 and s1 > s0:
            t = (level - s0) / (s1 - s0)
            return math.exp(math.log(b0) + t * (math.log(b1) - math.log(b0)))
    return None


def change(ratios: list[float]) -> str:
    """The geometric mean of `ratios` as a signed change, with how many there were."""
    if not ratios:
        return "-"
    return f"{math.exp(sum(map(math.log, ratios)) / len(ratios)) - 1:+.1%} ({len(ratios)})"
