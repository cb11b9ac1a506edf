//! The plain objects calls resolve to: [`Output`] (an encoded image and what
//! was done to make it, with its [`SearchReport`], [`Candidate`]s and
//! [`MetadataReport`]), [`Analysis`] with its [`RatePoint`]s, and [`Info`]
//! (what a probe read), with their conversions from the core's types.

use engine::Compressed;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::collections::HashMap;

/// An encoded image. `data` is library memory handed to V8 without a copy.
#[napi(object)]
pub struct Output {
    /// The encoded file.
    pub data: Buffer,
    /// "jpeg", "png", "webp", "avif" or "heic".
    pub format: String,
    /// Width in pixels, as displayed.
    pub width: u32,
    /// Height in pixels, as displayed.
    pub height: u32,
    /// True when the input was returned unchanged because re-encoding would not shrink it.
    pub unchanged: bool,
    /// Frames of the input in the output: above 1 for an animated WebP (which may merge a frame identical to the one before).
    pub frames: u32,
    /// Frames of an animated input not written (the output format cannot animate, or `pages` kept fewer).
    pub frames_dropped: u32,
    /// What the search for the `target` option did; absent without one.
    pub search: Option<SearchReport>,
    /// What the metadata policy and the conversion removed or moved.
    pub metadata: MetadataReport,
    /// With `format: 'auto'`, every format tried, in order; empty otherwise.
    pub candidates: Vec<Candidate>,
}

/// One format `format: 'auto'` tried.
#[napi(object)]
pub struct Candidate {
    /// "jpeg", "webp", "avif", ...
    pub format: String,
    /// Its search, when it met the target.
    pub search: Option<SearchReport>,
    /// Why it could not meet the target.
    pub error: Option<String>,
}

/// What a search for the `target` option did and achieved.
#[napi(object)]
pub struct SearchReport {
    /// The target, as `metric=score` or `size=bytes`.
    pub target: String,
    /// The metric `score` is in: the target's, or "ssimulacra2" for a size target.
    pub metric: String,
    /// The returned file's score against the pixels before encoding.
    pub score: f64,
    /// The score searched for: the target plus the margin that keeps it for
    /// other scorers and decoders (the target's own when the format could
    /// reach no more; the score itself for lossless output and size targets).
    pub aim: f64,
    /// The returned file's size in bytes.
    pub bytes: u32,
    /// The encoder quality chosen; absent for lossless output.
    pub quality: Option<u32>,
    /// Encodes tried in all.
    pub trials: u32,
    /// Of those, encodes of the whole image (the rest ran on a tile mosaic).
    pub full_encodes: u32,
    /// Whether the search ran on a tile mosaic first.
    pub sampled: bool,
    /// Seconds the search took.
    pub seconds: f64,
    /// With the `tune` option, the value chosen for each tuned parameter (`{ subsampling: '444' }`).
    pub tuned: HashMap<String, String>,
}

impl From<Compressed> for Output {
    fn from(c: Compressed) -> Output {
        Output {
            format: c.format.name().to_string(),
            width: c.width,
            height: c.height,
            unchanged: c.unchanged,
            frames: c.frames,
            frames_dropped: c.frames_dropped,
            search: c.search.map(SearchReport::from),
            metadata: c.metadata.into(),
            candidates: c
                .candidates
                .into_iter()
                .map(|candidate| {
                    let (search, error) = match candidate.result {
                        Ok(search) => (Some(search.into()), None),
                        Err(error) => (None, Some(error)),
                    };
                    Candidate {
                        format: candidate.format.name().to_string(),
                        search,
                        error,
                    }
                })
                .collect(),
            data: Buffer::from(c.data),
        }
    }
}

impl From<engine::SearchReport> for SearchReport {
    fn from(s: engine::SearchReport) -> SearchReport {
        SearchReport {
            target: s.target.to_string(),
            metric: s.metric.name().to_string(),
            score: s.score,
            aim: s.aim,
            bytes: s.bytes as u32,
            quality: s.quality.map(u32::from),
            trials: s.trials,
            full_encodes: s.full_encodes,
            sampled: s.sampled,
            seconds: s.time.as_secs_f64(),
            tuned: s.tuned.into_iter().collect(),
        }
    }
}

