//! Rate-quality analysis of one image: bytes against score for each output
//! format at several settings, and the Pareto front across them.

mod plot;

use crate::codecs;
use crate::error::Result;
use crate::format::Format;
use crate::options::Options;
use crate::pipeline::{decode, prepare};
use crate::quality::{score_encoded, trial_params, Metric, Target};
use rayon::prelude::*;
use serde::Serialize;

/// Quality settings tried for JPEG and WebP.
const JPEG_WEBP_QUALITIES: [u8; 10] = [30, 40, 50, 60, 70, 75, 80, 85, 90, 95];
/// Quality settings tried for AVIF and HEIC (slower encoders, flatter curves).
const AVIF_QUALITIES: [u8; 7] = [30, 40, 50, 60, 70, 80, 90];

/// One encode of the analysed image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatePoint {
    /// The output format (`jpeg`, `webp`, `avif`, `png`, ...).
    #[serde(serialize_with = "format_name")]
    pub format: Format,
    /// The encoder quality setting; `None` for lossless PNG.
    pub quality: Option<u8>,
    /// The encoded size.
    pub bytes: usize,
    /// The score of the decoded output against the analysed pixels
    /// (`null` in JSON for an infinite PSNR).
    pub score: f64,
    /// Whether no other point is both smaller and at least as good.
    pub pareto: bool,
}

fn format_name<S: serde::Serializer>(
    format: &Format,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(format.name())
}

/// What [`analyze`](crate::analyze) measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Width of the analysed pixels (after orientation and any `resize`).
    pub width: u32,
    /// Height of the analysed pixels.
    pub height: u32,
    /// The metric of every score.
    pub metric: Metric,
    /// Every encode, by format then quality.
    pub points: Vec<RatePoint>,
}

impl Analysis {
    /// The Pareto front: the points no other point beats on both bytes and
    /// score, smallest first.
    pub fn front(&self) -> Vec<&RatePoint> {
        let mut front: Vec<&RatePoint> = self.points.iter().filter(|p| p.pareto).collect();
        front.sort_by_key(|p| p.bytes);
        front
    }

    /// The analysis as one JSON document: `width`, `height`, `metric`,
    /// `points` (each with `format`, `quality`, `bytes`, `score`, `pareto`)
    /// and `front` (the Pareto points, smallest first).
    pub fn to_json(&self) -> String {
        let front = self.front();
        serde_json::json!({
            "width": self.width,
            "height": self.height,
            "metric": self.metric.name(),
            "points": self.points,
            "front": front,
        })
        .to_string()
    }
}

/// Encodes `input` (decoded, oriented and resized as `options` say) to each
/// format of `options.formats` at several quality settings (JPEG with the
/// tables a target search would use), plus lossless PNG, scores each output with the target's metric (SSIMULACRA2 unless the
/// `target` option names another) and marks the Pareto front.
pub(crate) fn analyze(input: &[u8], options: &Options) -> Result<Analysis> {
    let metric = match options.target {
        Some(Target::Score { metric, .. }) => metric,
        _ => Metric::default(),
    };
    let decoded = decode(input, options)?;
    let mut settings: Vec<(Format, Option<u8>)> = Vec::new();
    for &format in &options.formats {
        if !codecs::can_encode(format) || format == Format::Png {
            continue;
        }
        let qualities: &[u8] = match format {
            Format::Avif | Format::Heic => &AVIF_QUALITIES,
            _ => &JPEG_WEBP_QUALITIES,
        };
        settings.extend(qualities.iter().map(|&q| (format, Some(q))));
    }
    settings.push((Format::Png, None));
    let mut points = crate::parallel::run(|| {
        settings
            .into_par_iter()
            .map(|(format, quality)| {
                let mut params = trial_params(&options.encode_params(), format);
                params.quality = quality;
                params.lossless = quality.is_none();
                let image = prepare(decoded.image.clone(), format, options);
                let (metadata, _) = decoded.metadata.for_output(
                    &options.metadata,
                    format,
                    image.width,
                    image.height,
                );
                let data = codecs::encode(format, &image, &metadata, &params)?;
                let score = score_encoded(&image, &data, format, metric)?;
                Ok(RatePoint {
                    format,
                    quality,
                    bytes: data.len(),
                    score,
                    pareto: false,
                })
            })
            .collect::<Result<Vec<_>>>()
    })?;
    mark_front(&mut points);
    Ok(Analysis {
        width: decoded.image.width,
        height: decoded.image.height,
        metric,
        points,
    })
}

/// Marks the points that no other point beats: fewer or equal bytes with a
/// higher score, or fewer bytes with an equal score.
fn mark_front(points: &mut [RatePoint]) {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        points[a]
            .bytes
            .cmp(&points[b].bytes)
            .then(points[b].score.total_cmp(&points[a].score))
    });
    let mut best = f64::NEG_INFINITY;
    for i in order {
        if points[i].score > best {
            points[i].pareto = true;
            best = points[i].score;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(bytes: usize, score: f64) -> RatePoint {
        RatePoint {
            format: Format::Jpeg,
            quality: Some(50),
            bytes,
            score,
            pareto: false,
        }
    }

    #[test]
    fn front_keeps_only_undominated_points() {
        let mut points = vec![
            point(100, 50.0),
            point(200, 40.0), // dominated by the first
            point(300, 70.0),
            point(300, 60.0), // same size, lower score
            point(400, 70.0), // larger, no better
            point(500, 90.0),
        ];
        mark_front(&mut points);
        let marked: Vec<bool> = points.iter().map(|p| p.pareto).collect();
        assert_eq!(marked, [true, false, true, false, false, true]);
    }
}
