//! SSIMULACRA2 (Jon Sneyers, Cloudinary; libjxl's tools/ssimulacra2.cc),
//! computed in row bands on every core with a few megabytes per band.
//!
//! The algorithm is libjxl's: six scales (2x2 box downsampling in linear
//! RGB), XYB made positive, a Gaussian blur of sigma 1.5 with zeros outside
//! the image, per channel an SSIM map without the luma gamma term and two
//! edge maps (ringing and blurring), their 1- and 4-norms, and the trained
//! weighted sum. The weights and the final mapping are libjxl's, as the
//! `ssimulacra2` crate (rust-av, BSD-2-Clause) carries them. libjxl's
//! recursive blur is applied here as the 9-tap convolution it equals, which
//! a band of rows can do with a halo; the test below checks the scores
//! against the crate.

// The three XYB channels index several fixed-size arrays at once
// (`sums.ssim[c]`, `img1[c]`, `planes[c]`); by index reads as the formulas do.
#![allow(clippy::needless_range_loop)]

use crate::buffer_pool::Scratch;
use crate::error::{Error, Result};
use rayon::prelude::*;

/// An image as three planes of linear R, G and B.
type Planes = [Scratch<f32>; 3];

const SCALES: usize = 6;
/// The blur reaches 4 pixels each side: libjxl's recursive Gaussian of
/// sigma 1.5 (its N = `round(3.2795 * sigma + 0.2546)` = 5) is a
/// convolution with a truncated cosine series over |n| < N.
const RADIUS: usize = 4;
const TAPS: usize = 2 * RADIUS + 1;
/// That convolution's taps: the impulse response of libjxl's recursive
/// Gaussian (read off the `ssimulacra2` crate's port of it, normalized).
const KERNEL: [f32; TAPS] = [
    0.009_414_422,
    0.036_011_145,
    0.109_335_36,
    0.212_928_54,
    0.264_621_06,
    0.212_928_54,
    0.109_335_36,
    0.036_011_145,
    0.009_414_422,
];
/// Output rows per parallel band.
const BAND: usize = 128;

/// SSIMULACRA2 of two packed sRGB8 images of `width` x `height` (at least 8x8).
pub(super) fn ssimulacra2(a: &[u8], b: &[u8], width: usize, height: usize) -> Result<f64> {
    if width < 8 || height < 8 {
        return Err(Error::InvalidArgument(format!(
            "SSIMULACRA2 needs at least 8x8 pixels, not {width}x{height}"
        )));
    }
    let lut = srgb_to_linear_table();
    let kernel = KERNEL;
    let mut sums = Vec::with_capacity(SCALES);
    let (mut w, mut h) = (width, height);
    let mut planes: Option<(Planes, Planes)> = None;
    for scale in 0..SCALES {
        // As libjxl: the size check comes before this scale's downsampling.
        if w < 8 || h < 8 {
            break;
        }
        if scale > 0 {
            let (s1, s2) = sources(a, b, &lut, planes.as_ref());
            let next = (downsample(&s1, w, h), downsample(&s2, w, h));
            (w, h) = (w.div_ceil(2), h.div_ceil(2));
            planes = Some(next);
        }
        let (s1, s2) = sources(a, b, &lut, planes.as_ref());
        sums.push(scale_sums(&s1, &s2, w, h, &kernel));
    }
    Ok(combine(&sums))
}

/// Where a scale's linear RGB rows come from: the 8-bit input (scale 0) or
/// the planes downsampled from the scale above.
enum Source<'a> {
    Srgb8 { rgb: &'a [u8], lut: &'a [f32; 256] },
    Planes(&'a Planes),
}

fn sources<'a>(
    a: &'a [u8],
    b: &'a [u8],
    lut: &'a [f32; 256],
    planes: Option<&'a (Planes, Planes)>,
) -> (Source<'a>, Source<'a>) {
    match planes {
        None => (Source::Srgb8 { rgb: a, lut }, Source::Srgb8 { rgb: b, lut }),
        Some((p1, p2)) => (Source::Planes(p1), Source::Planes(p2)),
    }
}

