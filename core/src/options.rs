//! The one option vocabulary: plain data with defaults, also settable from
//! string key/value pairs so that every face (CLI flags, `pxp_options_set`,
//! Python keyword arguments, Node option objects) parses options here.

use crate::codecs::{EncodeParams, QuantTables, Subsampling};
use crate::edits::{parse_angle, parse_crop, parse_grayscale, Edits};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::metadata::{Interceptor, MetadataPolicy};
use crate::pixels::Rgba8;
use crate::quality::{Target, TuneParam};
use crate::resize::Fit;

/// The format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// The input's format when pixpress can write it; PNG for GIF, TIFF and BMP;
    /// JPEG for HEIC when this build has no HEIC encoder.
    #[default]
    Same,
    /// A specific format.
    Exact(Format),
    /// The smallest file among the `formats` allowed that meets the `target`
    /// (`ssimulacra2=80` when none is given), preferring those that kept
    /// their search's margin ([`crate::promise_margin`]).
    Auto,
}

impl OutputFormat {
    /// The output's file name extension when this fixes it; `None` when it is
    /// known only once compressed (`same`, `auto`).
    pub fn extension(self) -> Option<&'static str> {
        match self {
            OutputFormat::Exact(format) => Some(format.extension()),
            OutputFormat::Same | OutputFormat::Auto => None,
        }
    }
}

/// The formats `format=auto` chooses from unless told otherwise.
pub const DEFAULT_AUTO_FORMATS: [Format; 3] = [Format::Jpeg, Format::WebP, Format::Avif];

/// Whether a JPEG output carries a coefficient watermark ([`crate::read_watermark`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WatermarkMode {
    /// None is written, and none is looked for in the input.
    #[default]
    Off,
    /// A new mark: the time of the call, the source's BLAKE3 and `watermark_data`.
    On,
    /// The mark of a JPEG input (read with `watermark_key`), carried into the
    /// output; nothing when the input has none.
    Keep,
}

/// Whether the EXIF orientation is applied to the pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrientationMode {
    /// Turn the pixels upright and set the tag to 1.
    #[default]
    Apply,
    /// Leave the pixels as stored and keep the tag.
    Keep,
}

/// The default pixel limit: 0x3FFF squared (about 268 million), as sharp's.
pub const DEFAULT_MAX_PIXELS: u64 = 0x3FFF * 0x3FFF;

