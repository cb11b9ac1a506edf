//! Target search: the encoder quality setting that meets a [`Target`] with
//! the fewest bytes, verified on the returned file.
//!
//! A score target is searched over quality 1-100 by bracketing and
//! interpolating between the closest passing and failing settings, with
//! every trial cached. Scores are not monotone in the setting on every
//! image, so the answer is the smallest passing file among all trials, and a
//! setting just below the bracket is tried when the failing side came close.
//!
//! Large images are searched on a mosaic of tiles sampled across the range of
//! content complexity (flat sky to foliage), then encoded once in full and
//! verified; the offset between mosaic and full score recalibrates the
//! search when the first full encode misses.

use super::metric::{score_images, Metric};
use super::target::Target;
use crate::codecs::{self, DecodeRequest, EncodeParams};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::metadata::Metadata;
use crate::pixels::{Image, Samples};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The encoder parameters a trial encode of a search (or of an analysis)
/// at one quality setting runs with: the tables a search uses
/// ([`QuantTables::for_search`](crate::QuantTables::for_search)), and, for
/// JPEG, the search's effort unless one was given (a target is met with the
/// fewest bytes).
pub(crate) fn trial_params(params: &EncodeParams, format: Format) -> EncodeParams {
    let mut params = *params;
    params.tables = params.tables.for_search();
    if format == Format::Jpeg {
        params.effort.get_or_insert(codecs::jpeg::SEARCH_EFFORT);
    }
    params
}

/// What a target search did and achieved, reported with its output.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchReport {
    /// The target asked for.
    pub target: Target,
    /// The metric `score` is in: the target's, or SSIMULACRA2 for a size target.
    pub metric: Metric,
    /// The returned file's score against the pixels before encoding.
    pub score: f64,
    /// The score the search aimed at: the target's, raised by
    /// [`promise_margin`] so that other scorers and decoders also find the
    /// target met. Equal to the target's when no setting reaches the raised
    /// score but one reaches the target's own; equal to `score` for lossless
    /// output and for a size target, which are not searched for a score.
    pub aim: f64,
    /// Whether the file reaches the target plus its margin (lossless output
    /// always does; a size target's file counts as reaching it).
    kept_margin: bool,
    /// The returned file's size.
    pub bytes: usize,
    /// The encoder quality setting chosen; `None` for lossless output.
    pub quality: Option<u8>,
    /// Encodes tried in all (on the tile mosaic and in full).
    pub trials: u32,
    /// Of those, encodes of the whole image.
    pub full_encodes: u32,
    /// Whether the search ran on a tile mosaic before the full encode.
    pub sampled: bool,
    /// Time the search took.
    pub time: Duration,
    /// With the `tune` option, the value chosen for each tuned parameter
    /// (option key and value, as `("subsampling", "444")`).
    pub tuned: Vec<(String, String)>,
}

impl SearchReport {
    /// Whether this result beats `other` for their target: for a score
    /// target, one that reached the target plus its margin over one that did
    /// not, then fewer bytes; a higher score for a size target.
    pub fn beats(&self, other: &SearchReport) -> bool {
        match self.target {
            Target::Size { .. } => self.score > other.score,
            Target::Score { .. } => {
                let key = |r: &SearchReport| (r.kept_margin, std::cmp::Reverse(r.bytes));
                key(self) > key(other)
            }
        }
    }
}

/// Images above this many pixels are searched on a tile mosaic.
const SAMPLE_ABOVE_PIXELS: usize = 2_000_000;
/// Mosaic tile side: a multiple of JPEG's 16-pixel MCU and AVIF's 64-pixel superblock.
const TILE: u32 = 128;
/// Tiles in the mosaic (8 columns).
const MOSAIC_TILES: usize = 32;
const MOSAIC_COLUMNS: usize = 8;
/// Full encodes a sampled search may add to correct the mosaic's estimate.
const MAX_FULL_ENCODES: u32 = 4;

/// One encode at one setting.
struct Trial {
    data: Vec<u8>,
    score: f64,
}

/// Encodes `image` at settings asked for, scoring and caching each.
struct Trials<'a> {
    image: &'a Image,
    metadata: &'a Metadata,
    format: Format,
    params: EncodeParams,
    metric: Metric,
    /// Whether trials need a score (a size search scores only its answer).
    scored: bool,
    cache: BTreeMap<u8, Trial>,
    count: u32,
}

