//! Full-reference quality metrics: PSNR, SSIM and SSIMULACRA2.
//!
//! Each compares a distorted image with its reference of the same size, on
//! 8-bit sRGB samples. Images with alpha are composited onto black and onto
//! white and the worse of the two scores counts, so a change hidden by one
//! background is still seen on the other (libjxl's ssimulacra2 tool does the
//! same).

use super::ssimulacra2::ssimulacra2;
use crate::error::{Error, Result};
use crate::pixels::{Image, Layout, Rgba8, Samples};
use rayon::prelude::*;
use std::borrow::Cow;

/// A full-reference quality metric. Higher is better for all three.
/// The default is SSIMULACRA2, the one that tracks human judgement best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Metric {
    /// Peak signal-to-noise ratio over the R, G and B samples, in dB
    /// (infinite for identical images).
    Psnr,
    /// Structural similarity of luma (BT.601 weights), Gaussian window
    /// (sigma 1.5, 11x11), K1 0.01, K2 0.03, averaged over the pixels whose
    /// window lies inside the image, as Wang et al. 2004 and scikit-image's
    /// `structural_similarity(gaussian_weights=True)`. 1.0 is identical.
    Ssim,
    /// SSIMULACRA2 (Cloudinary/libjxl's perceptual metric).
    #[default]
    /// 100 is identical; 90 is visually lossless at 1:1, 80 very high
    /// quality, 70 high, 50 medium; it goes negative for strong distortion.
    Ssimulacra2,
}

impl Metric {
    /// Every metric, in the order of their names below.
    pub const ALL: [Metric; 3] = [Metric::Psnr, Metric::Ssim, Metric::Ssimulacra2];

    /// The metric's name in the option vocabulary (`psnr`, `ssim`, `ssimulacra2`).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Psnr => "psnr",
            Metric::Ssim => "ssim",
            Metric::Ssimulacra2 => "ssimulacra2",
        }
    }

    /// The metric a name denotes (`ssimulacra` and `ssimu2` are accepted for SSIMULACRA2).
    pub fn from_name(name: &str) -> Result<Metric> {
        match name.trim().to_ascii_lowercase().as_str() {
            "psnr" => Ok(Metric::Psnr),
            "ssim" => Ok(Metric::Ssim),
            "ssimulacra2" | "ssimulacra" | "ssimu2" => Ok(Metric::Ssimulacra2),
            other => Err(Error::InvalidArgument(format!(
                "unknown metric `{other}`; known metrics are psnr, ssim, ssimulacra2"
            ))),
        }
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Scores `distorted` against `reference` with `metric`. Both must have the
/// same dimensions; any layout and bit depth is accepted (reduced to 8-bit RGB).
pub fn score_images(reference: &Image, distorted: &Image, metric: Metric) -> Result<f64> {
    crate::parallel::run(|| score_on_chosen_pool(reference, distorted, metric))
}

/// [`score_images`] on the pool [`crate::parallel::run`] chose.
fn score_on_chosen_pool(reference: &Image, distorted: &Image, metric: Metric) -> Result<f64> {
    if (reference.width, reference.height) != (distorted.width, distorted.height) {
        return Err(Error::InvalidArgument(format!(
            "cannot compare a {}x{} image with a {}x{} one",
            reference.width, reference.height, distorted.width, distorted.height
        )));
    }
    let backgrounds: &[Rgba8] = if reference.uses_alpha() || distorted.uses_alpha() {
        &[BLACK, Rgba8::WHITE]
    } else {
        &[Rgba8::WHITE]
    };
    let mut worst = f64::INFINITY;
    for &background in backgrounds {
        let a = rgb8(reference, background);
        let b = rgb8(distorted, background);
        let (Samples::U8(a), Samples::U8(b)) = (&a.samples, &b.samples) else {
            unreachable!("rgb8 returns 8-bit samples");
        };
        let (width, height) = (reference.width as usize, reference.height as usize);
        let score = match metric {
            Metric::Psnr => psnr(a, b),
            Metric::Ssim => ssim(a, b, width, height)?,
            Metric::Ssimulacra2 => ssimulacra2(a, b, width, height)?,
        };
        worst = worst.min(score);
    }
    Ok(worst)
}

const BLACK: Rgba8 = Rgba8 {
    r: 0,
    g: 0,
    b: 0,
    a: 255,
};

/// The image as 8-bit RGB, borrowed when it already is.
fn rgb8(image: &Image, background: Rgba8) -> Cow<'_, Image> {
    match (&image.samples, image.layout) {
        (Samples::U8(_), Layout::Rgb) => Cow::Borrowed(image),
        _ => Cow::Owned(image.clone().convert(Layout::Rgb, background).into_u8()),
    }
}

/// PSNR in dB over all samples, 8-bit peak.
fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let squared_error: u64 = a
        .par_chunks(1 << 16)
        .zip(b.par_chunks(1 << 16))
        .map(|(a, b)| {
            a.iter()
                .zip(b)
                .map(|(&x, &y)| {
                    let d = i64::from(x) - i64::from(y);
                    (d * d) as u64
                })
                .sum::<u64>()
        })
        .sum();
    if squared_error == 0 {
        return f64::INFINITY;
    }
    let mse = squared_error as f64 / a.len() as f64;
    10.0 * (255.0 * 255.0 / mse).log10()
}

/// Half the SSIM window: 11 taps, as `truncate=3.5` at sigma 1.5 gives.
const SSIM_RADIUS: usize = 5;
/// Output rows computed per parallel band.
const SSIM_BAND: usize = 64;