/// Everything a compress call can be told. `Options::default()` is a good start.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// `format`: output format (`jpeg`, `png`, `webp`, `avif`, `heic`, `same`, `auto`).
    pub format: OutputFormat,
    /// `formats`: what `format=auto` may choose from, comma-separated
    /// (default `jpeg,webp,avif`, as a server would derive from an Accept header).
    pub formats: Vec<Format>,
    /// `quality`: 1-100 for lossy encoders; `None` means the encoder's default
    /// (JPEG 80, WebP 80, AVIF 60).
    pub quality: Option<u8>,
    /// `lossless`: lossless WebP (PNG is always lossless; lossless AVIF is
    /// refused with `PXP_ERR_INVALID_ARGUMENT`); for JPEG to JPEG, re-encode
    /// the DCT coefficients without touching pixels (as `jpegtran -optimize -progressive`).
    pub lossless: bool,
    /// `progressive`: progressive JPEG; `None` follows `effort` (baseline
    /// below effort 2, progressive from it; a lossless JPEG re-encode is
    /// progressive).
    pub progressive: Option<bool>,
    /// `subsampling`: `420`, `422` or `444`; `None` means 4:2:0 for JPEG and
    /// 4:4:4 for AVIF (which spends fewer bytes per SSIMULACRA2 point with
    /// full-resolution chroma).
    pub subsampling: Option<Subsampling>,
    /// `effort`: 0 (fastest) to 10 (smallest); `None` means each encoder's default.
    pub effort: Option<u8>,
    /// `resize`: target box `WxH`; either side may be left out (`800x`, `x600`).
    pub resize: Option<(Option<u32>, Option<u32>)>,
    /// `fit`: `inside`, `contain` (inside, letterboxed onto `background`
    /// to the whole box), `cover` or `exact`.
    pub fit: Fit,
    /// `enlarge`: allow a resize to make the image larger (default false).
    pub enlarge: bool,
    /// `background`: the color alpha is flattened onto for outputs without
    /// alpha (and by `flatten`), and that fills what `rotate` uncovers and
    /// the letterbox of `fit=contain`; `#rrggbbaa` with alpha below `ff`
    /// keeps those transparent where the format has alpha.
    pub background: Rgba8,
    /// `crop`, `flip`, `flop`, `rotate`, `flatten`, `grayscale`: the
    /// everyday operations, applied in the order [`Edits`] documents.
    pub edits: Edits,
    /// `pages`: how many frames of an animated GIF or WebP input to keep:
    /// `all` (`None`, the default) or the first N. A WebP output keeps them
    /// as an animation; other outputs take the first frame, and the report
    /// counts the rest in `frames_dropped`.
    pub pages: Option<u32>,
    /// `orientation`: `apply` or `keep`.
    pub orientation: OrientationMode,
    /// `max_pixels`: largest `width * height` accepted, checked from the header.
    pub max_pixels: u64,
    /// `metadata`: a policy: `keep`, `web` or `strip`, then `+NAME`/`-NAME`
    /// rules (`web,-iptc:City`); see [`MetadataPolicy`].
    pub metadata: MetadataPolicy,
    /// `restore_record`: also return a [`RestoreRecord`](crate::RestoreRecord)
    /// of what the policy, provenance and the interceptor removed or changed
    /// (in [`MetadataReport::restore_record`](crate::MetadataReport)).
    pub restore_record: bool,
    /// `provenance`: add an XMP record tying the output to its source (BLAKE3
    /// of the input, capture time, these options, the library version).
    pub provenance: bool,
    /// User code that edits the metadata just before it is written; set by
    /// each face, never by `set`.
    pub interceptor: Option<Interceptor>,
    /// `interceptor_timeout`: seconds the interceptor may take (default 5);
    /// past them the call fails with [`Error::Interceptor`] and writes nothing.
    pub interceptor_timeout: std::time::Duration,
    /// `accept_truncated`: decode truncated or damaged JPEG and PNG input as far
    /// as it goes instead of failing (as Pillow's `LOAD_TRUNCATED_IMAGES`).
    pub accept_truncated: bool,
    /// `never_larger`: when the format is unchanged and the result is larger
    /// than the input, return the input unchanged (default true).
    pub never_larger: bool,
    /// `sharp_yuv`: WebP's sharper RGB to YUV conversion.
    pub sharp_yuv: bool,
    /// `alpha_quality`: 1-100 for AVIF's and WebP's alpha plane; `None` follows `quality`.
    pub alpha_quality: Option<u8>,
    /// `bit_depth`: AVIF bit depth, 8 or 10 (8-bit samples widened); `None` means 8.
    pub bit_depth: Option<u8>,
    /// `target`: a score to reach (`ssimulacra2=80`, `ssim=0.98`, `psnr=40`)
    /// or a byte budget (`size=100KB`); the quality setting is then searched
    /// for and `quality` is ignored.
    pub target: Option<Target>,
    /// `sns`: WebP's spatial noise shaping, 0-100 (`None`: libwebp's 50).
    pub sns: Option<u8>,
    /// `tune`: with a `target`, encoder parameters searched besides quality,
    /// comma-separated: `subsampling` and `tables` (JPEG), `sharp_yuv` and
    /// `sns` (WebP), or `all`; see [`TuneParam`].
    pub tune: Vec<TuneParam>,
    /// `tables`: JPEG quantization tables: `auto` (Annex K at a fixed
    /// quality, Klein's under a `target`), `annexk`, `mozjpeg`, `klein`
    /// (from measured visibility thresholds; see [`QuantTables::Klein`]), or
    /// `vision[:PPD]` (derived from a contrast sensitivity model for a
    /// display seen at PPD pixels per degree, default 40).
    pub tables: QuantTables,
    /// `watermark`: `off`, `on` (a new mark) or `keep` (the input's mark carried forward).
    pub watermark: WatermarkMode,
    /// `watermark_key`: the secret that places and finds the mark; a public
    /// key when `None`.
    pub watermark_key: Option<String>,
    /// `watermark_data`: up to 16 bytes a new mark carries (text, or `hex:` digits).
    pub watermark_data: Vec<u8>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            format: OutputFormat::Same,
            formats: DEFAULT_AUTO_FORMATS.to_vec(),
            quality: None,
            lossless: false,
            progressive: None,
            subsampling: None,
            effort: None,
            resize: None,
            fit: Fit::Inside,
            enlarge: false,
            background: Rgba8::WHITE,
            edits: Edits::default(),
            pages: None,
            orientation: OrientationMode::Apply,
            max_pixels: DEFAULT_MAX_PIXELS,
            metadata: MetadataPolicy::KEEP,
            restore_record: false,
            provenance: false,
            interceptor: None,
            interceptor_timeout: DEFAULT_INTERCEPTOR_TIMEOUT,
            accept_truncated: false,
            never_larger: true,
            sharp_yuv: false,
            alpha_quality: None,
            bit_depth: None,
            target: None,
            tables: QuantTables::Auto,
            sns: None,
            tune: Vec::new(),
            watermark: WatermarkMode::Off,
            watermark_key: None,
            watermark_data: Vec::new(),
        }
    }
}