impl Source<'_> {
    /// Linear R, G and B planes of row `y` of an image `width` wide.
    fn linear_row(&self, width: usize, y: usize, out: &mut Planes) {
        match self {
            Source::Srgb8 { rgb, lut } => {
                let row = &rgb[y * width * 3..][..width * 3];
                for (x, p) in row.chunks_exact(3).enumerate() {
                    for c in 0..3 {
                        out[c][x] = lut[p[c] as usize];
                    }
                }
            }
            Source::Planes(p) => {
                for c in 0..3 {
                    out[c].copy_from_slice(&p[c][y * width..][..width]);
                }
            }
        }
    }

    /// Linear R, G or B of pixel `x` of row `y` in an image `width` wide.
    #[inline]
    fn linear(&self, width: usize, x: usize, y: usize, c: usize) -> f32 {
        match self {
            Source::Srgb8 { rgb, lut } => lut[rgb[(y * width + x) * 3 + c] as usize],
            Source::Planes(p) => p[c][y * width + x],
        }
    }
}

fn srgb_to_linear_table() -> [f32; 256] {
    std::array::from_fn(|i| {
        let v = i as f64 / 255.0;
        let linear = if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        };
        linear as f32
    })
}

/// The 2x2 box average in linear RGB (edge pixels repeated for odd sizes).
fn downsample(source: &Source, width: usize, height: usize) -> Planes {
    let (out_w, out_h) = (width.div_ceil(2), height.div_ceil(2));
    let plane = |c: usize| -> Scratch<f32> {
        let mut out = Scratch::zeroed(out_w * out_h);
        out.par_chunks_mut(out_w).enumerate().for_each(|(oy, row)| {
            for (ox, v) in row.iter_mut().enumerate() {
                let mut sum = 0.0f32;
                for iy in 0..2 {
                    for ix in 0..2 {
                        let x = (ox * 2 + ix).min(width - 1);
                        let y = (oy * 2 + iy).min(height - 1);
                        sum += source.linear(width, x, y, c);
                    }
                }
                *v = sum * 0.25;
            }
        });
        out
    };
    [plane(0), plane(1), plane(2)]
}

/// The cube root of `v >= 0`: a bit-level first guess refined by two
/// Halley steps (within 4e-7 of libm's, a few ulp, and several times faster).
#[inline]
fn cube_root(v: f32) -> f32 {
    if v <= 0.0 {
        return 0.0;
    }
    let mut y = f32::from_bits(v.to_bits() / 3 + 709_921_077);
    for _ in 0..2 {
        let y3 = y * y * y;
        y *= (y3 + 2.0 * v) / (2.0 * y3 + v);
    }
    y
}

/// XYB (libjxl's opsin model) made positive, of one linear RGB pixel.
#[inline]
fn positive_xyb(rgb: [f32; 3]) -> [f32; 3] {
    const M: [f32; 9] = [
        0.30,
        1.0 - 0.078 - 0.30,
        0.078,
        0.23,
        1.0 - 0.078 - 0.23,
        0.078,
        0.243_422_69,
        0.204_767_45,
        1.0 - 0.243_422_69 - 0.204_767_45,
    ];
    const BIAS: f32 = 0.003_793_073_4;
    /// The cube root of BIAS.
    const BIAS_CBRT: f32 = 0.155_954_2;
    let mixed: [f32; 3] = std::array::from_fn(|i| {
        let m = M[i * 3] * rgb[0] + M[i * 3 + 1] * rgb[1] + M[i * 3 + 2] * rgb[2] + BIAS;
        cube_root(m.max(0.0)) - BIAS_CBRT
    });
    let (x, y, b) = (
        0.5 * (mixed[0] - mixed[1]),
        0.5 * (mixed[0] + mixed[1]),
        mixed[2],
    );
    [x * 14.0 + 0.42, y + 0.01, (b - y) + 0.55]
}

/// Per channel: the SSIM error's sum and sum of 4th powers, then the
/// ringing and blurring maps' sums and sums of 4th powers.
#[derive(Clone, Copy, Default)]
struct Sums {
    pixels: f64,
    ssim: [[f64; 2]; 3],
    edge: [[f64; 4]; 3],
}

