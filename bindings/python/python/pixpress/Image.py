"""A Pillow-compatible subset over pixpress: ``from pixpress import Image``.

``Image.open`` reads the header only; pixels are decoded on first use (or by
``load()``), with the GIL released. See the package README for every
difference from Pillow.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterator, MutableMapping
from enum import IntEnum
from typing import IO, Any

from ._pixpress import Pixels, decode, exif_entries, header_metadata, probe
from .errors import InvalidArgumentError, UnsupportedFormatError

__all__ = ["Image", "open", "fromarray", "from_pil", "new_from_pixels", "Transpose", "Resampling", "Exif"]

#: The prefix of Pillow's ``info["exif"]`` before the TIFF structure.
_EXIF_HEADER = b"Exif\x00\x00"
#: IFD0's Orientation tag.
_ORIENTATION = 0x0112
#: The pointer tags Pillow's ``Exif.get_ifd`` takes, by the IFD core reads.
_IFD_POINTERS = {0x8769: "ExifIFD", 0x8825: "GPS", 0xA005: "InteropIFD"}


def _strip_exif_header(block: bytes | None) -> bytes | None:
    """The TIFF structure of an EXIF block given with or without Pillow's ``Exif\\0\\0`` prefix."""
    if block is None:
        return None
    block = bytes(block)
    return block[len(_EXIF_HEADER):] if block.startswith(_EXIF_HEADER) else block


class Exif(MutableMapping[int, Any]):
    """IFD0 tags of an EXIF block by numeric tag id, as Pillow's ``Image.Exif``
    (read by the core: ints, floats, str, bytes, tuples for several values)."""

    def __init__(self, block: bytes | None = None) -> None:
        self._tiff = _strip_exif_header(block) or b""
        self._tags: dict[int, Any] = dict(exif_entries(self._tiff)) if self._tiff else {}

    def get_ifd(self, tag: int) -> dict[int, Any]:
        """The tags of the IFD ``tag`` points to (0x8769 Exif, 0x8825 GPS, 0xA005 Interop); empty when absent."""
        name = _IFD_POINTERS.get(tag)
        return dict(exif_entries(self._tiff, name)) if name and self._tiff else {}

    def __getitem__(self, tag: int) -> Any:
        return self._tags[tag]

    def __setitem__(self, tag: int, value: Any) -> None:
        self._tags[tag] = value

    def __delitem__(self, tag: int) -> None:
        del self._tags[tag]

    def __iter__(self) -> Iterator[int]:
        return iter(self._tags)

    def __len__(self) -> int:
        return len(self._tags)

    def __repr__(self) -> str:
        return f"Exif({self._tags!r})"

#: Pillow's format names, by pixpress's.
_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF", "heic": "HEIF",
                "gif": "GIF", "tiff": "TIFF", "bmp": "BMP"}
#: File extensions to output formats, as Pillow's registry maps them.
_EXTENSIONS = {".jpg": "jpeg", ".jpeg": "jpeg", ".jpe": "jpeg", ".jfif": "jpeg", ".png": "png",
               ".webp": "webp", ".avif": "avif", ".heic": "heic", ".heif": "heic"}
_SUBSAMPLING = {0: "444", 1: "422", 2: "420", "4:4:4": "444", "4:2:2": "422", "4:2:0": "420",
                "keep": None, -1: None}


class Transpose(IntEnum):
    """Pillow's ``Image.Transpose`` values."""

    FLIP_LEFT_RIGHT = 0
    FLIP_TOP_BOTTOM = 1
    ROTATE_90 = 2
    ROTATE_180 = 3
    ROTATE_270 = 4
    TRANSPOSE = 5
    TRANSVERSE = 6


#: The EXIF orientation whose upright transform equals each Transpose method.
_TRANSPOSE_AS_ORIENTATION = {Transpose.FLIP_LEFT_RIGHT: 2, Transpose.ROTATE_180: 3, Transpose.FLIP_TOP_BOTTOM: 4,
                             Transpose.TRANSPOSE: 5, Transpose.ROTATE_270: 6, Transpose.TRANSVERSE: 7,
                             Transpose.ROTATE_90: 8}


class Resampling(IntEnum):
    """Pillow's ``Image.Resampling`` values; pixpress resamples with Lanczos3 whatever is asked."""

    NEAREST = 0
    LANCZOS = 1
    BILINEAR = 2
    BICUBIC = 3
    BOX = 4
    HAMMING = 5