/// One encode of an analysis.
#[napi(object)]
pub struct RatePoint {
    /// "jpeg", "webp", "avif" or "png".
    pub format: String,
    /// The encoder quality setting; absent for lossless PNG.
    pub quality: Option<u32>,
    /// The encoded size in bytes.
    pub bytes: u32,
    /// The decoded output's score against the analysed pixels.
    pub score: f64,
    /// True when no other point is both smaller and at least as good.
    pub pareto: bool,
}

impl From<&engine::RatePoint> for RatePoint {
    fn from(p: &engine::RatePoint) -> RatePoint {
        RatePoint {
            format: p.format.name().to_string(),
            quality: p.quality.map(u32::from),
            bytes: p.bytes as u32,
            score: p.score,
            pareto: p.pareto,
        }
    }
}

/// Bytes against score for each format at several settings.
#[napi(object)]
pub struct Analysis {
    /// Width of the analysed pixels (after orientation and any `resize`).
    pub width: u32,
    /// Height of the analysed pixels.
    pub height: u32,
    /// The metric of every score ("ssimulacra2" unless a score `target` names another).
    pub metric: String,
    /// Every encode, by format then quality.
    pub points: Vec<RatePoint>,
    /// The Pareto points, smallest first.
    pub front: Vec<RatePoint>,
    /// The curves and the front drawn as an SVG document.
    pub svg: String,
}

impl From<engine::Analysis> for Analysis {
    fn from(a: engine::Analysis) -> Analysis {
        Analysis {
            width: a.width,
            height: a.height,
            metric: a.metric.name().to_string(),
            points: a.points.iter().map(RatePoint::from).collect(),
            front: a.front().into_iter().map(RatePoint::from).collect(),
            svg: a.to_svg(),
        }
    }
}

/// What the metadata policy and the conversion did to one output.
#[napi(object)]
pub struct MetadataReport {
    /// Fields removed, as `EXIF:GPS:GPSLatitude`, `XMP:exif:GPSLatitude`, `IPTC:City`, `ICC`.
    pub removed: Vec<String>,
    /// Fields carried in another block, as `IPTC:City -> XMP:photoshop:City`.
    pub moved: Vec<String>,
    /// Fields kept with a new value, as a GPS position coarsened by `gps=1km`.
    pub changed: Vec<String>,
    /// With `restore_record: true`, what `restoreMetadata` needs to put back
    /// what was removed or changed; absent when nothing was.
    pub restore_record: Option<Buffer>,
}

impl From<engine::MetadataReport> for MetadataReport {
    fn from(r: engine::MetadataReport) -> MetadataReport {
        MetadataReport {
            removed: r.removed,
            moved: r.moved,
            changed: r.changed,
            restore_record: r.restore_record.map(Buffer::from),
        }
    }
}

/// Header facts about an image, read without decoding pixels.
#[napi(object)]
pub struct Info {
    /// The container format.
    pub format: String,
    /// Stored width in pixels (HEIF/AVIF: after irot/imir).
    pub width: u32,
    /// Stored height in pixels.
    pub height: u32,
    /// Bits per sample of the source.
    pub bit_depth: u32,
    /// Whether the image has alpha or transparency.
    pub has_alpha: bool,
    /// The EXIF orientation, 1-8.
    pub orientation: u32,
    /// Frames, pages or top-level images.
    pub frames: u32,
    /// Whether an EXIF block is present.
    pub has_exif: bool,
    /// Whether an XMP packet is present.
    pub has_xmp: bool,
    /// Whether an ICC profile is present.
    pub has_icc: bool,
    /// Whether IPTC data is present.
    pub has_iptc: bool,
    /// Stated resolution in pixels per inch `[x, y]` (JPEG JFIF, PNG pHYs), when given.
    pub dpi: Option<Vec<f64>>,
}
