"""Typed stubs of the native module ``pixpress._pixpress``."""

from os import PathLike
from typing import Any, Callable, Final

from collections.abc import Buffer

__version__: Final[str]
OPTION_KEYS: Final[list[str]]
ERROR_CLASSES: Final[list[tuple[str, str]]]
"""Every error kind's ``PXP_ERR_*`` code and its :mod:`pixpress.errors` class name."""

OptionValue = str | int | float | bool | None | tuple[int | None, int | None] | Callable[[MetadataEdit], None]

class MetadataEdit:
    """The metadata about to be written, given to an ``interceptor=`` callable.

    Keys are ``BLOCK:group:Name`` as ``read_metadata`` lists them
    (``EXIF:IFD0:Artist``, ``XMP:dc:rights``, ``IPTC:City``). Edits are
    checked when the callable returns; raising fails the call with
    ``InterceptorError`` and writes nothing.
    """

    def fields(self) -> list[dict[str, str]]:
        """Every field, as ``read_metadata`` lists them."""
    def set(self, key: str, value: str) -> None:
        """Sets an EXIF text or integer field, an XMP simple property, or an IPTC dataset."""
    def remove(self, key: str) -> bool:
        """Removes a field (``"ICC"`` removes the profile); returns whether it was there."""
    @property
    def format(self) -> str:
        """The output format."""
    @property
    def size(self) -> tuple[int, int]:
        """The output size."""

class Output(Buffer):
    """An encoded image in library memory (buffer protocol; ``bytes(out)`` copies)."""

    @property
    def format(self) -> str: ...
    @property
    def extension(self) -> str:
        """The format's file name extension, without the dot (``jpg`` for JPEG)."""
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def size(self) -> tuple[int, int]: ...
    @property
    def unchanged(self) -> bool: ...
    @property
    def frames(self) -> int:
        """Frames of the input in the output: above 1 for an animated WebP (which may merge a frame identical to the one before)."""
    @property
    def frames_dropped(self) -> int:
        """Frames of an animated input not written (the output format cannot animate, or ``pages`` kept fewer)."""
    @property
    def timings(self) -> dict[str, float]: ...
    @property
    def search(self) -> dict[str, Any] | None:
        """What the search for the ``target`` option did (``score``, ``bytes``, ``quality``, ``trials``, ..., and ``tuned``: the values the ``tune`` option chose), or None."""
    @property
    def candidates(self) -> list[dict[str, Any]]:
        """With ``format="auto"``, every format tried: ``format`` and ``search`` or ``error``; else empty."""
    @property
    def metadata(self) -> dict[str, Any]:
        """What the metadata policy and the conversion did: ``removed`` (``EXIF:GPS:GPSLatitude``, ``XMP:exif:GPSLatitude``, ``IPTC:City``, ``ICC``), ``moved`` (``IPTC:City -> XMP:photoshop:City``), ``changed`` (values rewritten, as a coarsened GPS position) and ``restore_record`` (bytes for ``restore_metadata`` with ``restore_record=True``, else None)."""
    def write_to(self, path: str | PathLike[str]) -> None: ...
    def __len__(self) -> int: ...
    def __bytes__(self) -> bytes: ...
    def __buffer__(self, flags: int, /) -> memoryview: ...

class Info:
    """Header facts from ``probe``."""

    format: str
    width: int
    height: int
    bit_depth: int
    has_alpha: bool
    orientation: int
    frames: int
    has_exif: bool
    has_xmp: bool
    has_icc: bool
    has_iptc: bool
    dpi: tuple[float, float] | None
    @property
    def size(self) -> tuple[int, int]: ...