impl Sums {
    fn add(mut self, other: Sums) -> Sums {
        self.pixels += other.pixels;
        for c in 0..3 {
            for i in 0..2 {
                self.ssim[c][i] += other.ssim[c][i];
            }
            for i in 0..4 {
                self.edge[c][i] += other.edge[c][i];
            }
        }
        self
    }
}

/// The error sums of one scale, over bands of rows in parallel.
fn scale_sums(s1: &Source, s2: &Source, width: usize, height: usize, kernel: &[f32; TAPS]) -> Sums {
    let bands: Vec<usize> = (0..height).step_by(BAND).collect();
    bands
        .par_iter()
        .map(|&y0| band_sums(s1, s2, width, height, y0, (y0 + BAND).min(height), kernel))
        .reduce(Sums::default, Sums::add)
}

fn band_sums(
    s1: &Source,
    s2: &Source,
    width: usize,
    height: usize,
    y0: usize,
    y1: usize,
    kernel: &[f32; TAPS],
) -> Sums {
    // Rows the band's blur reaches; rows outside the image count as zero.
    let (top, bottom) = (y0.saturating_sub(RADIUS), (y1 + RADIUS).min(height));
    let rows = bottom - top;
    let xyb = |source: &Source| -> Planes {
        let mut planes = [(); 3].map(|_| Scratch::zeroed(rows * width));
        let mut linear = [(); 3].map(|_| Scratch::zeroed(width));
        for r in 0..rows {
            source.linear_row(width, top + r, &mut linear);
            for x in 0..width {
                let p = positive_xyb([linear[0][x], linear[1][x], linear[2][x]]);
                for c in 0..3 {
                    planes[c][r * width + x] = p[c];
                }
            }
        }
        planes
    };
    let (img1, img2) = (xyb(s1), xyb(s2));
    let mut sums = Sums {
        pixels: ((y1 - y0) * width) as f64,
        ..Sums::default()
    };
    let mut padded = Scratch::<f32>::zeroed(width + 2 * RADIUS);
    // Horizontally blurred rows of mu1, mu2, sigma11, sigma22, sigma12.
    let mut horizontal = [(); 5].map(|_| Scratch::<f32>::zeroed(rows * width));
    let mut blurred = [(); 5].map(|_| Scratch::<f32>::zeroed(width));
    for c in 0..3 {
        let (p1, p2) = (&img1[c], &img2[c]);
        for r in 0..rows {
            let (row1, row2) = (&p1[r * width..][..width], &p2[r * width..][..width]);
            for (q, out) in horizontal.iter_mut().enumerate() {
                let product = &mut padded[RADIUS..RADIUS + width];
                match q {
                    0 => product.copy_from_slice(row1),
                    1 => product.copy_from_slice(row2),
                    _ => {
                        let (u, v) = [(row1, row1), (row2, row2), (row1, row2)][q - 2];
                        for ((p, &a), &b) in product.iter_mut().zip(u).zip(v) {
                            *p = a * b;
                        }
                    }
                }
                let out = &mut out[r * width..][..width];
                out.fill(0.0);
                for (k, &weight) in kernel.iter().enumerate() {
                    for (o, &v) in out.iter_mut().zip(&padded[k..k + width]) {
                        *o += weight * v;
                    }
                }
            }
        }
        for y in y0..y1 {
            for (q, out) in blurred.iter_mut().enumerate() {
                out.fill(0.0);
                for (k, &weight) in kernel.iter().enumerate() {
                    let Some(source_y) = (y + k).checked_sub(RADIUS).filter(|&sy| sy < height)
                    else {
                        continue;
                    };
                    let row = &horizontal[q][(source_y - top) * width..][..width];
                    for (o, &v) in out.iter_mut().zip(row) {
                        *o += weight * v;
                    }
                }
            }
            let r = y - top;
            let (row1, row2) = (&p1[r * width..][..width], &p2[r * width..][..width]);
            let [mu1, mu2, s11, s22, s12] = &blurred;
            let (mut ssim, mut edge) = ([0.0f64; 2], [0.0f64; 4]);
            for x in 0..width {
                let (m1, m2) = (mu1[x], mu2[x]);
                // SSIM without the luma term's denominator (libjxl's SSIM').
                const C2: f32 = 0.0009;
                let diff = m1 - m2;
                let num_m = 1.0 - diff * diff;
                let num_s = 2.0 * (s12[x] - m1 * m2) + C2;
                let denom_s = (s11[x] - m1 * m1) + (s22[x] - m2 * m2) + C2;
                let d = (1.0 - f64::from(num_m * num_s / denom_s)).max(0.0);
                ssim[0] += d;
                ssim[1] += d.powi(4);
                let d1 = (1.0 + f64::from((row2[x] - m2).abs()))
                    / (1.0 + f64::from((row1[x] - m1).abs()))
                    - 1.0;
                let (artifact, detail_lost) = (d1.max(0.0), (-d1).max(0.0));
                edge[0] += artifact;
                edge[1] += artifact.powi(4);
                edge[2] += detail_lost;
                edge[3] += detail_lost.powi(4);
            }
            for i in 0..2 {
                sums.ssim[c][i] += ssim[i];
            }
            for i in 0..4 {
                sums.edge[c][i] += edge[i];
            }
        }
    }
    sums
}