impl<'a> Trials<'a> {
    fn new(
        image: &'a Image,
        metadata: &'a Metadata,
        format: Format,
        params: &EncodeParams,
        target: Target,
    ) -> Self {
        let params = trial_params(params, format);
        let (metric, scored) = match target {
            Target::Score { metric, .. } => (metric, true),
            Target::Size { .. } => (Metric::default(), false),
        };
        Trials {
            image,
            metadata,
            format,
            params,
            metric,
            scored,
            cache: BTreeMap::new(),
            count: 0,
        }
    }

    fn get(&mut self, quality: u8) -> Result<&Trial> {
        if !self.cache.contains_key(&quality) {
            let mut params = self.params;
            params.quality = Some(quality);
            let data = codecs::encode(self.format, self.image, self.metadata, &params)?;
            self.count += 1;
            let score = if self.scored {
                score_encoded(self.image, &data, self.format, self.metric)?
            } else {
                f64::NAN
            };
            self.cache.insert(quality, Trial { data, score });
        }
        Ok(&self.cache[&quality])
    }

    fn score(&mut self, quality: u8) -> Result<f64> {
        Ok(self.get(quality)?.score)
    }

    fn len(&mut self, quality: u8) -> Result<usize> {
        Ok(self.get(quality)?.data.len())
    }
}

/// Decodes an encoded trial and scores it against the pixels it came from.
pub(crate) fn score_encoded(
    reference: &Image,
    data: &[u8],
    format: Format,
    metric: Metric,
) -> Result<f64> {
    let request = DecodeRequest {
        max_pixels: u64::MAX,
        accept_truncated: false,
        min_size: None,
    };
    let decoded = codecs::decode(format, data, &request)?;
    score_images(reference, &decoded.image, metric)
}

/// Encodes the prepared `image` to `format` so that it meets `target` with
/// the fewest bytes, and reports how.
pub(crate) fn encode_to_target(
    image: &Image,
    metadata: &Metadata,
    format: Format,
    params: &EncodeParams,
    target: Target,
) -> Result<(Vec<u8>, SearchReport)> {
    let started = Instant::now();
    let mut full = Trials::new(image, metadata, format, params, target);
    let metric = full.metric;
    let margin = match target {
        Target::Score { min, .. } => promise_margin(metric, format, min),
        Target::Size { .. } => 0.0,
    };
    let report = |data: &[u8], score, aim, quality, trials, full_encodes, sampled| SearchReport {
        target,
        metric,
        score,
        aim,
        kept_margin: match target {
            Target::Score { min, .. } => score >= min + margin,
            Target::Size { .. } => true,
        },
        bytes: data.len(),
        quality,
        trials,
        full_encodes,
        sampled,
        time: started.elapsed(),
        tuned: Vec::new(),
    };
    if !has_quality_setting(format, params) {
        // Lossless: one encode; it meets every score target.
        let data = codecs::encode(format, image, metadata, params)?;
        let score = score_encoded(image, &data, format, metric)?;
        check_met(target, data.len(), score, "lossless output")?;
        let mut report = report(&data, score, score, None, 1, 1, false);
        // The pixels themselves: no other decoder or scorer finds less.
        report.kept_margin = true;
        return Ok((data, report));
    }
    if let Target::Size { max_bytes } = target {
        let quality = search_size(&mut full, max_bytes)?;
        let trial = full
            .cache
            .remove(&quality)
            .expect("searched setting is cached");
        let score = score_encoded(image, &trial.data, format, metric)?;
        let report = report(
            &trial.data,
            score,
            score,
            Some(quality),
            full.count,
            full.count,
            false,
        );
        return Ok((trial.data, report));
    }
    let Target::Score { min: asked, .. } = target else {
        unreachable!("size targets returned above");
    };
    let min = asked + margin;
    let sampled = image.pixel_count() > SAMPLE_ABOVE_PIXELS;
    let mosaic_trials = if sampled {
        let mosaic = mosaic(image);
        let mut sample = Trials::new(&mosaic, metadata, format, params, target);
        let mut goal = min;
        let mut quality = search_score(&mut sample, goal)?;
        // Full encodes at the mosaic's answer, recalibrating by the offset
        // between full and mosaic scores until one passes.
        loop {
            let full_score = full.score(quality)?;
            if full_score >= min || full.count >= MAX_FULL_ENCODES || quality == 100 {
                break;
            }
            goal += min - full_score;
            let ceiling = sample.score(100)?;
            let next = search_score(&mut sample, goal.min(ceiling))?;
            quality = if next > quality { next } else { quality + 1 };
        }
        sample.count
    } else {
        search_score(&mut full, min)?;
        0
    };
    // The smallest file that reaches the aim; when none does (the format's
    // best falls between the target and the aim), the smallest that reaches
    // the target itself, searched for on whole images (a rare case: targets
    // near the format's best).
    let smallest_reaching = |full: &Trials, aim: f64| {
        full.cache
            .iter()
            .filter(|(_, t)| t.score >= aim)
            .min_by_key(|(_, t)| t.data.len())
            .map(|(q, t)| (*q, t.score, aim))
    };
    let chosen = match smallest_reaching(&full, min) {
        Some(chosen) => Some(chosen),
        None => {
            // The mosaic's loop may have stopped at its budget below 100.
            if full.score(100)? >= min {
                search_score(&mut full, min)?;
            } else if margin > 0.0 {
                search_score(&mut full, asked)?;
            }
            smallest_reaching(&full, min).or_else(|| smallest_reaching(&full, asked))
        }
    };
    let (best_quality, best, aim) = chosen.ok_or_else(|| unreachable_error(target, &full))?;
    let trial = full
        .cache
        .remove(&best_quality)
        .expect("chosen from the cache");
    let report = report(
        &trial.data,
        best,
        aim,
        Some(best_quality),
        mosaic_trials + full.count,
        full.count,
        sampled,
    );
    Ok((trial.data, report))
}

