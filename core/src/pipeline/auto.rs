//! `format=auto`: every candidate format searched for the target, and the
//! best file kept.

use super::encoding::encode_prepared;
use super::meta::{output_metadata, report_dropped_icc};
use super::stages::{edit_and_resize, prepare};
use super::{Candidate, Compressed, Timings};
use crate::codecs;
use crate::error::Result;
use crate::format::Format;
use crate::metadata::Metadata;
use crate::options::Options;
use crate::pixels::Image;
use crate::progress::{Reporter, Stage};
use crate::quality;
use crate::resize::ResizePlan;
use std::time::Instant;

/// The `format=auto` end of a compress or encode, in its transform stage:
/// resizes (by `plan`, or by one worked out from the image), then keeps the
/// best of the candidates ([`encode_auto`]), adding to `timings`.
pub(super) fn compress_auto(
    image: Image,
    plan: Option<ResizePlan>,
    origin: Origin,
    candidates: &[Format],
    options: &Options,
    progress: &mut Reporter,
    mut timings: Timings,
) -> Result<Compressed> {
    let started = Instant::now();
    let image = edit_and_resize(image, plan, options)?;
    timings.transform += started.elapsed();
    progress.enter(Stage::Encode)?;
    let encode_started = Instant::now();
    let mut out = encode_auto(image, origin, candidates, options)?;
    timings.encode = encode_started.elapsed();
    out.timings = timings;
    progress.enter(Stage::Done)?;
    Ok(out)
}

/// Where an image came from: its metadata, the input bytes when the call
/// had them (for the provenance record), and whether decoding dropped the
/// input's ICC profile (for the report).
#[derive(Clone, Copy)]
pub(super) struct Origin<'a> {
    pub(super) metadata: &'a Metadata,
    pub(super) input: Option<&'a [u8]>,
    pub(super) dropped_icc: bool,
}

/// The target `format=auto` meets when the options give none.
const AUTO_TARGET: quality::Target = quality::Target::Score {
    metric: quality::Metric::Ssimulacra2,
    min: 80.0,
};

/// `format=auto`: searches each candidate format for the target and keeps
/// the smallest file that meets it, preferring those that kept the search's
/// margin ([`SearchReport::beats`](crate::SearchReport::beats); for a size target, the best-scoring file
/// within it). Formats that would flatten an alpha channel the image uses
/// are passed over while another remains.
fn encode_auto(
    image: Image,
    origin: Origin,
    candidates: &[Format],
    options: &Options,
) -> Result<Compressed> {
    let mut options = options.clone();
    options.target.get_or_insert(AUTO_TARGET);
    let uses_alpha = image.layout.has_alpha() && image.uses_alpha();
    let keeps_alpha: Vec<Format> = candidates
        .iter()
        .copied()
        .filter(|f| codecs::keeps_alpha(*f))
        .collect();
    let candidates = if uses_alpha && !keeps_alpha.is_empty() {
        &keeps_alpha[..]
    } else {
        candidates
    };
    let mut tried = Vec::with_capacity(candidates.len());
    let mut best: Option<Compressed> = None;
    let mut last_error = None;
    for &format in candidates {
        let prepared = prepare(image.clone(), format, &options);
        // A format that cannot hold the size (WebP past 16383 a side) is
        // passed over, with the reason among the candidates, not the end.
        if let Err(e) = codecs::check_output_size(format, prepared.width, prepared.height) {
            tried.push(Candidate {
                format,
                result: Err(e.to_string()),
            });
            last_error = Some(e);
            continue;
        }
        let (metadata, mut metadata_report) = output_metadata(
            origin.metadata,
            &options,
            format,
            prepared.width,
            prepared.height,
            origin.input,
        )?;
        report_dropped_icc(&mut metadata_report, origin.dropped_icc);
        match encode_prepared(format, &prepared, &metadata, &options) {
            Ok((data, Some(search))) => {
                tried.push(Candidate {
                    format,
                    result: Ok(search.clone()),
                });
                let held = best.as_ref().and_then(|b| b.search.as_ref());
                if held.map_or(true, |held| search.beats(held)) {
                    let size = (prepared.width, prepared.height);
                    best = Some(Compressed {
                        search: Some(search),
                        ..Compressed::new(data, format, size, metadata_report)
                    });
                }
            }
            Ok((_, None)) => unreachable!("auto always sets a target"),
            Err(e) if e.kind() == crate::error::ErrorKind::TargetUnreachable => {
                tried.push(Candidate {
                    format,
                    result: Err(e.to_string()),
                });
                last_error = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    match best {
        Some(mut out) => {
            out.candidates = tried;
            Ok(out)
        }
        None => Err(last_error.expect("at least one candidate was tried")),
    }
}
