//! JPEG quantization tables: the standard ones, and tables derived from a
//! model of human contrast sensitivity.
//!
//! A DCT coefficient `(u, v)` of an 8x8 block is a grating of
//! `sqrt(u² + v²) / 16` cycles per pixel; at a viewing geometry of `ppd`
//! display pixels per degree of visual angle that is `ppd` times as many
//! cycles per degree. The eye's sensitivity to luminance contrast at that
//! frequency follows Mannos and Sakrison's contrast sensitivity function
//!
//! ```text
//! S(f) = 2.6 (0.0192 + 0.114 f) exp(-(0.114 f)^1.1)      f in cycles/degree
//! ```
//!
//! held at its peak below the peak frequency (about 8 cycles/degree), as is
//! usual for JPEG: the raw function falls towards zero at f = 0 and would
//! give the DC term an infinite step, while block artefacts make low
//! frequencies the most visible of all. Diagonal gratings are seen less well
//! than horizontal and vertical ones (the oblique effect): the frequency is
//! scaled by `1 / (r + (1 - r) cos²(2θ))` with `r = 0.7`. The step of a
//! coefficient is inversely proportional to the sensitivity. (Dividing also
//! by the DCT basis amplitude, as a threshold model of isolated gratings
//! would, doubles the DC step; block edges make DC errors more visible than
//! that model says, so it is left out.)
//!
//! Chroma (Cb, Cr) sensitivity is low-pass and falls faster than luminance
//! (Mullen 1985): modelled as `exp(-0.2 f)`, floored at 1/16. With 4:2:0 or
//! 4:2:2 subsampling a chroma sample spans two pixels, which halves its
//! frequencies.
//!
//! Each table is then scaled so that its geometric mean equals that of the
//! Annex K table of the same channel, which keeps `quality` meaning about
//! what it means with the standard tables; `quality` scales them as
//! libjpeg's `jpeg_quality_scaling` does, and libjpeg clamps the result to
//! 1-255 (the base tables are not clamped, so coarse steps stay coarse).

use crate::error::{Error, Result};

/// Which quantization tables the JPEG encoder uses.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum QuantTables {
    /// Annex K at a fixed `quality` (so the number means what it means in
    /// libjpeg, Pillow and sharp); Klein's under a `target`, where the
    /// number does not matter and Klein's tables need about 10% fewer bytes
    /// for the same SSIMULACRA2 at every effort, mozjpeg's 6-9% (BENCHMARKS.md,
    /// the JPEG table studies). Klein's at a quality matched to Annex K's
    /// look were tried as the fixed-quality default and dropped: they lose on
    /// small and sharp images (BENCHMARKS.md, "Tried and dropped").
    #[default]
    Auto,
    /// ITU-T T.81 Annex K, what libjpeg, Pillow and sharp use.
    AnnexK,
    /// mozjpeg's own default (tuned on MS-SSIM by Nicolas Robidoux).
    Mozjpeg,
    /// Klein, Silverstein and Carney's table ("Relevance of human vision to
    /// JPEG-DCT compression", 1992), from detection thresholds of DCT basis
    /// patterns measured on observers, used for luma and chroma alike (finer
    /// low chroma frequencies than Annex K, much coarser high ones). At the
    /// same SSIMULACRA2 it needs about 10% fewer bytes than Annex K, with the
    /// fastest encoder settings and with trellis (BENCHMARKS.md, the Klein
    /// rows of the table studies); `quality` scales it as libjpeg scales any table, so a given
    /// number looks better than it does with Annex K.
    Klein,
    /// Derived from the contrast sensitivity model above for a display seen at
    /// `ppd` pixels per degree of visual angle (about 40 for a 96 dpi monitor
    /// at 60 cm, 90 for a phone at 30 cm).
    Vision {
        /// Display pixels per degree of visual angle.
        ppd: f64,
    },
}

/// The viewing geometry `tables=vision` assumes unless told: a 96 dpi
/// desktop monitor seen from 60 cm.
pub const DEFAULT_PPD: f64 = 40.0;