/// How far above a score target a search aims, so that the target holds
/// when the file is decoded by the format's reference decoder and scored by
/// another implementation of the metric, not only by pixpress's.
///
/// For SSIMULACRA2: 0.5% of the target, the agreement `core/tests/quality.rs`
/// holds pixpress's scorer to against the `ssimulacra2` crate (rust-av's
/// port of libjxl's tool); measured 0.05-0.21 points at 80 on six study
/// photos, and 0.51% once, at 86 without trellis. For AVIF 0.6 more: what
/// avifdec's 8-bit output (libyuv's fixed-point YCbCr to RGB, as browsers
/// convert) cost against libheif's exact conversion on those photos, up to
/// 0.51 (`bench/target_promise.py`); HEIC is given AVIF's, unmeasured (the
/// default build encodes no HEIC). djpeg and dwebp decode to pixpress's
/// pixels. SSIM and PSNR aim at the target itself.
pub fn promise_margin(metric: Metric, format: Format, target: f64) -> f64 {
    if metric != Metric::Ssimulacra2 {
        return 0.0;
    }
    let decoder = match format {
        Format::Avif | Format::Heic => 0.6,
        _ => 0.0,
    };
    0.005 * target.abs() + decoder
}

/// Whether `format` (with these parameters) has a quality setting to search.
fn has_quality_setting(format: Format, params: &EncodeParams) -> bool {
    matches!(
        format,
        Format::Jpeg | Format::WebP | Format::Avif | Format::Heic
    ) && !params.lossless
}

fn check_met(target: Target, bytes: usize, score: f64, what: &str) -> Result<()> {
    if target.is_met(bytes, score) {
        return Ok(());
    }
    Err(Error::TargetUnreachable {
        target: target.to_string(),
        best: format!("{what}: {bytes} bytes scoring {score:.3}"),
    })
}

fn unreachable_error(target: Target, trials: &Trials) -> Error {
    let best = trials
        .cache
        .iter()
        .max_by(|a, b| a.1.score.total_cmp(&b.1.score))
        .map(|(q, t)| {
            format!(
                "quality {q}: {} bytes scoring {:.3} by {}",
                t.data.len(),
                t.score,
                trials.metric
            )
        })
        .unwrap_or_else(|| "no trial".into());
    Error::TargetUnreachable {
        target: target.to_string(),
        best,
    }
}

/// The lowest quality setting whose score reaches `min` (the highest tried,
/// 100, when none does; the caller checks).
fn search_score(trials: &mut Trials, min: f64) -> Result<u8> {
    // `fail` is a setting known to miss (0 stands for "below the range"),
    // `pass` one known to meet (101 for "above the range").
    let (mut fail, mut pass) = (0u8, 101u8);
    let prior = prior_quality(trials.format, trials.metric, min);
    let mut quality = prior.map_or(75, |q| (q.round() as u8).clamp(1, 100));
    loop {
        if trials.score(quality)? >= min {
            pass = quality;
        } else {
            fail = quality;
        }
        if pass - fail <= 1 {
            break;
        }
        quality = next_setting(trials, fail, pass, min)?;
    }
    // Guard against a non-monotone score: when the failing side came close,
    // the setting below it may still pass.
    if (1..=100).contains(&fail) && fail > 1 && pass <= 100 {
        let near = (min - trials.score(fail)?).abs() <= 0.01 * min.abs().max(1.0);
        if near && trials.score(fail - 1)? >= min {
            pass = fail - 1;
        }
    }
    Ok(pass.min(100))
}