/// libjxl's trained weights over (channel, scale, norm, map).
const WEIGHT: [f64; 108] = [
    0.0,
    0.000_737_660_670_740_658_6,
    0.0,
    0.0,
    0.000_779_348_168_286_730_9,
    0.0,
    0.0,
    0.000_437_115_573_010_737_9,
    0.0,
    1.104_172_642_665_734_6,
    0.000_662_848_341_292_71,
    0.000_152_316_327_837_187_52,
    0.0,
    0.001_640_643_745_659_975_4,
    0.0,
    1.842_245_552_053_929_8,
    11.441_172_603_757_666,
    0.0,
    0.000_798_910_943_601_516_3,
    0.000_176_816_438_078_653,
    0.0,
    1.878_759_497_954_638_7,
    10.949_069_906_051_42,
    0.0,
    0.000_728_934_699_150_807_2,
    0.967_793_708_062_683_3,
    0.0,
    0.000_140_034_242_854_358_84,
    0.998_176_697_785_496_7,
    0.000_319_497_559_344_350_53,
    0.000_455_099_211_379_206_3,
    0.0,
    0.0,
    0.001_364_876_616_324_339_8,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    7.466_890_328_078_848,
    0.0,
    17.445_833_984_131_262,
    0.000_623_560_163_404_146_6,
    0.0,
    0.0,
    6.683_678_146_179_332,
    0.000_377_244_079_796_112_96,
    1.027_889_937_768_264,
    225.205_153_008_492_74,
    0.0,
    0.0,
    19.213_238_186_143_016,
    0.001_140_152_458_661_836_1,
    0.001_237_755_635_509_985,
    176.393_175_984_506_94,
    0.0,
    0.0,
    24.433_009_998_704_76,
    0.285_208_026_121_177_57,
    0.000_448_543_692_383_340_8,
    0.0,
    0.0,
    0.0,
    34.779_063_444_837_72,
    44.835_625_328_877_896,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.000_868_055_657_329_169_8,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.000_531_319_187_435_874_7,
    0.0,
    0.000_165_338_141_613_791_12,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.000_417_917_180_325_133_6,
    0.001_729_082_823_472_283_3,
    0.0,
    0.002_082_700_584_663_643_7,
    0.0,
    0.0,
    8.826_982_764_996_862,
    23.192_433_439_989_26,
    0.0,
    95.108_049_881_108_6,
    0.986_397_803_440_068_2,
    0.983_438_279_246_535_3,
    0.001_228_640_504_827_849_3,
    171.266_725_589_730_7,
    0.980_785_887_243_537_9,
    0.0,
    0.0,
    0.0,
    0.000_513_006_458_899_067_9,
    0.0,
    0.000_108_540_578_584_115_37,
];

