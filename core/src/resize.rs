//! Resizing: fit modes, and Lanczos3 resampling through fast_image_resize
//! (SIMD; alpha premultiplied while resampling; 16-bit stays 16-bit).

use crate::error::{Error, Result};
use crate::pixels::{Image, Layout, Samples};
use fast_image_resize::images::{Image as FirImage, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

/// How a resize box is filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fit {
    /// Keep the aspect ratio; the result fits inside the box.
    #[default]
    Inside,
    /// Keep the aspect ratio; the result fits inside the box and is centred
    /// on a canvas of the whole box, filled with the background (letterboxed).
    Contain,
    /// Keep the aspect ratio; the result covers the box and is center-cropped to it.
    Cover,
    /// Stretch to exactly the box.
    Exact,
}

/// The sizes a resize produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResizePlan {
    /// The size the whole image is scaled to (before a `cover` crop).
    pub scaled: (u32, u32),
    /// The final size.
    pub output: (u32, u32),
}

/// Works out the sizes for a `target` box over an image of `width x height`.
/// `None` when nothing would change. Fails with [`Error::LimitExceeded`] when
/// either size is above `max_pixels`: the output passes the same limit as the
/// input, before anything is allocated.
pub(crate) fn plan(
    width: u32,
    height: u32,
    target: (Option<u32>, Option<u32>),
    fit: Fit,
    enlarge: bool,
    max_pixels: u64,
) -> Result<Option<ResizePlan>> {
    let plan = plan_unchecked(width, height, target, fit, enlarge);
    if let Some(plan) = plan {
        for (what, (w, h)) in [
            ("resize output size", plan.output),
            ("resize scaled size", plan.scaled),
        ] {
            Error::check_pixels(what, w.into(), h.into(), max_pixels)?;
        }
    }
    Ok(plan)
}

fn plan_unchecked(
    width: u32,
    height: u32,
    target: (Option<u32>, Option<u32>),
    fit: Fit,
    enlarge: bool,
) -> Option<ResizePlan> {
    let (w, h) = (f64::from(width), f64::from(height));
    let sx = target.0.map(|t| f64::from(t) / w);
    let sy = target.1.map(|t| f64::from(t) / h);
    let side = |v: f64| (v.round() as u32).max(1);
    let plan = match (fit, sx, sy) {
        (Fit::Exact, _, _) => {
            let output = (target.0.unwrap_or(width), target.1.unwrap_or(height));
            ResizePlan {
                scaled: output,
                output,
            }
        }
        (Fit::Cover, Some(sx), Some(sy)) => {
            let scale = sx.max(sy);
            let scale = if enlarge { scale } else { scale.min(1.0) };
            let scaled = (side(w * scale), side(h * scale));
            let output = (
                target.0.unwrap_or(width).min(scaled.0),
                target.1.unwrap_or(height).min(scaled.1),
            );
            ResizePlan { scaled, output }
        }
        (_, sx, sy) => {
            let scale = sx.unwrap_or(f64::INFINITY).min(sy.unwrap_or(f64::INFINITY));
            let scale = if enlarge { scale } else { scale.min(1.0) };
            let scaled = (side(w * scale), side(h * scale));
            let output = match fit {
                Fit::Contain => (target.0.unwrap_or(scaled.0), target.1.unwrap_or(scaled.1)),
                _ => scaled,
            };
            ResizePlan { scaled, output }
        }
    };
    (plan.output != (width, height) || plan.scaled != (width, height)).then_some(plan)
}

fn pixel_type(layout: Layout, sixteen: bool) -> PixelType {
    match (layout, sixteen) {
        (Layout::Gray, false) => PixelType::U8,
        (Layout::GrayAlpha, false) => PixelType::U8x2,
        (Layout::Rgb, false) => PixelType::U8x3,
        (Layout::Rgba, false) => PixelType::U8x4,
        (Layout::Gray, true) => PixelType::U16,
        (Layout::GrayAlpha, true) => PixelType::U16x2,
        (Layout::Rgb, true) => PixelType::U16x3,
        (Layout::Rgba, true) => PixelType::U16x4,
    }
}

/// The part of a `source`-sized image that a resize to `output` by `fit`
/// reads, as left, top, width, height: for `cover` the centre cropped to the
/// output's aspect ratio; otherwise all of it, stretched where the aspect
/// ratios differ (`exact`; `inside` and `contain` differ by a rounding).
fn source_box(source: (u32, u32), output: (u32, u32), fit: Fit) -> (f64, f64, f64, f64) {
    if fit != Fit::Cover {
        return (0.0, 0.0, f64::from(source.0), f64::from(source.1));
    }
    let crop = fast_image_resize::CropBox::fit_src_into_dst_size(
        source.0,
        source.1,
        output.0,
        output.1,
        Some((0.5, 0.5)),
    );
    (crop.left, crop.top, crop.width, crop.height)
}

