"""Pillow's ``ImageOps`` functions that pixpress implements."""

from __future__ import annotations

from ._pixpress import exif_with_orientation
from .Image import _EXIF_HEADER, _ORIENTATION, Image, _derived_with_info, _strip_exif_header

__all__ = ["exif_transpose"]


def exif_transpose(image: Image, *, in_place: bool = False) -> Image | None:
    """The image turned upright as its EXIF Orientation says, with the tag set
    to 1; a copy when there is nothing to do (``in_place``: changes ``image``)."""
    orientation = image.getexif().get(_ORIENTATION, 1)
    if orientation not in range(2, 9):
        return None if in_place else image.copy()
    pixels = image.load().transpose(orientation)
    exif = exif_with_orientation(_strip_exif_header(image.info["exif"]), 1)
    pixels = pixels.with_metadata(exif=exif)
    if in_place:
        image._set_pixels(pixels)
        image.info["exif"] = _EXIF_HEADER + exif
        return None
    return _derived_with_info(image, pixels, exif=_EXIF_HEADER + exif)