FLIP_LEFT_RIGHT, FLIP_TOP_BOTTOM, ROTATE_90, ROTATE_180, ROTATE_270, TRANSPOSE, TRANSVERSE = list(Transpose)
NEAREST, LANCZOS, BILINEAR, BICUBIC, BOX, HAMMING = list(Resampling)


def _derived_with_info(image: "Image", pixels: Pixels, **info: Any) -> "Image":
    """A new Image over ``pixels`` with ``image``'s info updated by ``info``."""
    im = image._derived(pixels)
    im.info.update(info)
    return im


def _read(fp: Any) -> bytes | memoryview:
    """The bytes of a path, a binary file object, or a bytes-like object."""
    if isinstance(fp, (str, os.PathLike)):
        with io.open(fp, "rb") as f:
            return f.read()
    if hasattr(fp, "read"):
        return fp.read()
    try:
        return memoryview(fp)
    except TypeError:
        raise TypeError(f"expected a path, a file object or a bytes-like object, not {type(fp).__name__}") from None


class Image:
    """An image: header facts at once, pixels on first use."""

    def __init__(self) -> None:
        self._data: bytes | memoryview | None = None
        self._pixels: Pixels | None = None
        self._size: tuple[int, int] = (0, 0)
        self.format: str | None = None
        self._info: dict[str, Any] | None = {}
        self._dpi: tuple[float, float] | None = None
        self._frames: int = 1
        self.filename: str = ""

    @property
    def info(self) -> dict[str, Any]:
        """``exif`` (with Pillow's ``Exif\\0\\0`` prefix), ``icc_profile`` and ``xmp``,
        as Pillow fills them. Read from the headers on first access (JPEG, WebP,
        AVIF, HEIC; other formats are decoded), or from the pixels once loaded."""
        if self._info is None:
            blocks = header_metadata(self._data) if self._pixels is None and self._data is not None else None
            if blocks is not None:
                exif, icc_profile, xmp = blocks["exif"], blocks["icc_profile"], blocks["xmp"]
            else:
                pixels = self.load()
                exif, icc_profile, xmp = pixels.exif, pixels.icc_profile, pixels.xmp
            self._info = _metadata_info(exif, icc_profile, xmp)
            if self._dpi:
                self._info["dpi"] = self._dpi
        return self._info

    @info.setter
    def info(self, value: dict[str, Any]) -> None:
        self._info = value

    # --- header facts -----------------------------------------------------

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels, as stored (orientation not applied)."""
        return self._size

    @property
    def width(self) -> int:
        return self._size[0]

    @property
    def height(self) -> int:
        return self._size[1]

    @property
    def n_frames(self) -> int:
        """Frames of an animated GIF or WebP (1 for a still image); the pixels
        are the first frame's (no ``seek``), and ``pixpress.compress`` with
        ``format="webp"`` keeps the animation."""
        return self._frames

    @property
    def is_animated(self) -> bool:
        """Whether the image has more than one frame."""
        return self._frames > 1

    @property
    def mode(self) -> str:
        """``"L"``, ``"LA"``, ``"RGB"``, ``"RGBA"`` or ``"I;16"`` (decodes the pixels if not yet done)."""
        return self.load().mode

    # --- pixels -----------------------------------------------------------

    def load(self) -> Pixels:
        """Decodes the pixels (once) and returns them. Color above 8 bits is
        reduced to 8 with rounding, as Pillow's modes have no 16-bit color."""
        if self._pixels is None:
            if self._data is None:
                raise ValueError("Operation on closed image")
            self._set_pixels(decode(self._data, orientation="keep"))
        return self._pixels

    def _set_pixels(self, pixels: Pixels) -> None:
        if pixels.mode in ("RGB;16", "RGBA;16", "LA;16"):
            pixels = pixels.convert(pixels.mode.split(";")[0])
        self._pixels = pixels
        self._size = (pixels.width, pixels.height)

    def _derived(self, pixels: Pixels) -> Image:
        im = Image()
        im._set_pixels(pixels)
        im.format = None
        im.info = dict(self.info)
        return im

    def copy(self) -> Image:
        """A copy (pixels are immutable, so this shares them)."""
        im = self._derived(self.load())
        im.format = self.format
        return im

    def close(self) -> None:
        """Frees the encoded data and pixels."""
        self._data = None
        self._pixels = None

    def __enter__(self) -> Image:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = self._pixels.mode if self._pixels is not None else "?"
        return f"<pixpress.Image.Image mode={mode} size={self.width}x{self.height} format={self.format}>"

    # --- metadata ---------------------------------------------------------

    def getexif(self) -> Exif:
        """IFD0 tags of the EXIF block, by tag id (empty without EXIF)."""
        return Exif(self.info.get("exif"))

    # --- operations -------------------------------------------------------

    def thumbnail(self, size: tuple[float, float], resample: int | None = None, reducing_gap: float | None = 2.0) -> None:
        """Shrinks in place to fit ``size``, keeping the aspect ratio (never enlarges).
        An unloaded JPEG is shrunk while decoding, as Pillow's ``draft()`` does."""
        x, y = (math.floor(v) for v in size)
        width, height = self.size
        if x >= width and y >= height:
            return
        aspect = width / height
        def round_aspect(number: float, key: Any) -> int:
            return max(min(math.floor(number), math.ceil(number), key=key), 1)
        if x / y >= aspect:
            x = round_aspect(y * aspect, key=lambda n: abs(aspect - n / y))
        else:
            y = round_aspect(x / aspect, key=lambda n: 0 if n == 0 else abs(aspect - x / n))
        if self._pixels is None and self._data is not None:
            self._set_pixels(decode(self._data, orientation="keep", resize=(x, y), fit="exact"))
        else:
            self._set_pixels(self.load().resize(x, y))

    def resize(self, size: tuple[int, int], resample: int | None = None, box: Any = None, reducing_gap: float | None = None) -> Image:
        """A copy resampled to exactly ``size`` (Lanczos3)."""
        if box is not None:
            raise InvalidArgumentError("resize(box=...) is not supported")
        w, h = (int(v) for v in size)
        pixels = self.load()
        return self._derived(pixels if (w, h) == (pixels.width, pixels.height) else pixels.resize(w, h))

    def convert(self, mode: str | None = None, **kwargs: Any) -> Image:
        """A copy in ``mode``: ``"L"``, ``"LA"``, ``"RGB"`` or ``"RGBA"``
        (alpha is flattened onto white when dropped; color to gray is Pillow's
        Rec. 601 luma, to the same integer)."""
        if kwargs:
            raise InvalidArgumentError(f"convert({', '.join(kwargs)}=...) is not supported")
        pixels = self.load()
        return self._derived(pixels if mode in (None, pixels.mode) else pixels.convert(mode))

    def crop(self, box: tuple[float, float, float, float] | None = None) -> Image:
        """A copy of the ``(left, upper, right, lower)`` box (rounded, as
        Pillow); parts past the edges are zero (black, or transparent with alpha)."""
        pixels = self.load()
        if box is None:
            return self.copy()
        left, upper, right, lower = (int(round(v)) for v in box)
        if right < left or lower < upper:
            raise ValueError("Coordinate 'right' is less than 'left'" if right < left
                             else "Coordinate 'lower' is less than 'upper'")
        fill = (0, 0, 0, 0 if pixels.mode in ("LA", "RGBA") else 255)
        return self._derived(pixels.crop(left, upper, right - left, lower - upper, fill))

    def rotate(self, angle: float, resample: int = Resampling.NEAREST, expand: bool = False,
               center: Any = None, translate: Any = None, fillcolor: Any = None) -> Image:
        """A copy rotated ``angle`` degrees counter-clockwise about the centre, as
        Pillow: the size kept unless ``expand``; right angles exact; other angles
        by nearest neighbour (``NEAREST``, the default) or bilinearly (any other
        ``resample``); uncovered corners ``fillcolor`` (default black, or
        transparent with alpha)."""
        if center is not None or translate is not None:
            raise InvalidArgumentError("rotate(center=..., translate=...) is not supported")
        pixels = self.load()
        alpha = pixels.mode in ("LA", "RGBA")
        if fillcolor is None:
            fill = (0, 0, 0, 0 if alpha else 255)
        elif isinstance(fillcolor, int):
            if pixels.channels <= 2:
                fill = (fillcolor, fillcolor, fillcolor, 255)
            else:  # packed as Pillow stores a pixel: r | g << 8 | b << 16 | a << 24
                fill = tuple((fillcolor >> shift) & 255 for shift in (0, 8, 16)) + (
                    (fillcolor >> 24) & 255 if alpha else 255,)
        else:
            values = tuple(int(v) for v in fillcolor)
            if len(values) not in (3, 4):
                raise InvalidArgumentError(f"fillcolor {fillcolor!r} is not an int or (r, g, b[, a])")
            fill = values + (255,) if len(values) == 3 else values
        if resample not in set(Resampling):
            raise InvalidArgumentError(f"Unknown resampling filter ({resample!r})")
        if not alpha:
            fill = fill[:3] + (255,)  # Pillow ignores a fill's alpha on an image without alpha
        method = "nearest" if resample == Resampling.NEAREST else "bilinear"
        return self._derived(pixels.rotate(-angle, expand=bool(expand), resample=method, fill=fill))

    def transpose(self, method: int) -> Image:
        """A copy flipped or rotated by a ``Transpose`` method."""
        return self._derived(self.load().transpose(_TRANSPOSE_AS_ORIENTATION[Transpose(method)]))

    # --- NumPy and Pillow interop -----------------------------------------

    @property
    def __array_interface__(self) -> dict[str, Any]:
        pixels = self.load()
        shape = (pixels.height, pixels.width) if pixels.channels == 1 else (pixels.height, pixels.width, pixels.channels)
        return {"shape": shape, "typestr": "|u1" if pixels.bit_depth == 8 else "=u2", "data": pixels, "version": 3}

    def tobytes(self) -> bytes:
        """The packed pixels (a copy)."""
        return bytes(self.load())

    def to_pil(self) -> Any:
        """The same image as a ``PIL.Image.Image`` (needs Pillow), with ``info``."""
        from PIL import Image as PILImage

        pixels = self.load()
        im = PILImage.frombytes(pixels.mode, self.size, bytes(pixels))
        im.info.update(self.info)
        return im

    # --- saving -----------------------------------------------------------

    def save(self, fp: Any, format: str | None = None, **params: Any) -> None:
        """Encodes and writes to a path (atomically) or a binary file object.
        ``format`` (or the file name's extension) picks JPEG, PNG, WEBP, AVIF or
        HEIF; parameters keep Pillow's names and meanings, and, as in Pillow,
        only the metadata passed (``exif``, ``icc_profile``, ``xmp``) is written."""
        name = os.fspath(fp) if isinstance(fp, (str, os.PathLike)) else getattr(fp, "name", "")
        fmt = (format or "").lower() or _EXTENSIONS.get(os.path.splitext(str(name))[1].lower())
        fmt = {"jpg": "jpeg", "heif": "heic"}.get(fmt or "", fmt)
        if fmt not in ("jpeg", "png", "webp", "avif", "heic"):
            raise InvalidArgumentError(f"unknown or unsupported output format {format or name!r}")
        options, metadata = _save_options(fmt, params)
        pixels = self.load().with_metadata(
            exif=metadata.get("exif", b""), icc_profile=metadata.get("icc_profile", b""),
            xmp=metadata.get("xmp", b""), iptc=b"",
        )
        out = pixels.encode(format=fmt, never_larger=False, **options)
        if isinstance(fp, (str, os.PathLike)):
            out.write_to(fp)
        else:
            fp.write(memoryview(out))


