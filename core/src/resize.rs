//! Resizing: fit modes, and Lanczos3 resampling through fast_image_resize
//! (SIMD; alpha premultiplied while resampling; 16-bit stays 16-bit).

use crate::error::{Error, Result};
use crate::options::Fit;
use crate::pixels::{Image, Layout, Samples};
use fast_image_resize::images::{Image as FirImage, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

/// The sizes a resize produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResizePlan {
    /// The size the whole image is scaled to (before a `cover` crop).
    pub scaled: (u32, u32),
    /// The final size.
    pub output: (u32, u32),
}

/// Works out the sizes for a `target` box over an image of `width x height`.
/// `None` when nothing would change.
pub(crate) fn plan(
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
            ResizePlan {
                scaled,
                output: scaled,
            }
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

/// Resamples `image` to `output` with Lanczos3. For `cover`, the source is
/// center-cropped to the output's aspect ratio first.
pub(crate) fn resize(image: &Image, output: (u32, u32)) -> Result<Image> {
    let fail = |e: &dyn std::fmt::Display| Error::Internal(format!("resize: {e}"));
    let (bytes, sixteen): (&[u8], bool) = match &image.samples {
        Samples::U8(d) => (d, false),
        Samples::U16(d) => (bytemuck::cast_slice(d), true),
    };
    let pt = pixel_type(image.layout, sixteen);
    let src = ImageRef::new(image.width, image.height, bytes, pt).map_err(|e| fail(&e))?;
    let out_bytes = output.0 as usize * output.1 as usize * pt.size();
    let mut dst = FirImage::from_vec_u8(output.0, output.1, crate::pool::zeroed(out_bytes), pt)
        .map_err(|e| fail(&e))?;
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .fit_into_destination(Some((0.5, 0.5)));
    crate::parallel::run(|| Resizer::new().resize(&src, &mut dst, &options))
        .map_err(|e| fail(&e))?;
    let out = dst.into_vec();
    if sixteen {
        let mut samples = crate::pool::take(out.len() / 2);
        samples.extend(
            out.chunks_exact(2)
                .map(|b| u16::from_ne_bytes([b[0], b[1]])),
        );
        crate::pool::give(out);
        Image::from_u16(output.0, output.1, image.layout, samples)
    } else {
        Image::from_u8(output.0, output.1, image.layout, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_keeps_aspect_and_never_enlarges_by_default() {
        let p = plan(2725, 2225, (Some(720), Some(588)), Fit::Inside, false).unwrap();
        assert_eq!(p.output, (720, 588));
        let p = plan(2000, 1000, (Some(500), Some(500)), Fit::Inside, false).unwrap();
        assert_eq!(p.output, (500, 250));
        assert_eq!(plan(100, 50, (Some(500), None), Fit::Inside, false), None);
        assert_eq!(
            plan(100, 50, (Some(200), None), Fit::Inside, true)
                .unwrap()
                .output,
            (200, 100)
        );
    }

    #[test]
    fn cover_fills_the_box_then_crops() {
        let p = plan(2000, 1000, (Some(500), Some(500)), Fit::Cover, false).unwrap();
        assert_eq!(p.scaled, (1000, 500));
        assert_eq!(p.output, (500, 500));
    }

    #[test]
    fn resamples_flat_color_exactly() {
        let img = Image::from_u8(8, 8, Layout::Rgba, [10u8, 20, 30, 255].repeat(64)).unwrap();
        let out = resize(&img, (3, 5)).unwrap();
        assert_eq!((out.width, out.height), (3, 5));
        assert_eq!(out.samples, Samples::U8([10u8, 20, 30, 255].repeat(15)));
    }
}