/// The weighted sum of the 108 sub-scores, mapped to the 100-is-identical scale.
fn combine(scales: &[Sums]) -> f64 {
    let mut score = 0.0f64;
    let mut i = 0;
    for c in 0..3 {
        for s in scales {
            let n = s.pixels;
            let avg_ssim = [s.ssim[c][0] / n, (s.ssim[c][1] / n).sqrt().sqrt()];
            let avg_edge = [
                s.edge[c][0] / n,
                (s.edge[c][1] / n).sqrt().sqrt(),
                s.edge[c][2] / n,
                (s.edge[c][3] / n).sqrt().sqrt(),
            ];
            for norm in 0..2 {
                score += WEIGHT[i] * avg_ssim[norm].abs();
                score += WEIGHT[i + 1] * avg_edge[norm].abs();
                score += WEIGHT[i + 2] * avg_edge[norm + 2].abs();
                i += 3;
            }
        }
    }
    score *= 0.956_238_261_683_484_4;
    score = 6.248_496_625_763_138e-5 * score * score * score + 2.326_765_642_916_932 * score
        - 0.020_884_521_182_843_837 * score * score;
    if score > 0.0 {
        100.0 - 10.0 * score.powf(0.627_633_646_783_138_7)
    } else {
        100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A photo-like test image: smooth gradients, texture and edges.
    fn scene(width: usize, height: usize) -> Vec<u8> {
        let mut rgb = Vec::with_capacity(width * height * 3);
        for y in 0..height {
            for x in 0..width {
                let (fx, fy) = (x as f64, y as f64);
                let texture = ((fx * 0.7).sin() * (fy * 0.3).cos() * 40.0) as i32;
                let edge = if (x / 23 + y / 17) % 2 == 0 { 60 } else { 0 };
                let v = |base: f64| (base + f64::from(texture + edge)).clamp(0.0, 255.0) as u8;
                rgb.extend([v(fx * 0.5), v(fy * 0.8), v(200.0 - fx * 0.3)]);
            }
        }
        rgb
    }

    /// A distortion: quantize every sample to `step` levels, plus a blur of rows.
    fn distort(rgb: &[u8], step: u8) -> Vec<u8> {
        rgb.iter().map(|&v| (v / step) * step + step / 2).collect()
    }

    fn with_crate(a: &[u8], b: &[u8], width: usize, height: usize) -> f64 {
        use ::ssimulacra2::{ColorPrimaries, Rgb, TransferCharacteristic};
        let frame = |rgb: &[u8]| {
            let data = rgb
                .chunks_exact(3)
                .map(|p| [p[0], p[1], p[2]].map(|v| f32::from(v) / 255.0))
                .collect();
            Rgb::new(
                data,
                width,
                height,
                TransferCharacteristic::SRGB,
                ColorPrimaries::BT709,
            )
            .unwrap()
        };
        ::ssimulacra2::compute_frame_ssimulacra2(frame(a), frame(b)).unwrap()
    }

    #[test]
    fn cube_root_is_accurate() {
        assert_eq!(cube_root(0.0), 0.0);
        assert!((0.003_793_073_4f32.cbrt() - 0.155_954_2).abs() < 1e-7);
        for i in 1..=100_000 {
            let v = i as f32 / 100_000.0 * 1.2;
            let (ours, libm) = (cube_root(v), v.cbrt());
            assert!((ours - libm).abs() <= 4e-7 * libm, "{v}: {ours} vs {libm}");
        }
    }

    #[test]
    fn agrees_with_the_ssimulacra2_crate() {
        let (width, height) = (301, 203);
        let reference = scene(width, height);
        for step in [2u8, 6, 12, 24, 48] {
            let distorted = distort(&reference, step);
            let ours = ssimulacra2(&reference, &distorted, width, height).unwrap();
            let theirs = with_crate(&reference, &distorted, width, height);
            assert!(
                (ours - theirs).abs() <= 0.005 * theirs.abs().max(10.0),
                "step {step}: ours {ours:.4}, crate {theirs:.4}"
            );
        }
        assert_eq!(
            ssimulacra2(&reference, &reference, width, height).unwrap(),
            100.0
        );
    }
}