def _save_options(fmt: str, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Core options and metadata blocks for Pillow's save parameters."""
    p = dict(params)
    options: dict[str, Any] = {}
    metadata: dict[str, bytes] = {}
    exif = p.pop("exif", None)
    if isinstance(exif, Exif):
        raise InvalidArgumentError("save(exif=Exif) is not supported yet; pass the bytes from info['exif']")
    if exif:
        metadata["exif"] = _strip_exif_header(exif)
    for key in ("icc_profile", "xmp"):
        value = p.pop(key, None)
        if value:
            metadata[key] = bytes(value)
    effort = p.pop("effort", None)  # pixpress's own knob
    if fmt == "jpeg":
        options["quality"] = p.pop("quality", 75)
        options["progressive"] = bool(p.pop("progressive", False) or p.pop("progression", False))
        optimize = bool(p.pop("optimize", False))  # Huffman tables optimized for the image: effort 1
        sub = p.pop("subsampling", -1)
        if sub not in _SUBSAMPLING:
            raise InvalidArgumentError(f"invalid option `subsampling`: {sub!r}")
        if _SUBSAMPLING[sub]:
            options["subsampling"] = _SUBSAMPLING[sub]
        options["effort"] = (1 if optimize else 0) if effort is None else effort
    elif fmt == "png":
        level = p.pop("compress_level", 6)
        optimize = p.pop("optimize", False)
        options["effort"] = effort if effort is not None else (6 if optimize else 0 if level <= 1 else 2 if level <= 6 else 4)
    elif fmt == "webp":
        options["quality"] = p.pop("quality", 80)
        options["lossless"] = bool(p.pop("lossless", False))
        method = p.pop("method", 4)
        if effort is not None:
            options["effort"] = effort
        else:
            options["webp_method"] = method
    elif fmt in ("avif", "heic"):
        options["quality"] = p.pop("quality", 75)
        speed = p.pop("speed", None)
        if effort is not None:
            options["effort"] = effort
        elif speed is not None:
            options["avif_speed"] = speed
        if fmt == "avif":
            subsampling = p.pop("subsampling", "4:2:0")
            if subsampling not in ("4:2:0", "4:2:2", "4:4:4"):
                raise InvalidArgumentError(f"AVIF subsampling {subsampling!r} is not 4:2:0, 4:2:2 or 4:4:4")
            options["subsampling"] = subsampling.replace(":", "")
    for ignored in ("dpi", "optimize", "exact", "minimize_size", "kmin", "kmax", "allow_mixed"):
        p.pop(ignored, None)
    if p:
        raise InvalidArgumentError(f"unsupported save parameter(s) for {fmt}: {', '.join(sorted(p))}")
    return options, metadata


def open(fp: Any, mode: str = "r", formats: Any = None) -> Image:  # noqa: A001 - Pillow's name
    """Opens an image from a path, a binary file object or bytes; reads the header only.
    Raises :class:`UnidentifiedImageError` (an ``OSError``) for data that is not an image."""
    if mode != "r":
        raise ValueError(f"bad mode {mode!r}")
    data = _read(fp)
    info = probe(data)
    im = Image()
    im._data = data
    im._size = info.size
    im.format = _PIL_FORMATS[info.format]
    im._frames = info.frames
    im.filename = os.fspath(fp) if isinstance(fp, (str, os.PathLike)) else getattr(fp, "name", "")
    # Metadata blocks come with the pixels: `info` is filled on first access.
    # JPEG gives integer dpi when stated in inches, as Pillow reports it.
    if info.dpi:
        im._dpi = tuple(int(v) if float(v).is_integer() and info.format == "jpeg" else v for v in info.dpi)
    elif info.format == "jpeg" and info.has_exif:
        im._dpi = (72, 72)  # Pillow's default for a JPEG whose EXIF states no usable resolution
    im._info = None if (info.has_exif or info.has_icc or info.has_xmp) else ({"dpi": im._dpi} if im._dpi else {})
    return im


def _metadata_info(exif: bytes | None, icc_profile: bytes | None, xmp: bytes | None) -> dict[str, Any]:
    """Pillow-style ``info`` entries for these metadata blocks."""
    info: dict[str, Any] = {}
    if exif:
        info["exif"] = _EXIF_HEADER + exif
    if icc_profile:
        info["icc_profile"] = icc_profile
    if xmp:
        info["xmp"] = xmp
    return info


def new_from_pixels(pixels: Pixels) -> Image:
    """An Image over native pixels."""
    im = Image()
    im._set_pixels(pixels)
    im.info = _metadata_info(pixels.exif, pixels.icc_profile, pixels.xmp)
    return im


_ARRAY_MODES = {(1, "u1"): "L", (2, "u1"): "LA", (3, "u1"): "RGB", (4, "u1"): "RGBA", (1, "u2"): "I;16"}


def fromarray(obj: Any, mode: str | None = None) -> Image:
    """An Image from a NumPy array (H x W, or H x W x 1-4; uint8, or uint16 gray)."""
    import numpy as np

    arr = np.ascontiguousarray(obj)
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    key = (channels, arr.dtype.str[1:])
    if arr.ndim not in (2, 3) or key not in _ARRAY_MODES:
        raise InvalidArgumentError(f"cannot make an image of a {arr.dtype} array of shape {arr.shape}")
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    raw = arr.reshape(-1).view(np.uint8)
    return new_from_pixels(Pixels.from_buffer(raw, arr.shape[1], arr.shape[0], _ARRAY_MODES[key]))


def from_pil(im: Any) -> Image:
    """An Image from a ``PIL.Image.Image`` (any mode; converted to L, LA, RGB, RGBA or I;16), with its metadata."""
    if im.mode not in ("L", "LA", "RGB", "RGBA", "I;16"):
        im = im.convert("RGBA" if "A" in im.getbands() or "transparency" in im.info else "RGB")
    pixels = Pixels.from_buffer(im.tobytes(), im.width, im.height, im.mode)
    exif = im.info.get("exif")
    pixels = pixels.with_metadata(exif=_strip_exif_header(exif) if exif else None,
                                  icc_profile=im.info.get("icc_profile") or None,
                                  xmp=im.info.get("xmp") or None)
    return new_from_pixels(pixels)