/// The default [`Options::interceptor_timeout`].
pub const DEFAULT_INTERCEPTOR_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Every key `Options::set` accepts, in documentation order.
pub const OPTION_KEYS: &[&str] = &[
    "format",
    "formats",
    "quality",
    "lossless",
    "progressive",
    "subsampling",
    "effort",
    "webp_method",
    "avif_speed",
    "avif_effort",
    "resize",
    "fit",
    "enlarge",
    "background",
    "crop",
    "flip",
    "flop",
    "rotate",
    "flatten",
    "grayscale",
    "pages",
    "orientation",
    "max_pixels",
    "metadata",
    "restore_record",
    "provenance",
    "interceptor_timeout",
    "accept_truncated",
    "never_larger",
    "sharp_yuv",
    "alpha_quality",
    "bit_depth",
    "target",
    "tables",
    "sns",
    "tune",
    "watermark",
    "watermark_key",
    "watermark_data",
];

/// One option value as a face receives it, before it becomes the text
/// [`Options::set`] parses: the one conversion from numbers, booleans, pairs
/// and lists that every face shares.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    /// No value (Python `None`, JavaScript `null`): the option's default.
    Default,
    /// Text, passed as it is.
    Text(String),
    /// `true` or `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number; a whole one is written without a fraction (`80.0` is `80`).
    Number(f64),
    /// A `(width, height)` box; `None` leaves that side free (`800x`).
    Pair(Option<u32>, Option<u32>),
    /// A list of names, written comma-separated (`jpeg,webp`).
    List(Vec<String>),
}

impl OptionValue {
    /// The value's text form, as [`Options::set`] parses it.
    pub fn to_text(&self) -> String {
        let side = |s: &Option<u32>| s.map_or(String::new(), |v| v.to_string());
        match self {
            OptionValue::Default => String::new(),
            OptionValue::Text(text) => text.clone(),
            OptionValue::Bool(b) => b.to_string(),
            OptionValue::Int(n) => n.to_string(),
            OptionValue::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                format!("{}", *n as i64)
            }
            OptionValue::Number(n) => n.to_string(),
            OptionValue::Pair(w, h) => format!("{}x{}", side(w), side(h)),
            OptionValue::List(names) => names.join(","),
        }
    }
}

