//! Target search over several encoder parameters at once (the `tune`
//! option): coordinate descent over discrete settings, each point a full
//! quality search.
//!
//! Starting from the caller's settings, each tuned parameter in turn is set
//! to each of its other values, the quality is searched again for the
//! target, and the change is kept when the result is smaller (for a size
//! target: scores higher). Rounds repeat until one changes nothing. On the
//! corpus photos this reaches the exhaustive grid's optimum at a fraction of
//! its encodes (BENCHMARKS.md, the multi-parameter study).

use super::search::{encode_to_target, SearchReport};
use super::target::Target;
use crate::codecs::{EncodeParams, QuantTables, Subsampling};
use crate::error::{Error, ErrorKind, Result};
use crate::format::Format;
use crate::metadata::Metadata;
use crate::pixels::Image;

/// An encoder parameter the `tune` option may search besides quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TuneParam {
    /// JPEG chroma subsampling: 4:2:0 or 4:4:4.
    Subsampling,
    /// JPEG quantization tables: mozjpeg's, Klein's, or the vision model's
    /// at 40 and 60 pixels per degree.
    Tables,
    /// WebP's sharp RGB to YUV conversion, off or on.
    SharpYuv,
    /// WebP's spatial noise shaping strength: 0, 25, 50, 80 or 100.
    Sns,
}

impl TuneParam {
    /// Every parameter, in the order they are tried.
    pub const ALL: [TuneParam; 4] = [
        TuneParam::Subsampling,
        TuneParam::Tables,
        TuneParam::SharpYuv,
        TuneParam::Sns,
    ];

    /// The option key this parameter sets.
    pub fn key(self) -> &'static str {
        match self {
            TuneParam::Subsampling => "subsampling",
            TuneParam::Tables => "tables",
            TuneParam::SharpYuv => "sharp_yuv",
            TuneParam::Sns => "sns",
        }
    }

    /// The values tried for `format`, in the option vocabulary; empty when
    /// the parameter does not apply to the format.
    pub fn values(self, format: Format) -> &'static [&'static str] {
        match (self, format) {
            (TuneParam::Subsampling, Format::Jpeg) => &["420", "444"],
            (TuneParam::Tables, Format::Jpeg) => &["mozjpeg", "klein", "vision:40", "vision:60"],
            (TuneParam::SharpYuv, Format::WebP) => &["false", "true"],
            (TuneParam::Sns, Format::WebP) => &["0", "25", "50", "80", "100"],
            _ => &[],
        }
    }

    /// Sets this parameter of `params` to `value`, one of [`TuneParam::values`].
    fn apply(self, params: &mut EncodeParams, value: &str) -> Result<()> {
        let not_tried = || {
            Error::Internal(format!(
                "`{value}` is not a value `tune` tries for {self:?}"
            ))
        };
        match self {
            TuneParam::Subsampling => {
                params.subsampling = Some(Subsampling::parse(value).ok_or_else(not_tried)?)
            }
            TuneParam::Tables => params.tables = QuantTables::parse(value)?,
            TuneParam::SharpYuv => params.sharp_yuv = value.parse().map_err(|_| not_tried())?,
            TuneParam::Sns => params.sns = Some(value.parse().map_err(|_| not_tried())?),
        }
        Ok(())
    }

    /// Parses a comma-separated list of keys, or `all`; `""` and `none` give none.
    pub fn parse_list(value: &str) -> Result<Vec<TuneParam>> {
        let mut params = Vec::new();
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let found: &[TuneParam] = match name {
                "none" => &[],
                "all" => &TuneParam::ALL,
                _ => match TuneParam::ALL.iter().find(|p| p.key() == name) {
                    Some(p) => std::slice::from_ref(p),
                    None => {
                        return Err(Error::option(
                            "tune",
                            format!("`{name}` is not subsampling, tables, sharp_yuv, sns or all"),
                        ))
                    }
                },
            };
            for p in found {
                if !params.contains(p) {
                    params.push(*p);
                }
            }
        }
        Ok(params)
    }
}

/// [`encode_to_target`], also searching the `tune` parameters by
/// coordinate descent. The report's `trials` and `full_encodes` count every
/// search, and `tuned` gives the chosen value of each tuned parameter.
pub(crate) fn encode_tuned(
    image: &Image,
    metadata: &Metadata,
    format: Format,
    params: &EncodeParams,
    tune: &[TuneParam],
    target: Target,
) -> Result<(Vec<u8>, SearchReport)> {
    let tuned: Vec<TuneParam> = tune
        .iter()
        .copied()
        .filter(|p| !p.values(format).is_empty())
        .collect();
    let started = std::time::Instant::now();
    let mut best_params = *params;
    let (mut best_data, mut best) = encode_to_target(image, metadata, format, params, target)?;
    let (mut trials, mut full_encodes) = (best.trials, best.full_encodes);
    // The value each parameter holds now: the caller's, in its option spelling.
    let mut chosen: Vec<(TuneParam, String)> = tuned
        .iter()
        .map(|&p| (p, current_value(p, params)))
        .collect();
    loop {
        let mut changed = false;
        for (param, held) in &mut chosen {
            let param = *param;
            for value in param.values(format) {
                if value == held {
                    continue;
                }
                let mut trial = best_params;
                param.apply(&mut trial, value)?;
                match encode_to_target(image, metadata, format, &trial, target) {
                    Ok((data, report)) => {
                        trials += report.trials;
                        full_encodes += report.full_encodes;
                        if report.beats(&best) {
                            (best_data, best, best_params) = (data, report, trial);
                            *held = value.to_string();
                            changed = true;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::TargetUnreachable => {}
                    Err(e) => return Err(e),
                }
            }
        }
        if !changed {
            break;
        }
    }
    best.trials = trials;
    best.full_encodes = full_encodes;
    best.time = started.elapsed();
    best.tuned = chosen
        .into_iter()
        .map(|(p, v)| (p.key().to_string(), v))
        .collect();
    Ok((best_data, best))
}

/// The value `params` gives `param`, spelled as one of [`TuneParam::values`].
fn current_value(param: TuneParam, params: &EncodeParams) -> String {
    match param {
        TuneParam::Subsampling => params.subsampling.unwrap_or_default().name().into(),
        TuneParam::Tables => params.tables.for_search().name(),
        TuneParam::SharpYuv => params.sharp_yuv.to_string(),
        TuneParam::Sns => params.sns.unwrap_or(50).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_all() {
        assert_eq!(
            TuneParam::parse_list("sns, subsampling,sns").unwrap(),
            [TuneParam::Sns, TuneParam::Subsampling]
        );
        assert_eq!(TuneParam::parse_list("all").unwrap(), TuneParam::ALL);
        assert!(TuneParam::parse_list("none").unwrap().is_empty());
        let e = TuneParam::parse_list("speed").unwrap_err().to_string();
        assert!(e.contains("`tune`") && e.contains("speed"), "{e}");
    }

    #[test]
    fn current_values_are_among_the_tried_ones() {
        let params = EncodeParams::default();
        for (param, format) in [
            (TuneParam::Subsampling, Format::Jpeg),
            (TuneParam::Tables, Format::Jpeg),
            (TuneParam::SharpYuv, Format::WebP),
            (TuneParam::Sns, Format::WebP),
        ] {
            let value = current_value(param, &params);
            let mut set = params;
            param.apply(&mut set, &value).unwrap();
            assert_eq!(current_value(param, &set), value, "{param:?} read back");
            assert!(
                param.values(format).contains(&value.as_str()),
                "{param:?}: {value}"
            );
        }
    }
}
