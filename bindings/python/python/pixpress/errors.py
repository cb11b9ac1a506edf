"""Exceptions raised by pixpress, one class per core error kind.

Every class derives from :class:`PixpressError` and carries ``code``, the
stable name shared with the C ABI and Node (``"PXP_ERR_CORRUPT"``, ...).
Errors about unreadable input also derive from :class:`OSError`, as Pillow's
``UnidentifiedImageError`` does, so existing ``except OSError`` code keeps
working; invalid arguments also derive from :class:`ValueError`.
"""

from __future__ import annotations

__all__ = [
    "PixpressError",
    "InvalidArgumentError",
    "UnsupportedFormatError",
    "UnidentifiedImageError",
    "CorruptImageError",
    "TruncatedImageError",
    "LimitExceededError",
    "FileError",
    "CancelledError",
    "TargetUnreachableError",
    "CodecUnavailableError",
    "InterceptorError",
    "InternalError",
]


class PixpressError(Exception):
    """Base class of every pixpress error."""

    code: str = "PXP_ERR_INTERNAL"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class InvalidArgumentError(PixpressError, ValueError):
    """An option key or value, or another argument, is invalid. The message names the key."""

    code = "PXP_ERR_INVALID_ARGUMENT"


class UnsupportedFormatError(PixpressError, OSError):
    """The input is not an image format pixpress reads (or is empty)."""

    code = "PXP_ERR_UNSUPPORTED_FORMAT"


#: Pillow's name for the same condition.
UnidentifiedImageError = UnsupportedFormatError


class CorruptImageError(PixpressError, OSError):
    """The input is malformed."""

    code = "PXP_ERR_CORRUPT"


class TruncatedImageError(PixpressError, OSError):
    """The input ends before the image does (the ``accept_truncated`` option decodes what is there)."""

    code = "PXP_ERR_TRUNCATED"


class LimitExceededError(PixpressError):
    """The image is larger than ``max_pixels``; checked from the header before any allocation."""

    code = "PXP_ERR_LIMIT_EXCEEDED"


class FileError(PixpressError, OSError):
    """Reading or writing a file failed."""

    code = "PXP_ERR_IO"


class CancelledError(PixpressError):
    """The work was cancelled."""

    code = "PXP_ERR_CANCELLED"


class TargetUnreachableError(PixpressError):
    """A quality or size target cannot be met."""

    code = "PXP_ERR_TARGET_UNREACHABLE"


class CodecUnavailableError(PixpressError, OSError):
    """This build has no codec for the work (for example HEIC encoding)."""

    code = "PXP_ERR_CODEC_UNAVAILABLE"


class InterceptorError(PixpressError):
    """A metadata interceptor raised, or left metadata that is not well-formed; nothing was written."""

    code = "PXP_ERR_INTERCEPTOR"


class InternalError(PixpressError):
    """A bug, or a panic caught inside pixpress or a codec."""

    code = "PXP_ERR_INTERNAL"