/// Resamples `image` to `output` with Lanczos3, reading the part
/// [`source_box`] gives for `fit` (for `cover`, the centre cropped to the
/// output's aspect ratio).
pub(crate) fn resize(image: &Image, output: (u32, u32), fit: Fit) -> Result<Image> {
    let fail = |e: &dyn std::fmt::Display| Error::Internal(format!("resize: {e}"));
    let (bytes, sixteen): (&[u8], bool) = match &image.samples {
        Samples::U8(d) => (d, false),
        Samples::U16(d) => (bytemuck::cast_slice(d), true),
    };
    let pt = pixel_type(image.layout, sixteen);
    let src = ImageRef::new(image.width, image.height, bytes, pt).map_err(|e| fail(&e))?;
    let out_bytes = output.0 as usize * output.1 as usize * pt.size();
    let mut dst = FirImage::from_vec_u8(
        output.0,
        output.1,
        crate::buffer_pool::zeroed(out_bytes),
        pt,
    )
    .map_err(|e| fail(&e))?;
    let (left, top, width, height) = source_box((image.width, image.height), output, fit);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .crop(left, top, width, height);
    crate::parallel::run(|| Resizer::new().resize(&src, &mut dst, &options))
        .map_err(|e| fail(&e))?;
    let out = dst.into_vec();
    if sixteen {
        let mut samples = crate::buffer_pool::take(out.len() / 2);
        samples.extend(
            out.chunks_exact(2)
                .map(|b| u16::from_ne_bytes([b[0], b[1]])),
        );
        crate::buffer_pool::give(out);
        Image::from_u16(output.0, output.1, image.layout, samples)
    } else {
        Image::from_u8(output.0, output.1, image.layout, out)
    }
}

/// Lanczos3's support in source pixels at a scale of 1.
const LANCZOS3_SUPPORT: f64 = 3.0;

/// A resize of 8-bit pixels done band of rows by band of rows, each band from
/// only the source rows it needs, so that the bands of the output can be
/// made as the source rows arrive (from a decoder) and on different threads.
/// Every band is resampled with the whole image's crop and scale, so the
/// bands put together are the whole-image [`resize`], but for rounding: the
/// filter weights are computed from the band's offset and turned into fixed
/// point for the band's rows, so a sample may differ where a weight rounds
/// the other way (in the unit test's noise image, under 1% of the samples,
/// by one level, or two after an enlargement's two passes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bands {
    /// The source's width and height.
    source: (u32, u32),
    /// The output's width and height.
    output: (u32, u32),
    layout: Layout,
    /// The part of the source resampled, as [`resize`] crops it to the
    /// output's aspect ratio: left, top, width, height.
    crop: (f64, f64, f64, f64),
}

impl Bands {
    /// A resize of `layout` pixels from `source` to `output` (width, height) by `fit`.
    pub(crate) fn new(source: (u32, u32), output: (u32, u32), layout: Layout, fit: Fit) -> Bands {
        Bands {
            source,
            output,
            layout,
            crop: source_box(source, output, fit),
        }
    }

    /// Source rows per output row.
    fn scale(&self) -> f64 {
        self.crop.3 / f64::from(self.output.1)
    }

    /// The source rows (`start..end`) that output rows `first..first + count`
    /// are computed from.
    pub(crate) fn source_rows(&self, first: u32, count: u32) -> (u32, u32) {
        let scale = self.scale();
        let radius = LANCZOS3_SUPPORT * scale.max(1.0);
        let top = self.crop.1 + f64::from(first) * scale;
        let bottom = self.crop.1 + f64::from(first + count) * scale;
        // One row more each way than the filter reaches, against rounding.
        let start = (top - radius).floor() - 1.0;
        let end = (bottom + radius).ceil() + 1.0;
        (
            start.max(0.0) as u32,
            end.min(f64::from(self.source.1)) as u32,
        )
    }