/// The next setting to try inside the open bracket (`fail`, `pass`):
/// interpolated on the scores at its ends when both are real settings;
/// otherwise extrapolated along the image's own slope between the two
/// nearest settings tried on the known side, or along [`prior_quality`]'s
/// curve shifted through the one setting tried, or halfway to the end of
/// the range for a metric without a prior.
fn next_setting(trials: &mut Trials, fail: u8, pass: u8, min: f64) -> Result<u8> {
    let (lo, hi) = (fail + 1, pass - 1);
    let guess = if fail >= 1 && pass <= 100 {
        let (s_fail, s_pass) = (trials.score(fail)?, trials.score(pass)?);
        if s_pass > s_fail {
            let t = (min - s_fail) / (s_pass - s_fail);
            f64::from(fail) + t * f64::from(pass - fail)
        } else {
            (f64::from(fail) + f64::from(pass)) / 2.0
        }
    } else {
        // One side only: move along the prior curve, shifted to pass
        // through the setting tried; halfway to the end without a prior.
        let known = if pass > 100 { fail } else { pass };
        let score = trials.score(known)?;
        let (format, metric) = (trials.format, trials.metric);
        // Once a second setting was tried on the same side (farther from
        // the target), the image's own slope between the two leads instead.
        let farther = trials
            .cache
            .iter()
            .map(|(&q, t)| (q, t.score))
            .filter(|&(q, s)| q != known && (s >= min) == (score >= min))
            .filter(|&(q, s)| (s - score) * (f64::from(q) - f64::from(known)) > 0.0)
            .min_by_key(|&(q, _)| q.abs_diff(known));
        match (
            prior_quality(format, metric, min),
            prior_quality(format, metric, score),
        ) {
            _ if farther.is_some() => {
                let (q, s) = farther.expect("checked above");
                let slope = (s - score) / (f64::from(q) - f64::from(known));
                f64::from(known) + (min - score) / slope
            }
            (Some(there), Some(here)) => f64::from(known) + there - here,
            _ if pass > 100 => (f64::from(fail) + 100.0) / 2.0,
            _ => f64::from(pass) / 2.0,
        }
    };
    Ok((guess.ceil() as u8).clamp(lo, hi))
}

/// The quality setting at which a typical photo reaches `score`: for
/// SSIMULACRA2, the median of the settings the searches chose for the
/// eight study photos fitted into 1024 px (`bench/study.py`; AVIF's serves
/// HEIC), linear between them. A search starts there and steps along it
/// until it has settings on both sides of the target.
fn prior_quality(format: Format, metric: Metric, score: f64) -> Option<f64> {
    // (score, setting) points, by score.
    const JPEG: [(f64, f64); 6] = [
        (20.0, 5.0),
        (60.0, 41.5),
        (70.0, 64.5),
        (80.0, 85.5),
        (90.0, 97.0),
        (100.0, 100.0),
    ];
    const WEBP: [(f64, f64); 6] = [
        (20.0, 5.0),
        (60.0, 48.5),
        (70.0, 77.0),
        (80.0, 88.5),
        (90.0, 97.0),
        (100.0, 100.0),
    ];
    const AVIF: [(f64, f64); 6] = [
        (20.0, 5.0),
        (60.0, 43.5),
        (70.0, 53.5),
        (80.0, 71.5),
        (90.0, 93.0),
        (100.0, 100.0),
    ];
    if metric != Metric::Ssimulacra2 {
        return None;
    }
    let curve = match format {
        Format::Jpeg => &JPEG,
        Format::WebP => &WEBP,
        Format::Avif | Format::Heic => &AVIF,
        _ => return None,
    };
    let score = score.clamp(curve[0].0, curve[curve.len() - 1].0);
    let at = curve.windows(2).find(|w| score <= w[1].0)?;
    let ((s0, q0), (s1, q1)) = (at[0], at[1]);
    Some(q0 + (score - s0) / (s1 - s0) * (q1 - q0))
}