impl QuantTables {
    /// Parses `auto`, `annexk`, `mozjpeg`, `vision` or `vision:PPD` (`csf`
    /// is an alias for `vision`).
    pub fn parse(value: &str) -> Result<QuantTables> {
        let bad = |why: String| Error::option("tables", why);
        let (name, ppd) = match value.split_once([':', '=', '@']) {
            Some((name, ppd)) => (name.trim(), Some(ppd.trim())),
            None => (value.trim(), None),
        };
        match (name.to_ascii_lowercase().as_str(), ppd) {
            ("auto" | "default" | "", None) => Ok(QuantTables::Auto),
            ("annexk" | "annex-k" | "standard", None) => Ok(QuantTables::AnnexK),
            ("mozjpeg", None) => Ok(QuantTables::Mozjpeg),
            ("klein", None) => Ok(QuantTables::Klein),
            ("vision" | "csf", None) => Ok(QuantTables::Vision { ppd: DEFAULT_PPD }),
            ("vision" | "csf", Some(ppd)) => {
                let ppd: f64 = ppd
                    .parse()
                    .ok()
                    .filter(|p: &f64| (5.0..=300.0).contains(p))
                    .ok_or_else(|| {
                        bad(format!(
                            "`{ppd}` is not a number of pixels per degree from 5 to 300"
                        ))
                    })?;
                Ok(QuantTables::Vision { ppd })
            }
            _ => Err(bad(format!(
                "`{value}` is not auto, annexk, mozjpeg, klein, vision or vision:PPD"
            ))),
        }
    }

    /// The tables a search over quality settings uses: `Auto` becomes
    /// Klein's, the others stay.
    pub(crate) fn for_search(self) -> QuantTables {
        match self {
            QuantTables::Auto => QuantTables::Klein,
            other => other,
        }
    }

    /// The index of these tables among mozjpeg's built-in sets
    /// (`JINT_BASE_QUANT_TBL_IDX`); `Vision`'s are computed and installed
    /// over Annex K's.
    pub(crate) fn mozjpeg_index(self) -> i32 {
        match self {
            QuantTables::Auto | QuantTables::AnnexK | QuantTables::Vision { .. } => 0,
            QuantTables::Mozjpeg => 3,
            QuantTables::Klein => 5,
        }
    }

    /// The option-vocabulary spelling of these tables.
    pub fn name(self) -> String {
        match self {
            QuantTables::Auto => "auto".into(),
            QuantTables::AnnexK => "annexk".into(),
            QuantTables::Mozjpeg => "mozjpeg".into(),
            QuantTables::Klein => "klein".into(),
            QuantTables::Vision { ppd } => format!("vision:{ppd}"),
        }
    }
}

/// The Annex K luminance table, natural (row-major) order.
pub const ANNEX_K_LUMA: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/// The Annex K chrominance table, natural order.
pub const ANNEX_K_CHROMA: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// Mannos-Sakrison luminance contrast sensitivity at `f` cycles per degree.
fn luma_sensitivity(f: f64) -> f64 {
    2.6 * (0.0192 + 0.114 * f) * (-(0.114 * f).powf(1.1)).exp()
}

/// The frequency at which [`luma_sensitivity`] peaks, found numerically.
fn luma_peak() -> f64 {
    (1..2000)
        .map(|i| f64::from(i) * 0.01)
        .max_by(|a, b| luma_sensitivity(*a).total_cmp(&luma_sensitivity(*b)))
        .unwrap_or(8.0)
}

/// Chroma contrast sensitivity relative to its value at DC.
fn chroma_sensitivity(f: f64) -> f64 {
    (-0.2 * f).exp().max(1.0 / 16.0)
}

/// Ratio of diagonal to axis sensitivity in the oblique effect.
const OBLIQUE_R: f64 = 0.7;

