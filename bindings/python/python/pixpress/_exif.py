"""A small reader for the EXIF block pixpress hands out (the TIFF structure,
starting at its byte-order mark): IFD0 tags as Pillow's ``Image.Exif``
reports them, and the Orientation rewrite ``exif_transpose`` needs."""

from __future__ import annotations

import struct
from collections.abc import Iterator, MutableMapping
from fractions import Fraction
from typing import Any

EXIF_HEADER = b"Exif\x00\x00"
ORIENTATION = 0x0112
# type: (size, struct code)
_TYPES = {1: (1, "B"), 2: (1, "s"), 3: (2, "H"), 4: (4, "L"), 5: (8, "LL"), 6: (1, "b"), 7: (1, "s"),
          8: (2, "h"), 9: (4, "l"), 10: (8, "ll"), 11: (4, "f"), 12: (8, "d")}


def strip_header(block: bytes | None) -> bytes | None:
    """The TIFF structure of an EXIF block given with or without the ``Exif\\0\\0`` prefix."""
    if block is None:
        return None
    block = bytes(block)
    return block[len(EXIF_HEADER):] if block.startswith(EXIF_HEADER) else block


def _entries(tiff: bytes) -> Iterator[tuple[int, int, int, int, str]]:
    """(tag, type, count, offset of the value field, byte order) for each IFD0 entry."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "L", tiff, 4)
    if ifd + 2 > len(tiff):
        return
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    for i in range(count):
        at = ifd + 2 + 12 * i
        if at + 12 > len(tiff):
            return
        tag, kind, n = struct.unpack_from(order + "HHL", tiff, at)
        yield tag, kind, n, at + 8, order


def _value(tiff: bytes, kind: int, n: int, field: int, order: str) -> Any:
    size, code = _TYPES.get(kind, (1, "s"))
    total = size * n
    if total > 4:
        (field,) = struct.unpack_from(order + "L", tiff, field)
    raw = tiff[field:field + total]
    if len(raw) < total:
        return None
    if code == "s":
        return raw.rstrip(b"\x00").decode("latin-1") if kind == 2 else raw
    if code in ("LL", "ll"):
        nums = struct.unpack(order + code[0] * (2 * n), raw)
        vals = [Fraction(a, b) if b else Fraction(0) for a, b in zip(nums[::2], nums[1::2])]
        return [float(v) for v in vals] if n > 1 else float(vals[0])
    vals = struct.unpack(order + code * n, raw)
    return vals[0] if n == 1 else vals


class Exif(MutableMapping[int, Any]):
    """IFD0 tags of an EXIF block, by numeric tag id, as Pillow's ``Image.Exif``."""

    def __init__(self, block: bytes | None = None) -> None:
        self._tags: dict[int, Any] = {}
        tiff = strip_header(block) or b""
        for tag, kind, n, field, order in _entries(tiff):
            try:
                self._tags[tag] = _value(tiff, kind, n, field, order)
            except struct.error:
                continue

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


def with_orientation(block: bytes | None, value: int) -> bytes | None:
    """The EXIF block with its IFD0 Orientation (if any) set to ``value``."""
    tiff = strip_header(block)
    if not tiff:
        return block
    out = bytearray(tiff)
    for tag, kind, n, field, order in _entries(tiff):
        if tag == ORIENTATION and kind == 3 and n == 1:
            struct.pack_into(order + "H", out, field, value)
    return bytes(out)
