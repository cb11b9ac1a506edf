//! The lossless path: JPEG to JPEG with the DCT coefficients kept
//! (`lossless=true`), the metadata rewritten by the rules of every path.

use super::meta::rewritten_metadata;
use super::{Compressed, Timings};
use crate::codecs::{self, jpeg};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::metadata::{MetadataPolicy, MetadataReport};
use crate::options::Options;
use std::time::Instant;

/// JPEG to JPEG without decoding the pixels: the coefficients re-encoded
/// ([`jpeg::optimize_lossless`]), then the metadata rewritten as
/// `rewrite_metadata` does. Refused for other input, and with a resize.
pub(super) fn optimize_jpeg(
    input: &[u8],
    in_format: Format,
    options: &Options,
    started: Instant,
) -> Result<Compressed> {
    if in_format != Format::Jpeg {
        return Err(Error::option(
            "lossless",
            format!("lossless JPEG output needs JPEG input, not {in_format}"),
        ));
    }
    if options.resize.is_some() {
        return Err(Error::option(
            "lossless",
            "lossless JPEG optimization cannot resize; drop `resize` or `lossless`",
        ));
    }
    if options.has_edits() {
        return Err(Error::option(
            "lossless",
            "lossless JPEG optimization keeps the pixels as stored; drop `lossless` to crop, rotate, flip, flop, flatten or grayscale",
        ));
    }
    let info = codecs::probe(in_format, input)?;
    let keep = options.metadata.keeps_everything();
    let data = jpeg::optimize_lossless(
        input,
        options.progressive.unwrap_or(true),
        keep,
        options.max_pixels,
    )?;
    // The same metadata rules as every other path (policy, provenance,
    // interceptor, restore record), applied as `rewrite_metadata` does: the
    // pixels are not turned, so the orientation stays.
    let untouched =
        keep && options.interceptor.is_none() && !options.provenance && !options.restore_record;
    let (data, report) = if untouched {
        (data, MetadataReport::default())
    } else {
        let (metadata, report) = rewritten_metadata(
            &jpeg::header_metadata(input, false)?,
            options,
            Format::Jpeg,
            (info.width, info.height),
            Some(input),
            false,
        )?;
        metadata.validate_blocks()?;
        let data = codecs::replace_metadata(Format::Jpeg, &data, &metadata, &MetadataPolicy::KEEP)?;
        (data, report)
    };
    let timings = Timings {
        encode: started.elapsed(),
        ..Timings::default()
    };
    Ok(Compressed {
        timings,
        ..Compressed::new(data, Format::Jpeg, (info.width, info.height), report)
    }
    .or_input(input, in_format, untouched, options))
}
