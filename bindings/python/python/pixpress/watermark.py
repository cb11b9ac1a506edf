"""The coefficient watermark of JPEG files, as Python values."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal, Optional

from . import _pixpress


@dataclass(frozen=True)
class Watermark:
    """What :func:`read_watermark` found: ``state`` is ``"found"``,
    ``"absent"`` or ``"damaged"``; the other fields are set only when found.
    True when found."""

    state: Literal["found", "absent", "damaged"]
    #: When the mark was made (UTC).
    time: Optional[datetime.datetime] = None
    #: The first 8 bytes of the BLAKE3 of the source the file was made from.
    source: Optional[bytes] = None
    #: The user data (``watermark_data``), at most 16 bytes.
    data: Optional[bytes] = None

    def __bool__(self) -> bool:
        return self.state == "found"


def read_watermark(data, key: Optional[str] = None) -> Watermark:
    """Reads the mark ``compress(..., watermark="on", watermark_key=key)``
    placed in a JPEG (any bytes-like object). A file of another format
    carries none; a damaged one is reported so, never guessed at."""
    state, seconds, source, payload = _pixpress.read_watermark(data, key)
    when = None if seconds is None else datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return Watermark(state, when, source, payload)