fn ssim_kernel() -> [f64; 2 * SSIM_RADIUS + 1] {
    let sigma = 1.5f64;
    let mut k = [0.0; 2 * SSIM_RADIUS + 1];
    for (i, w) in k.iter_mut().enumerate() {
        let x = i as f64 - SSIM_RADIUS as f64;
        *w = (-x * x / (2.0 * sigma * sigma)).exp();
    }
    let sum: f64 = k.iter().sum();
    k.map(|w| w / sum)
}

/// Mean SSIM of the luma of two packed RGB8 images, over the pixels whose
/// whole window is inside the image (so no border rule is involved).
fn ssim(a: &[u8], b: &[u8], width: usize, height: usize) -> Result<f64> {
    let window = 2 * SSIM_RADIUS + 1;
    if width < window || height < window {
        return Err(Error::InvalidArgument(format!(
            "SSIM needs at least {window}x{window} pixels, not {width}x{height}"
        )));
    }
    // Luma of one row, computed per band so no whole-image plane is held.
    let luma = |rgb: &[u8], row: usize, out: &mut [f64]| {
        let pixels = rgb[row * width * 3..][..width * 3].chunks_exact(3);
        for (v, p) in out.iter_mut().zip(pixels) {
            *v = 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
        }
    };
    let kernel = ssim_kernel();
    let (out_w, out_h) = (width - 2 * SSIM_RADIUS, height - 2 * SSIM_RADIUS);
    let c1 = (0.01f64 * 255.0).powi(2);
    let c2 = (0.03f64 * 255.0).powi(2);
    let bands: Vec<usize> = (0..out_h).step_by(SSIM_BAND).collect();
    let total: f64 = bands
        .par_iter()
        .map(|&band_start| {
            let band_rows = SSIM_BAND.min(out_h - band_start);
            // Horizontal pass over the input rows this band needs, for
            // x, y, x*x, y*y and x*y.
            let in_rows = band_rows + 2 * SSIM_RADIUS;
            let mut horizontal = vec![[0.0f64; 5]; in_rows * out_w];
            let (mut xr, mut yr) = (vec![0.0f64; width], vec![0.0f64; width]);
            for r in 0..in_rows {
                luma(a, band_start + r, &mut xr);
                luma(b, band_start + r, &mut yr);
                for c in 0..out_w {
                    let mut acc = [0.0f64; 5];
                    for (k, &w) in kernel.iter().enumerate() {
                        let (p, q) = (xr[c + k], yr[c + k]);
                        acc[0] += w * p;
                        acc[1] += w * q;
                        acc[2] += w * p * p;
                        acc[3] += w * q * q;
                        acc[4] += w * p * q;
                    }
                    horizontal[r * out_w + c] = acc;
                }
            }
            let mut sum = 0.0f64;
            for r in 0..band_rows {
                for c in 0..out_w {
                    let mut m = [0.0f64; 5];
                    for (k, &w) in kernel.iter().enumerate() {
                        let h = &horizontal[(r + k) * out_w + c];
                        for (m, h) in m.iter_mut().zip(h) {
                            *m += w * h;
                        }
                    }
                    let [mx, my, mxx, myy, mxy] = m;
                    let (vx, vy, vxy) = (mxx - mx * mx, myy - my * my, mxy - mx * my);
                    sum += ((2.0 * mx * my + c1) * (2.0 * vxy + c2))
                        / ((mx * mx + my * my + c1) * (vx + vy + c2));
                }
            }
            sum
        })
        .sum();
    Ok(total / (out_w * out_h) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(width: u32, height: u32, noise: u8) -> Image {
        let mut data = Vec::new();
        for y in 0..height {
            for x in 0..width {
                let v = ((x * 7 + y * 3) % 256) as u8;
                let n = if (x ^ y) & 1 == 1 { noise } else { 0 };
                data.extend([v.saturating_add(n), v / 2, 255 - v]);
            }
        }
        Image::from_u8(width, height, Layout::Rgb, data).unwrap()
    }

    #[test]
    fn identical_images_score_perfectly() {
        let a = gradient(40, 30, 0);
        assert_eq!(score_images(&a, &a, Metric::Psnr).unwrap(), f64::INFINITY);
        assert!((score_images(&a, &a, Metric::Ssim).unwrap() - 1.0).abs() < 1e-12);
        assert!((score_images(&a, &a, Metric::Ssimulacra2).unwrap() - 100.0).abs() < 1e-6);
    }

    #[test]
    fn psnr_of_a_known_error() {
        // One sample in three off by 3: MSE 3, PSNR 10 log10(65025 / 3).
        let a = Image::from_u8(2, 1, Layout::Rgb, vec![10, 10, 10, 10, 10, 10]).unwrap();
        let b = Image::from_u8(2, 1, Layout::Rgb, vec![13, 10, 10, 7, 10, 10]).unwrap();
        let expected = 10.0 * (65025.0f64 / 3.0).log10();
        assert!((score_images(&a, &b, Metric::Psnr).unwrap() - expected).abs() < 1e-9);
    }

    #[test]
    fn more_noise_scores_lower_and_sizes_must_match() {
        let a = gradient(64, 48, 0);
        for metric in Metric::ALL {
            let light = score_images(&a, &gradient(64, 48, 8), metric).unwrap();
            let heavy = score_images(&a, &gradient(64, 48, 40), metric).unwrap();
            assert!(light > heavy, "{metric}: {light} <= {heavy}");
        }
        let err = score_images(&a, &gradient(63, 48, 0), Metric::Ssim).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument);
    }
}