/// The highest quality setting whose file fits `max_bytes`.
fn search_size(trials: &mut Trials, max_bytes: u64) -> Result<u8> {
    let fits = |len: usize| len as u64 <= max_bytes;
    let (mut fit, mut over) = (0u8, 101u8);
    let mut quality = 75u8;
    loop {
        if fits(trials.len(quality)?) {
            fit = quality;
        } else {
            over = quality;
        }
        if over - fit <= 1 {
            break;
        }
        let (lo, hi) = (fit + 1, over - 1);
        let guess = if fit >= 1 && over <= 100 {
            // Bytes grow roughly exponentially with the setting: interpolate on log size.
            let (a, b) = (trials.len(fit)? as f64, trials.len(over)? as f64);
            let t = ((max_bytes as f64).ln() - a.ln()) / (b.ln() - a.ln()).max(1e-9);
            f64::from(fit) + t * f64::from(over - fit)
        } else if over > 100 {
            (f64::from(fit) + 100.0) / 2.0
        } else {
            f64::from(over) / 2.0
        };
        quality = (guess.floor() as u8).clamp(lo, hi);
    }
    if fit == 0 {
        let smallest = trials.len(1)?;
        return Err(Error::TargetUnreachable {
            target: Target::Size { max_bytes }.to_string(),
            best: format!("quality 1 gives {smallest} bytes"),
        });
    }
    Ok(fit)
}

/// A mosaic of `MOSAIC_TILES` tiles of `image`, chosen at evenly spaced
/// quantiles of content complexity (mean absolute luma gradient).
fn mosaic(image: &Image) -> Image {
    let (cols, rows) = (image.width / TILE, image.height / TILE);
    let mut tiles: Vec<(f64, u32, u32)> = (0..rows)
        .flat_map(|ty| (0..cols).map(move |tx| (tx, ty)))
        .map(|(tx, ty)| (tile_complexity(image, tx * TILE, ty * TILE), tx, ty))
        .collect();
    tiles.sort_by(|a, b| a.0.total_cmp(&b.0));
    let picked: Vec<(u32, u32)> = (0..MOSAIC_TILES)
        .map(|i| {
            let at = ((i as f64 + 0.5) / MOSAIC_TILES as f64 * tiles.len() as f64) as usize;
            let (_, tx, ty) = tiles[at.min(tiles.len() - 1)];
            (tx * TILE, ty * TILE)
        })
        .collect();
    let channels = image.layout.channels();
    let mosaic_rows = MOSAIC_TILES.div_ceil(MOSAIC_COLUMNS);
    let (width, height) = (MOSAIC_COLUMNS as u32 * TILE, mosaic_rows as u32 * TILE);
    let samples = match &image.samples {
        Samples::U8(src) => {
            let mut dst = crate::buffer_pool::zeroed(width as usize * height as usize * channels);
            copy_tiles(src, &mut dst, &copy_plan(image, &picked, width));
            Samples::U8(dst)
        }
        Samples::U16(src) => {
            let mut dst = crate::buffer_pool::zeroed(width as usize * height as usize * channels);
            copy_tiles(src, &mut dst, &copy_plan(image, &picked, width));
            Samples::U16(dst)
        }
    };
    Image {
        width,
        height,
        layout: image.layout,
        samples,
    }
}

/// (source offset, destination offset, length) of every tile row to copy.
fn copy_plan(
    image: &Image,
    picked: &[(u32, u32)],
    mosaic_width: u32,
) -> Vec<(usize, usize, usize)> {
    let channels = image.layout.channels();
    let tile = TILE as usize;
    let mut plan = Vec::with_capacity(picked.len() * tile);
    for (i, &(x0, y0)) in picked.iter().enumerate() {
        let (mx, my) = ((i % MOSAIC_COLUMNS) * tile, (i / MOSAIC_COLUMNS) * tile);
        for r in 0..tile {
            let from = ((y0 as usize + r) * image.width as usize + x0 as usize) * channels;
            let to = ((my + r) * mosaic_width as usize + mx) * channels;
            plan.push((from, to, tile * channels));
        }
    }
    plan
}

fn copy_tiles<T: Copy>(src: &[T], dst: &mut [T], plan: &[(usize, usize, usize)]) {
    for &(from, to, len) in plan {
        dst[to..to + len].copy_from_slice(&src[from..from + len]);
    }
}

/// Mean absolute difference between neighbouring samples of the first
/// channel over a tile, on every other row and column.
fn tile_complexity(image: &Image, x0: u32, y0: u32) -> f64 {
    let channels = image.layout.channels();
    let width = image.width as usize;
    let at = |x: u32, y: u32| (y as usize * width + x as usize) * channels;
    let sample = |i: usize| -> f64 {
        match &image.samples {
            Samples::U8(d) => f64::from(d[i]),
            Samples::U16(d) => f64::from(d[i]) / 257.0,
        }
    };
    let (mut sum, mut n) = (0.0, 0u32);
    for y in (y0..y0 + TILE - 1).step_by(2) {
        for x in (x0..x0 + TILE - 1).step_by(2) {
            let here = sample(at(x, y));
            sum += (here - sample(at(x + 1, y))).abs() + (here - sample(at(x, y + 1))).abs();
            n += 1;
        }
    }
    sum / f64::from(n.max(1))
}