impl Options {
    /// Sets one option from its string form, as every face passes them.
    ///
    /// Keys are case-sensitive and use underscores (`max_pixels`); `-` is
    /// accepted in place of `_` for CLI-style spelling. An unknown key or a bad
    /// value gives [`Error::InvalidOption`] naming the key.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let normalized = key.replace('-', "_");
        let value = value.trim();
        match normalized.as_str() {
            "format" => self.format = parse_format(key, value)?,
            "formats" => self.formats = parse_formats(key, value)?,
            "quality" => {
                self.quality = parse_optional(key, value, |v| parse_range(key, v, 1, 100))?
            }
            "lossless" => self.lossless = parse_bool(key, value)?,
            "progressive" => self.progressive = Some(parse_bool(key, value)?),
            "subsampling" => {
                self.subsampling = parse_optional(key, value, |v| parse_subsampling(key, v))?
            }
            "effort" => self.effort = parse_optional(key, value, |v| parse_range(key, v, 0, 10))?,
            "webp_method" => {
                self.effort = parse_optional(key, value, |v| {
                    parse_range(key, v, 0, 6).map(crate::codecs::webp::effort_for_method)
                })?
            }
            "avif_speed" => {
                self.effort = parse_optional(key, value, |v| {
                    parse_range(key, v, 0, 10).map(crate::codecs::avif::effort_for_speed)
                })?
            }
            "avif_effort" => {
                self.effort = parse_optional(key, value, |v| {
                    parse_range(key, v, 0, 9).map(crate::codecs::avif::effort_for_sharp_effort)
                })?
            }
            "resize" => self.resize = parse_optional(key, value, |v| parse_box(key, v))?,
            "fit" => {
                self.fit = match value {
                    "inside" => Fit::Inside,
                    "contain" => Fit::Contain,
                    "cover" => Fit::Cover,
                    "exact" | "fill" => Fit::Exact,
                    _ => {
                        return Err(Error::option(
                            key,
                            format!("`{value}` is not inside, contain, cover or exact"),
                        ))
                    }
                }
            }
            "enlarge" => self.enlarge = parse_bool(key, value)?,
            "background" => self.background = parse_color(key, value)?,
            "crop" => self.edits.crop = parse_optional(key, value, |v| parse_crop(key, v))?,
            "flip" => self.edits.flip = parse_bool(key, value)?,
            "flop" => self.edits.flop = parse_bool(key, value)?,
            "rotate" => {
                self.edits.rotate =
                    parse_optional(key, value, |v| parse_angle(key, v))?.unwrap_or(0.0)
            }
            "flatten" => self.edits.flatten = parse_bool(key, value)?,
            "pages" => {
                self.pages = match value {
                    "" | "all" | "-1" | "default" => None,
                    n => match n.parse::<u32>() {
                        Ok(n) if n > 0 => Some(n),
                        _ => {
                            return Err(Error::option(
                                key,
                                format!("`{value}` is not all or a whole number from 1"),
                            ))
                        }
                    },
                }
            }
            "grayscale" | "greyscale" => self.edits.grayscale = parse_grayscale(key, value)?,
            "orientation" => {
                self.orientation = match value {
                    "apply" | "auto" => OrientationMode::Apply,
                    "keep" => OrientationMode::Keep,
                    _ => {
                        return Err(Error::option(
                            key,
                            format!("`{value}` is not apply or keep"),
                        ))
                    }
                }
            }
            "max_pixels" => {
                let n: u64 = value
                    .parse()
                    .map_err(|_| Error::option(key, format!("`{value}` is not a whole number")))?;
                if n == 0 {
                    return Err(Error::option(key, "must be at least 1"));
                }
                self.max_pixels = n;
            }
            "metadata" => self.metadata = MetadataPolicy::parse(value)?,
            "restore_record" => self.restore_record = parse_bool(key, value)?,
            "provenance" => self.provenance = parse_bool(key, value)?,
            "interceptor_timeout" => {
                let seconds: f64 = value
                    .strip_suffix('s')
                    .unwrap_or(value)
                    .parse()
                    .map_err(|_| Error::option(key, format!("`{value}` is not seconds")))?;
                if !(seconds > 0.0 && seconds <= 3600.0) {
                    return Err(Error::option(
                        key,
                        "must be above 0 and at most 3600 seconds",
                    ));
                }
                self.interceptor_timeout = std::time::Duration::from_secs_f64(seconds);
            }
            "accept_truncated" => self.accept_truncated = parse_bool(key, value)?,
            "never_larger" => self.never_larger = parse_bool(key, value)?,
            "sharp_yuv" => self.sharp_yuv = parse_bool(key, value)?,
            "alpha_quality" => {
                self.alpha_quality = parse_optional(key, value, |v| parse_range(key, v, 1, 100))?
            }
            "bit_depth" => {
                self.bit_depth = parse_optional(key, value, |v| match v {
                    "8" => Ok(8),
                    "10" => Ok(10),
                    _ => Err(Error::option(key, format!("`{v}` is not 8 or 10"))),
                })?
            }
            "target" => self.target = parse_optional(key, value, Target::parse)?,
            "tables" => self.tables = QuantTables::parse(value)?,
            "sns" => self.sns = parse_optional(key, value, |v| parse_range(key, v, 0, 100))?,
            "tune" => self.tune = TuneParam::parse_list(value)?,
            "watermark" => {
                self.watermark = match value {
                    "off" | "false" | "" => WatermarkMode::Off,
                    "on" | "true" => WatermarkMode::On,
                    "keep" => WatermarkMode::Keep,
                    _ => {
                        return Err(Error::option(
                            key,
                            format!("`{value}` is not off, on or keep"),
                        ))
                    }
                }
            }
            "watermark_key" => self.watermark_key = (!value.is_empty()).then(|| value.to_string()),
            "watermark_data" => self.watermark_data = crate::watermark::parse_data(value)?,
            _ => {
                return Err(Error::option(
                    key,
                    format!(
                        "unknown option; known options are {}",
                        OPTION_KEYS.join(", ")
                    ),
                ))
            }
        }
        Ok(())
    }

    /// Sets one option from a typed value, as the faces receive them (a
    /// Python `int`, a JavaScript `number`, a C `uint32_t`, a pair, a list):
    /// the value's text form ([`OptionValue::to_text`]) goes to [`Options::set`].
    pub fn set_value(&mut self, key: &str, value: &OptionValue) -> Result<()> {
        self.set(key, &value.to_text())
    }

    /// Whether an operation besides resizing is asked for (the [`Edits`],
    /// or the letterbox of `fit=contain`): the pixels then differ from the
    /// input's by more than a resize.
    pub fn has_edits(&self) -> bool {
        let letterbox = matches!(self.resize, Some((Some(_), Some(_))));
        !self.edits.is_empty() || (self.fit == Fit::Contain && letterbox)
    }

    /// The encoder's share of these options: what a codec is given.
    pub fn encode_params(&self) -> EncodeParams {
        EncodeParams {
            quality: self.quality,
            lossless: self.lossless,
            progressive: self.progressive,
            subsampling: self.subsampling,
            effort: self.effort,
            sharp_yuv: self.sharp_yuv,
            alpha_quality: self.alpha_quality,
            bit_depth: self.bit_depth,
            sns: self.sns,
            tables: self.tables,
        }
    }

    /// Builds options from key/value pairs, failing on the first bad one.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Options> {
        let mut options = Options::default();
        for (key, value) in pairs {
            options.set(key, value)?;
        }
        Ok(options)
    }
}