class Pixels(Buffer):
    """Decoded pixels with their metadata (buffer protocol over the samples)."""

    @staticmethod
    def from_buffer(data: Buffer, width: int, height: int, mode: str) -> Pixels: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def mode(self) -> str: ...
    @property
    def bit_depth(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def format(self) -> str | None: ...
    @property
    def exif(self) -> bytes | None: ...
    @property
    def xmp(self) -> bytes | None: ...
    @property
    def icc_profile(self) -> bytes | None: ...
    @property
    def iptc(self) -> bytes | None: ...
    def resize(self, width: int, height: int) -> Pixels: ...
    def transpose(self, orientation: int) -> Pixels: ...
    def convert(self, mode: str) -> Pixels: ...
    def crop(self, left: int, top: int, width: int, height: int, fill: tuple[int, int, int, int] = (0, 0, 0, 0)) -> Pixels:
        """The ``width`` x ``height`` region at ``left``, ``top``; ``fill`` (r, g, b, a) past the edges (alpha added when it is below 255)."""
    def rotate(
        self, degrees: float, *, expand: bool = True, resample: str = "bilinear", fill: tuple[int, int, int, int] = (0, 0, 0, 255)
    ) -> Pixels:
        """Rotated ``degrees`` clockwise: right angles exactly, others resampled (``"nearest"``, ``"bilinear"``) onto ``fill``; the canvas grows to hold the whole image when ``expand``."""
    def grayscale(self, method: str = "luminance") -> Pixels:
        """In gray, alpha kept: ``"luminance"`` (linear light, as libvips and sharp) or ``"luma"`` (Rec. 601, as Pillow's ``convert("L")``)."""
    def flatten(self, background: tuple[int, int, int] = (255, 255, 255)) -> Pixels:
        """Without alpha, composited onto ``background``."""
    def with_metadata(
        self,
        *,
        exif: bytes | None = None,
        xmp: bytes | None = None,
        icc_profile: bytes | None = None,
        iptc: bytes | None = None,
    ) -> Pixels: ...
    def encode(self, **options: OptionValue) -> Output: ...
    def __len__(self) -> int: ...
    def __buffer__(self, flags: int, /) -> memoryview: ...

def compress(data: Buffer, **options: OptionValue) -> Output: ...
def compress_file(src: str | PathLike[str], dst: str | PathLike[str], **options: OptionValue) -> Output: ...
def probe(data: Buffer) -> Info: ...
def read_watermark(
    data: Buffer, key: str | None = None
) -> tuple[str, int | None, bytes | None, bytes | None]:
    """The coefficient watermark: ``(state, time, source, data)``; see ``pixpress.read_watermark``."""
def decode(data: Buffer, **options: OptionValue) -> Pixels: ...
def read_metadata(data: Buffer) -> list[dict[str, str]]:
    """Every EXIF, XMP, IPTC and ICC field as stored: dicts of ``block``, ``group``, ``name``, ``value``."""
def header_metadata(data: Buffer) -> dict[str, bytes | None] | None:
    """The ``exif``, ``xmp``, ``iptc`` and ``icc_profile`` blocks as ``decode(data, orientation="keep")`` gives them, read from the headers without decoding pixels; None for the formats whose metadata only a decode gives (PNG, GIF, TIFF, BMP)."""
def rewrite_metadata(data: Buffer, **options: OptionValue) -> Output:
    """Applies ``metadata``, ``provenance``, ``restore_record`` and ``interceptor`` to an encoded JPEG, PNG or WebP without re-encoding pixels."""
def restore_metadata(data: Buffer, record: Buffer) -> Output:
    """Puts back the metadata a restore record holds into an encoded JPEG, PNG or WebP, without re-encoding pixels."""
def exif_entries(exif: bytes, ifd: str = "IFD0") -> list[tuple[int, int | float | str | bytes | tuple[int | float, ...]]]:
    """The ``(tag, value)`` entries of one IFD (``IFD0``, ``ExifIFD``, ``GPS``, ``InteropIFD``, ``IFD1``) of an EXIF block (the TIFF structure), in stored order, typed as Pillow's ``Image.Exif`` gives them."""
def exif_with_orientation(exif: bytes, orientation: int) -> bytes:
    """The EXIF block (the TIFF structure) with its IFD0 Orientation set to ``orientation`` (1-8) when it holds the tag."""
def diff_metadata(before: Buffer, after: Buffer) -> dict[str, list[Any]]:
    """Field-level difference: ``added``, ``removed`` (fields), ``changed``, ``moved`` ({"before", "after"} pairs)."""
def score(reference: Buffer, distorted: Buffer, metric: str = "ssimulacra2") -> float:
    """Scores ``distorted`` against ``reference`` with ``"ssimulacra2"``, ``"ssim"`` or ``"psnr"``."""

def analyze(data: Buffer, **options: OptionValue) -> dict[str, Any]:
    """Bytes against score for each of ``formats`` (default jpeg, webp, avif) at several settings and lossless PNG: ``width``, ``height``, ``metric``, ``points`` (``format``, ``quality``, ``bytes``, ``score``, ``pareto``), ``front`` and ``svg``."""

def capabilities() -> dict[str, Any]:
    """What this build decodes and encodes (probed from the linked libraries), and each library's name, version, license and role."""
def stats() -> dict[str, Any]:
    """Process-wide statistics of every compress and encode call: ``images``, ``bytes_in``, ``bytes_out``, ``in_flight``, ``errors`` (status name -> count), ``stages`` (name -> ``{"count", "seconds"}``), ``memory_budget``, ``memory_admitted``, ``memory_admitted_peak``, ``admission_waits``, ``pool`` (``hits``, ``misses``, ``held_bytes``, ``idle_releases``, ``limit_bytes``)."""
def set_buffer_pool_limit(bytes: int) -> None:
    """Bound on bytes the buffer pools hold (default 0: off; or ``PIXPRESS_POOL_BYTES``); 64 MiB suits two workers."""
def set_memory_budget(bytes: int | None) -> None:
    """Process-wide memory budget in bytes (``None``: none): calls wait, without the GIL, while admitting them would go over."""
def metrics_prometheus() -> str:
    """The statistics as Prometheus text exposition (names prefixed ``pixpress_``)."""

# The pieces of `pixpress batch` that pixpress.ray shares (see bindings/python/src/jobs.rs).
DEFAULT_NAMING: str
"""The default naming rule, ``{path}.{ext}``."""
DEFAULT_STRIP_PIXELS: int
"""JPEG outputs of at least this many pixels are encoded in strips by a batch."""

def plan_files(
    inputs: list[str],
    output: str,
    include: list[str] = ...,
    exclude: list[str] = ...,
    naming: str = ...,
    extension: str | None = None,
) -> list[dict[str, Any]]:
    """The batch planner's files: input, basis, in_output, code, error."""
def selects(relatives: list[str], include: list[str] = ..., exclude: list[str] = ...) -> list[bool]:
    """Whether a walk with these globs takes each relative path."""
def output_name(naming: str, basis: str | PathLike[str], ext: str) -> PathLike[str]:
    """The output path below the output directory, by the naming rule."""
def check_options(**options: OptionValue) -> tuple[list[tuple[str, str]], str | None]:
    """Checks options: their sorted ``(key, value)`` texts and the fixed output extension."""
def compress_as_batch(data: Buffer, strip_pixels: int = ..., **options: OptionValue) -> Output:
    """The bytes ``pixpress batch`` writes for ``data`` with these options."""
def input_hash(data: Buffer) -> str:
    """BLAKE3 of the content, hex: an input's identity."""
def output_checksum(data: Buffer) -> int:
    """CRC32C of the content: an output's integrity check."""
def write_planned_output(
    path: str | PathLike[str],
    data: Buffer,
    restore_record: Buffer | None = None,
    inputs: list[str] = ...,
) -> None:
    """Writes an output atomically (and its record beside it), never over one of ``inputs``."""

class Session:
    """The native half of pixpress.Session (see pixpress/session.py)."""
    def __init__(
        self,
        inputs: list[str],
        output: str,
        *,
        state: str | None = None,
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        naming: str | None = None,
        jobs: int = 0,
        **options: Any,
    ) -> None: ...
    @staticmethod
    def open(state_dir: str) -> Session: ...
    def status(self) -> dict[str, int]: ...
    def __len__(self) -> int: ...
    def run(self, progress: Callable[[dict[str, Any]], Any] | None = None) -> dict[str, int]: ...
    def cancel(self) -> None: ...
    def retry_failed(self) -> int: ...
    def failures(self) -> list[dict[str, str]]: ...
    def close(self) -> None: ...
