//! Status codes and the enums shared with C.

use engine::{ErrorKind, Format, Layout, Stage};
use std::ffi::{c_char, CString};
use std::sync::OnceLock;

/// The result of every call that can fail. Values are stable; new ones are
/// only appended.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum pxp_status {
    /// Success.
    PXP_OK = 0,
    /// A NULL or invalid argument, or an invalid option value.
    PXP_ERR_INVALID_ARGUMENT = 1,
    /// The input is not an image format pixpress knows, or is empty.
    PXP_ERR_UNSUPPORTED_FORMAT = 2,
    /// The input is malformed.
    PXP_ERR_CORRUPT = 3,
    /// The input ends before the image does.
    PXP_ERR_TRUNCATED = 4,
    /// A pixel or memory limit was exceeded (checked before allocating).
    PXP_ERR_LIMIT_EXCEEDED = 5,
    /// Reading or writing a file failed.
    PXP_ERR_IO = 6,
    /// The progress callback asked to stop.
    PXP_ERR_CANCELLED = 7,
    /// A quality or size target could not be met.
    PXP_ERR_TARGET_UNREACHABLE = 8,
    /// A bug or a panic inside pixpress or a codec.
    PXP_ERR_INTERNAL = 9,
    /// This build has no codec for the work (for example HEIC encoding).
    PXP_ERR_CODEC_UNAVAILABLE = 10,
    /// A metadata interceptor failed, panicked or left metadata that is not
    /// well-formed; nothing was written.
    PXP_ERR_INTERCEPTOR = 11,
}

/// The name of a status value as the header spells it (`"PXP_OK"`,
/// `"PXP_ERR_CORRUPT"`, ...; the same `code` Python and Node errors carry),
/// or `""` for a value this library does not know. The string is static.
#[no_mangle]
pub extern "C" fn pxp_status_name(status: u32) -> *const c_char {
    static NAMES: OnceLock<Vec<(u32, CString)>> = OnceLock::new();
    crate::boundary::value(c"".as_ptr(), || {
        let names = NAMES.get_or_init(|| {
            let errors = ErrorKind::ALL.into_iter().map(|kind| {
                let name = CString::new(kind.code()).expect("codes have no NUL");
                (pxp_status::from(kind) as u32, name)
            });
            std::iter::once((pxp_status::PXP_OK as u32, c"PXP_OK".to_owned()))
                .chain(errors)
                .collect()
        });
        names
            .iter()
            .find(|(value, _)| *value == status)
            .map_or(c"".as_ptr(), |(_, name)| name.as_ptr())
    })
}

impl From<ErrorKind> for pxp_status {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidArgument => pxp_status::PXP_ERR_INVALID_ARGUMENT,
            ErrorKind::UnsupportedFormat => pxp_status::PXP_ERR_UNSUPPORTED_FORMAT,
            ErrorKind::Corrupt => pxp_status::PXP_ERR_CORRUPT,
            ErrorKind::Truncated => pxp_status::PXP_ERR_TRUNCATED,
            ErrorKind::LimitExceeded => pxp_status::PXP_ERR_LIMIT_EXCEEDED,
            ErrorKind::Io => pxp_status::PXP_ERR_IO,
            ErrorKind::Cancelled => pxp_status::PXP_ERR_CANCELLED,
            ErrorKind::TargetUnreachable => pxp_status::PXP_ERR_TARGET_UNREACHABLE,
            ErrorKind::Internal => pxp_status::PXP_ERR_INTERNAL,
            ErrorKind::CodecUnavailable => pxp_status::PXP_ERR_CODEC_UNAVAILABLE,
            ErrorKind::Interceptor => pxp_status::PXP_ERR_INTERCEPTOR,
        }
    }
}