/// `""`, `auto` and `default` reset an optional value to `None`.
fn parse_optional<T>(
    _key: &str,
    value: &str,
    parse: impl FnOnce(&str) -> Result<T>,
) -> Result<Option<T>> {
    match value {
        "" | "auto" | "default" | "none" => Ok(None),
        v => parse(v).map(Some),
    }
}

fn parse_format(key: &str, value: &str) -> Result<OutputFormat> {
    if value.eq_ignore_ascii_case("same") || value.is_empty() {
        return Ok(OutputFormat::Same);
    }
    if value.eq_ignore_ascii_case("auto") {
        return Ok(OutputFormat::Auto);
    }
    match Format::from_name(value) {
        Some(f @ (Format::Jpeg | Format::Png | Format::WebP | Format::Avif | Format::Heic)) => {
            Ok(OutputFormat::Exact(f))
        }
        Some(f) => Err(Error::option(
            key,
            format!("pixpress reads {f} but does not write it; write jpeg, png, webp or avif"),
        )),
        None => Err(Error::option(
            key,
            format!("`{value}` is not one of jpeg, png, webp, avif, heic, same, auto"),
        )),
    }
}

/// A comma-separated list of formats pixpress writes, without repeats.
fn parse_formats(key: &str, value: &str) -> Result<Vec<Format>> {
    let mut formats = Vec::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match parse_format(key, name)? {
            OutputFormat::Exact(f) if !formats.contains(&f) => formats.push(f),
            OutputFormat::Exact(_) => {}
            _ => {
                return Err(Error::option(
                    key,
                    format!("`{name}` is not a format (jpeg, png, webp, avif, heic)"),
                ))
            }
        }
    }
    if formats.is_empty() {
        return Err(Error::option(key, "names no format"));
    }
    Ok(formats)
}

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Error::option(
            key,
            format!("`{value}` is not true or false"),
        )),
    }
}