/// The base (quality 50) tables, luma then chroma, natural order, for a
/// display at `ppd` pixels per degree; `chroma_span` is how many pixels one
/// chroma sample spans horizontally and vertically (2 for 4:2:0). Entries
/// may exceed 255: libjpeg clamps them after scaling by quality.
pub fn vision_tables(ppd: f64, chroma_span: (u32, u32)) -> ([u16; 64], [u16; 64]) {
    let peak = luma_peak();
    let peak_sensitivity = luma_sensitivity(peak);
    let luma = relative_steps(ppd, (1, 1), |f| {
        luma_sensitivity(f.max(peak)) / peak_sensitivity
    });
    let chroma = relative_steps(ppd, chroma_span, chroma_sensitivity);
    // Each table's geometric mean is that of Annex K's table for its channel.
    // (One scale for both, which makes chroma's DC step luma's, measured
    // worse: 1-5% more bytes at equal SSIMULACRA2 in the table study.)
    let log_mean = |t: &mut dyn Iterator<Item = f64>| t.map(f64::ln).sum::<f64>() / 64.0;
    let scaled = |steps: [f64; 64], reference: &[u16; 64]| {
        let scale = (log_mean(&mut reference.iter().map(|&q| f64::from(q)))
            - log_mean(&mut steps.iter().copied()))
        .exp();
        steps.map(|s| (s * scale).round().clamp(1.0, 32767.0) as u16)
    };
    (scaled(luma, &ANNEX_K_LUMA), scaled(chroma, &ANNEX_K_CHROMA))
}

/// Steps inversely proportional to `sensitivity` (relative, 1 at its most
/// sensitive), before scaling.
fn relative_steps(ppd: f64, span: (u32, u32), sensitivity: impl Fn(f64) -> f64) -> [f64; 64] {
    let mut steps = [0f64; 64];
    for (i, step) in steps.iter_mut().enumerate() {
        let (v, u) = (i / 8, i % 8);
        // Cycles per degree along each axis.
        let fu = u as f64 / 16.0 * ppd / f64::from(span.0);
        let fv = v as f64 / 16.0 * ppd / f64::from(span.1);
        let f = fu.hypot(fv);
        let oblique = if f > 0.0 {
            let cos2 = ((fu * fu - fv * fv) / (f * f)).powi(2);
            OBLIQUE_R + (1.0 - OBLIQUE_R) * cos2
        } else {
            1.0
        };
        *step = 1.0 / sensitivity(f / oblique);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dc_is_finite_and_finest_step_is_near_dc() {
        for ppd in [20.0, 40.0, 90.0, 300.0] {
            let (luma, chroma) = vision_tables(ppd, (2, 2));
            for t in [luma, chroma] {
                assert!(t.iter().all(|&q| q >= 1), "{ppd}: {t:?}");
                let min = *t.iter().min().unwrap();
                // The smallest step is in the low-frequency corner.
                let at = t.iter().position(|&q| q == min).unwrap();
                assert!(at / 8 + at % 8 <= 3, "{ppd}: {t:?}");
            }
            // Coarser towards the highest frequency.
            assert!(luma[63] > luma[0], "{ppd}: {luma:?}");
        }
    }

    #[test]
    fn farther_viewing_quantizes_high_frequencies_harder() {
        let (near, _) = vision_tables(20.0, (2, 2));
        let (far, _) = vision_tables(90.0, (2, 2));
        let ratio = |t: &[u16; 64]| f64::from(t[63]) / f64::from(t[0]);
        assert!(ratio(&far) > ratio(&near), "{near:?} {far:?}");
    }

    #[test]
    fn parses_names_and_viewing() {
        assert_eq!(QuantTables::parse("annexk").unwrap(), QuantTables::AnnexK);
        assert_eq!(QuantTables::parse("auto").unwrap(), QuantTables::default());
        assert_eq!(QuantTables::parse("mozjpeg").unwrap(), QuantTables::Mozjpeg);
        assert_eq!(QuantTables::parse("Klein").unwrap(), QuantTables::Klein);
        for tables in [QuantTables::Klein, QuantTables::Vision { ppd: 60.0 }] {
            assert_eq!(QuantTables::parse(&tables.name()).unwrap(), tables);
        }
        assert_eq!(
            QuantTables::parse("vision").unwrap(),
            QuantTables::Vision { ppd: DEFAULT_PPD }
        );
        assert_eq!(
            QuantTables::parse("vision:90").unwrap(),
            QuantTables::Vision { ppd: 90.0 }
        );
        let e = QuantTables::parse("vision:0").unwrap_err().to_string();
        assert!(e.contains("`tables`") && e.contains("per degree"), "{e}");
        assert!(QuantTables::parse("fancy").is_err());
    }
}
