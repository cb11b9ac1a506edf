//! The session's strip path: a JPEG output the session's [`StripStore`]
//! wants striped is encoded strip by strip, its finished strips kept, so that
//! an interrupted encode resumes at the next strip.

use super::encoding::encode_prepared;
use crate::codecs::jpeg::strips::{encode_striped, StripStore};
use crate::error::Result;
use crate::format::Format;
use crate::metadata::Metadata;
use crate::options::Options;
use crate::pixels::Image;
use crate::quality::SearchReport;

/// Encodes the prepared `image` of a compress: into `strips` (see
/// [`encode_striped`]) when the store is given and wants this output (a JPEG
/// without a target, of a size it stripes), else by [`encode_prepared`].
pub(super) fn encode_output(
    strips: Option<&mut dyn StripStore>,
    out_format: Format,
    image: &Image,
    metadata: &Metadata,
    options: &Options,
) -> Result<(Vec<u8>, Option<SearchReport>)> {
    crate::codecs::check_output_size(out_format, image.width, image.height)?;
    let striped = strips.filter(|s| {
        out_format == Format::Jpeg && options.target.is_none() && s.wants(image.width, image.height)
    });
    match (striped, image.pixels_ref()) {
        (Some(store), Some(mut pixels)) => Ok((
            encode_striped(&mut pixels, metadata, &options.encode_params(), store)?,
            None,
        )),
        _ => encode_prepared(out_format, image, metadata, options),
    }
}