    /// Output rows `first..first + count` from `rows`, the whole source rows
    /// from `start` on (at least those [`Bands::source_rows`] names).
    pub(crate) fn resize(
        &self,
        rows: &[u8],
        start: u32,
        first: u32,
        count: u32,
    ) -> Result<Vec<u8>> {
        let fail = |e: &dyn std::fmt::Display| Error::Internal(format!("resize: {e}"));
        let pt = pixel_type(self.layout, false);
        let row_len = self.source.0 as usize * pt.size();
        let source_rows = (rows.len() / row_len) as u32;
        let src = ImageRef::new(
            self.source.0,
            source_rows,
            &rows[..source_rows as usize * row_len],
            pt,
        )
        .map_err(|e| fail(&e))?;
        let out_bytes = self.output.0 as usize * count as usize * pt.size();
        let mut dst = FirImage::from_vec_u8(
            self.output.0,
            count,
            crate::buffer_pool::zeroed(out_bytes),
            pt,
        )
        .map_err(|e| fail(&e))?;
        let scale = self.scale();
        let (left, top, width, _) = self.crop;
        let band_top = (top + f64::from(first) * scale - f64::from(start)).max(0.0);
        // Within the rows given, should rounding put the last band's bottom a hair below them.
        let band_height = (f64::from(count) * scale).min(f64::from(source_rows) - band_top);
        let options = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
            .crop(left, band_top, width, band_height);
        Resizer::new()
            .resize(&src, &mut dst, &options)
            .map_err(|e| fail(&e))?;
        Ok(dst.into_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_keeps_aspect_and_never_enlarges_by_default() {
        let p = plan_unchecked(2725, 2225, (Some(720), Some(588)), Fit::Inside, false).unwrap();
        assert_eq!(p.output, (720, 588));
        let p = plan_unchecked(2000, 1000, (Some(500), Some(500)), Fit::Inside, false).unwrap();
        assert_eq!(p.output, (500, 250));
        assert_eq!(
            plan_unchecked(100, 50, (Some(500), None), Fit::Inside, false),
            None
        );
        assert_eq!(
            plan_unchecked(100, 50, (Some(200), None), Fit::Inside, true)
                .unwrap()
                .output,
            (200, 100)
        );
    }

    #[test]
    fn cover_fills_the_box_then_crops() {
        let p = plan_unchecked(2000, 1000, (Some(500), Some(500)), Fit::Cover, false).unwrap();
        assert_eq!(p.scaled, (1000, 500));
        assert_eq!(p.output, (500, 500));
    }

    #[test]
    fn an_output_above_the_pixel_limit_is_refused_before_allocating() {
        let refused = plan(
            16,
            16,
            (Some(60000), Some(60000)),
            Fit::Exact,
            false,
            100_000_000,
        );
        assert!(matches!(
            refused,
            Err(Error::LimitExceeded {
                pixels: 3_600_000_000,
                ..
            })
        ));
        let enlarged = plan(10, 10, (Some(20000), None), Fit::Inside, true, 100_000_000);
        assert!(matches!(enlarged, Err(Error::LimitExceeded { .. })));
        assert!(plan(16, 16, (Some(8), None), Fit::Inside, false, 64).is_ok());
    }

    #[test]
    fn bands_put_together_are_the_whole_resize() {
        // A gradient with detail, so that every filter weight matters.
        let (w, h) = (301u32, 517u32);
        let data: Vec<u8> = (0..w * h * 3)
            .map(|i| ((i * 7919) % 251 + (i / (w * 3)) % 5) as u8)
            .collect();
        let img = Image::from_u8(w, h, Layout::Rgb, data.clone()).unwrap();
        let cases = [(150, 258), (149, 200), (97, 300), (640, 1100)];
        for (output, fit) in cases
            .into_iter()
            .flat_map(|o| [(o, Fit::Cover), (o, Fit::Exact)])
        {
            let whole = resize(&img, output, fit).unwrap();
            let Samples::U8(ref whole) = whole.samples else {
                unreachable!()
            };
            let bands = Bands::new((w, h), output, Layout::Rgb, fit);
            let row_len = w as usize * 3;
            let mut joined = Vec::new();
            for first in (0..output.1).step_by(37) {
                let count = 37.min(output.1 - first);
                let (start, end) = bands.source_rows(first, count);
                let rows = &data[start as usize * row_len..end as usize * row_len];
                joined.extend(bands.resize(rows, start, first, count).unwrap());
            }
            assert_eq!(joined.len(), whole.len());
            let off = joined.iter().zip(whole).filter(|(a, b)| a != b).count();
            let worst = joined
                .iter()
                .zip(whole)
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap();
            assert!(worst <= 2, "{output:?}: a sample off by {worst}");
            assert!(off * 100 <= whole.len(), "{output:?}: {off} samples differ");
        }
    }

    #[test]
    fn resamples_flat_color_exactly() {
        let img = Image::from_u8(8, 8, Layout::Rgba, [10u8, 20, 30, 255].repeat(64)).unwrap();
        let out = resize(&img, (3, 5), Fit::Exact).unwrap();
        assert_eq!((out.width, out.height), (3, 5));
        assert_eq!(out.samples, Samples::U8([10u8, 20, 30, 255].repeat(15)));
    }
}
