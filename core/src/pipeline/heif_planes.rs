//! The HEIF planes path: HEIC or AVIF to JPEG with libheif's YCbCr 4:2:0
//! planes handed to the JPEG encoder as they are, without the round trip
//! through RGB.

use super::meta::output_metadata;
#[cfg(doc)]
use super::route::Route;
use super::stages::drops_profile;
use super::{Compressed, Timings};
use crate::codecs::{heif, jpeg};
use crate::error::Result;
use crate::format::Format;
use crate::metadata::Metadata;
use crate::options::Options;
use crate::progress::{Reporter, Stage};
use std::time::Instant;

/// HEIC or AVIF to JPEG without the round trip through RGB: libheif's
/// YCbCr 4:2:0 planes go to the JPEG encoder as they are
/// ([`jpeg::encode_ycbcr420`]), for a request [`Route::HeifPlanes`] serves
/// (no resize or target, 4:2:0 output), when the image needs no profile
/// conversion, the encoder writes it in one piece and the planes are what
/// JPEG codes ([`heif::decode_ycbcr420`]).
/// `None` when the call takes the pixel path.
pub(super) fn compress_ycbcr(
    input: &[u8],
    in_format: Format,
    options: &Options,
    progress: &mut Reporter,
    started: Instant,
) -> Result<Option<Compressed>> {
    let accepts = |width: u32, height: u32, metadata: &Metadata| {
        jpeg::encodes_whole(
            &options.encode_params(),
            u64::from(width) * u64::from(height),
        ) && !drops_profile(metadata, options)
    };
    let Some(decoded) = heif::decode_ycbcr420(in_format, input, options.max_pixels, accepts)?
    else {
        return Ok(None);
    };
    let decode = started.elapsed();
    progress.enter(Stage::Encode)?;
    let planes = decoded.planes();
    let (width, height) = (planes.width, planes.height);
    crate::codecs::check_output_size(Format::Jpeg, width, height)?;
    let (metadata, report) = output_metadata(
        &decoded.metadata,
        options,
        Format::Jpeg,
        width,
        height,
        Some(input),
    )?;
    let data = jpeg::encode_ycbcr420(&planes, &metadata, &options.encode_params())?;
    progress.enter(Stage::Done)?;
    let timings = Timings {
        decode,
        encode: started.elapsed() - decode,
        ..Timings::default()
    };
    Ok(Some(Compressed {
        timings,
        ..Compressed::new(data, Format::Jpeg, (width, height), report)
    }))
}