/// An image format. Functions that take one accept it as a `uint32_t`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum pxp_format {
    /// Not known (never returned for a successful call).
    PXP_FORMAT_UNKNOWN = 0,
    /// JPEG.
    PXP_FORMAT_JPEG = 1,
    /// PNG.
    PXP_FORMAT_PNG = 2,
    /// WebP.
    PXP_FORMAT_WEBP = 3,
    /// AVIF.
    PXP_FORMAT_AVIF = 4,
    /// HEIC/HEIF (decoding always; encoding only in builds with the opt-in x265 feature).
    PXP_FORMAT_HEIC = 5,
    /// GIF (decoding only).
    PXP_FORMAT_GIF = 6,
    /// TIFF (decoding only).
    PXP_FORMAT_TIFF = 7,
    /// BMP (decoding only).
    PXP_FORMAT_BMP = 8,
}

impl From<Format> for pxp_format {
    fn from(format: Format) -> Self {
        match format {
            Format::Jpeg => pxp_format::PXP_FORMAT_JPEG,
            Format::Png => pxp_format::PXP_FORMAT_PNG,
            Format::WebP => pxp_format::PXP_FORMAT_WEBP,
            Format::Avif => pxp_format::PXP_FORMAT_AVIF,
            Format::Heic => pxp_format::PXP_FORMAT_HEIC,
            Format::Gif => pxp_format::PXP_FORMAT_GIF,
            Format::Tiff => pxp_format::PXP_FORMAT_TIFF,
            Format::Bmp => pxp_format::PXP_FORMAT_BMP,
        }
    }
}

/// The engine's format for a `pxp_format` value given as an integer.
pub(crate) fn format_from_c(value: u32) -> Option<Format> {
    Format::ALL
        .into_iter()
        .find(|f| pxp_format::from(*f) as u32 == value)
}

/// The channels of a pixel, in memory order. 8-bit samples, or 16-bit samples
/// in native byte order where a call says so. Alpha is straight (not premultiplied).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum pxp_layout {
    /// One gray channel.
    PXP_LAYOUT_GRAY = 1,
    /// Gray then alpha.
    PXP_LAYOUT_GRAY_ALPHA = 2,
    /// Red, green, blue.
    PXP_LAYOUT_RGB = 3,
    /// Red, green, blue, alpha.
    PXP_LAYOUT_RGBA = 4,
}

impl From<Layout> for pxp_layout {
    fn from(layout: Layout) -> Self {
        match layout {
            Layout::Gray => pxp_layout::PXP_LAYOUT_GRAY,
            Layout::GrayAlpha => pxp_layout::PXP_LAYOUT_GRAY_ALPHA,
            Layout::Rgb => pxp_layout::PXP_LAYOUT_RGB,
            Layout::Rgba => pxp_layout::PXP_LAYOUT_RGBA,
        }
    }
}

/// The engine's layout for a `pxp_layout` value given as an integer.
pub(crate) fn layout_from_c(value: u32) -> Option<Layout> {
    [Layout::Gray, Layout::GrayAlpha, Layout::Rgb, Layout::Rgba]
        .into_iter()
        .find(|l| pxp_layout::from(*l) as u32 == value)
}

/// The stage a call is entering, as reported to a progress callback.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum pxp_stage {
    /// Sniffing, header parsing and decoding.
    PXP_STAGE_DECODE = 1,
    /// Orientation, resizing and sample conversion.
    PXP_STAGE_TRANSFORM = 2,
    /// Encoding and metadata writing.
    PXP_STAGE_ENCODE = 3,
    /// Finished; cancelling now discards the result.
    PXP_STAGE_DONE = 4,
}

impl From<Stage> for pxp_stage {
    fn from(stage: Stage) -> Self {
        match stage {
            Stage::Decode => pxp_stage::PXP_STAGE_DECODE,
            Stage::Transform => pxp_stage::PXP_STAGE_TRANSFORM,
            Stage::Encode => pxp_stage::PXP_STAGE_ENCODE,
            Stage::Done => pxp_stage::PXP_STAGE_DONE,
        }
    }
}
