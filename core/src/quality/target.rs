//! The `target` option: a score to reach, or a byte budget to stay within.

use super::metric::Metric;
use crate::error::{Error, Result};

/// What a target-driven compress must achieve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// The smallest file whose score by `metric` is at least `min`. The
    /// search aims [`promise_margin`](super::promise_margin) higher, so that
    /// the format's reference decoder and other scorers agree.
    Score {
        /// The metric that judges.
        metric: Metric,
        /// The lowest acceptable score.
        min: f64,
    },
    /// The best-looking file of at most this many bytes.
    Size {
        /// The byte budget.
        max_bytes: u64,
    },
}

impl Target {
    /// Parses `ssimulacra2=80`, `ssim=0.98`, `psnr=40` or `size=100KB`
    /// (`B`, `KB`/`MB` in powers of 1000, `KiB`/`MiB` in powers of 1024;
    /// `:` may stand for `=`).
    pub fn parse(value: &str) -> Result<Target> {
        let bad = |reason: String| Error::option("target", reason);
        let (name, amount) = value
            .split_once(['=', ':'])
            .ok_or_else(|| bad(format!("`{value}` is not METRIC=SCORE or size=BYTES")))?;
        let (name, amount) = (name.trim().to_ascii_lowercase(), amount.trim());
        if name == "size" {
            return Ok(Target::Size {
                max_bytes: parse_bytes(amount).ok_or_else(|| {
                    bad(format!(
                        "`{amount}` is not a size such as 100KB, 2MiB or 50000"
                    ))
                })?,
            });
        }
        let metric = Metric::from_name(&name).map_err(|e| bad(e.to_string()))?;
        let min: f64 = amount
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| bad(format!("`{amount}` is not a number")))?;
        let (lo, hi) = match metric {
            Metric::Psnr => (1.0, 99.0),
            Metric::Ssim => (0.0, 1.0),
            Metric::Ssimulacra2 => (-100.0, 100.0),
        };
        if !(lo..=hi).contains(&min) {
            return Err(bad(format!(
                "a {metric} target must be within {lo} to {hi}"
            )));
        }
        Ok(Target::Score { metric, min })
    }

    /// Whether a file of `bytes` bytes scoring `score` meets the target.
    pub fn is_met(&self, bytes: usize, score: f64) -> bool {
        match *self {
            Target::Score { min, .. } => score >= min,
            Target::Size { max_bytes } => bytes as u64 <= max_bytes,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Score { metric, min } => write!(f, "{metric}={min}"),
            Target::Size { max_bytes } => write!(f, "size={max_bytes}"),
        }
    }
}

fn parse_bytes(text: &str) -> Option<u64> {
    parse_byte_size(text).ok()
}

/// Parses a byte count with an optional unit: `B`, decimal `K`/`KB`, `M`/`MB`,
/// `G`/`GB`, or binary `KiB`, `MiB`, `GiB` (any case), as in `size=100KB`
/// targets and the CLI's `--memory-budget 2GB`.
pub fn parse_byte_size(text: &str) -> crate::error::Result<u64> {
    let invalid = |why: &str| crate::error::Error::InvalidArgument(format!("`{text}`: {why}"));
    let text_trimmed = text.trim();
    let split = text_trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text_trimmed.len());
    let (number, unit) = text_trimmed.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| invalid("not a byte count such as 512MB"))?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(invalid("unknown unit (use B, KB, MB, GB, KiB, MiB or GiB)")),
    };
    let bytes = (number * scale).round();
    if (1.0..1e15).contains(&bytes) {
        Ok(bytes as u64)
    } else {
        Err(invalid("not a byte count such as 512MB"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scores_and_sizes() {
        assert_eq!(
            Target::parse("ssimulacra2=80").unwrap(),
            Target::Score {
                metric: Metric::Ssimulacra2,
                min: 80.0
            }
        );
        assert_eq!(
            Target::parse("SSIM:0.98").unwrap(),
            Target::Score {
                metric: Metric::Ssim,
                min: 0.98
            }
        );
        assert_eq!(
            Target::parse("size=100KB").unwrap(),
            Target::Size { max_bytes: 100_000 }
        );
        assert_eq!(
            Target::parse("size=2MiB").unwrap(),
            Target::Size { max_bytes: 2 << 20 }
        );
        assert_eq!(
            Target::parse("size=1.5k").unwrap(),
            Target::Size { max_bytes: 1500 }
        );
        for bad in [
            "80",
            "ssim=2",
            "size=12 parsecs",
            "butteraugli=1",
            "psnr=x",
            "size=0",
        ] {
            let err = Target::parse(bad).unwrap_err();
            assert!(err.to_string().contains("target"), "{bad}: {err}");
        }
    }
}
