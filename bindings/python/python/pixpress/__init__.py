"""pixpress: fast image compression with Pillow's API.

Two ways in:

- ``pixpress.compress(data, format="webp", quality=80, resize=(1600, 1600))``
  takes any bytes-like object (read in place, without a copy) and returns an
  :class:`Output` whose bytes stay in library memory (``memoryview(out)``,
  ``out.write_to(path)``; ``bytes(out)`` makes the first copy).
- ``from pixpress import Image``: a Pillow-compatible subset (``Image.open``,
  ``thumbnail``, ``resize``, ``convert``, ``save``, ...), see the README.

Options are the core's vocabulary as keyword arguments, shared with the CLI,
the C ABI and Node. Decoding, resizing and encoding release the GIL.
"""

from __future__ import annotations

from . import errors
from ._pixpress import (
    OPTION_KEYS,
    Info,
    Output,
    Pixels,
    __version__,
    analyze,
    capabilities,
    compress,
    compress_file,
    decode,
    MetadataEdit,
    diff_metadata,
    metrics_prometheus,
    probe,
    read_metadata,
    header_metadata,
    restore_metadata,
    rewrite_metadata,
    score,
    set_memory_budget,
    set_buffer_pool_limit,
    stats,
)
from .errors import *  # noqa: F403
from .session import Session
from .watermark import Watermark, read_watermark

__all__ = [
    "compress",
    "compress_file",
    "probe",
    "decode",
    "score",
    "analyze",
    "read_metadata",
    "header_metadata",
    "read_watermark",
    "Watermark",
    "diff_metadata",
    "restore_metadata",
    "rewrite_metadata",
    "MetadataEdit",
    "stats",
    "capabilities",
    "metrics_prometheus",
    "set_memory_budget",
    "set_buffer_pool_limit",
    "Output",
    "Info",
    "Pixels",
    "Session",
    "OPTION_KEYS",
    "__version__",
    "Image",
    "ImageOps",
    *errors.__all__,
]


def __getattr__(name: str):
    # `pixpress.Image` and `pixpress.ImageOps` are modules, imported on first use.
    if name in ("Image", "ImageOps"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'pixpress' has no attribute {name!r}")