fn parse_range(key: &str, value: &str, min: u8, max: u8) -> Result<u8> {
    value
        .parse::<u8>()
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| {
            Error::option(
                key,
                format!("`{value}` is not a whole number from {min} to {max}"),
            )
        })
}

fn parse_subsampling(key: &str, value: &str) -> Result<Subsampling> {
    Subsampling::parse(value)
        .ok_or_else(|| Error::option(key, format!("`{value}` is not 420, 422 or 444")))
}

/// `WxH`, `Wx`, `xH`, or a single number for the width.
fn parse_box(key: &str, value: &str) -> Result<(Option<u32>, Option<u32>)> {
    let side = |s: &str| -> Result<Option<u32>> {
        if s.is_empty() {
            return Ok(None);
        }
        match s.parse::<u32>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(Error::option(
                key,
                format!("`{value}`: `{s}` is not a positive whole number"),
            )),
        }
    };
    let (w, h) = match value.split_once(['x', 'X']) {
        Some((w, h)) => (side(w)?, side(h)?),
        None => (side(value)?, None),
    };
    if w.is_none() && h.is_none() {
        return Err(Error::option(
            key,
            format!("`{value}` gives neither width nor height (use WxH)"),
        ));
    }
    Ok((w, h))
}

/// `#rgb`, `#rrggbb`, `#rrggbbaa`, `r,g,b`, or `white` / `black`.
fn parse_color(key: &str, value: &str) -> Result<Rgba8> {
    let bad = || {
        Error::option(
            key,
            format!("`{value}` is not a color (#rrggbb, r,g,b, white or black)"),
        )
    };
    match value {
        "white" => return Ok(Rgba8::WHITE),
        "black" => {
            return Ok(Rgba8 {
                r: 0,
                g: 0,
                b: 0,
                a: 255,
            })
        }
        _ => {}
    }
    if let Some(hex) = value.strip_prefix('#') {
        let digits: Vec<u8> = hex
            .chars()
            .map(|c| c.to_digit(16).map(|d| d as u8))
            .collect::<Option<_>>()
            .ok_or_else(bad)?;
        let pairs = |d: &[u8]| -> Vec<u8> { d.chunks_exact(2).map(|p| p[0] * 16 + p[1]).collect() };
        let channels = match digits.len() {
            3 => digits.iter().map(|d| d * 17).collect(),
            6 | 8 => pairs(&digits),
            _ => return Err(bad()),
        };
        return Ok(Rgba8 {
            r: channels[0],
            g: channels[1],
            b: channels[2],
            a: *channels.get(3).unwrap_or(&255),
        });
    }
    let parts: Vec<u8> = value
        .split(',')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    match parts[..] {
        [r, g, b] => Ok(Rgba8 { r, g, b, a: 255 }),
        [r, g, b, a] => Ok(Rgba8 { r, g, b, a }),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests;
